"""PostgreSQL password verifiers: the pg_verifier_matches / pg_scram_verifier filters and
plugins/module_utils/pg_scram.py, against verifiers a real PostgreSQL produced.

pg_verifiers.json was recorded by record_pg_verifiers.py (beside this file) from
omero-stack-test/postgres:17: ASCII passwords, passwords SASLprep maps or refuses (then
PostgreSQL hashes the raw bytes), a raised scram_iterations, and an md5 verifier. The
same script checked that verifiers computed here are stored as given by ALTER ROLE and
accept a real password login; tests/integration/images/test_pg_password_live.py repeats
that against a PostgreSQL container.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.omero_docker.stack.plugins.filter.pg_password import FilterModule
from ansible_collections.omero_docker.stack.plugins.filter.redact_secrets import FilterModule as RedactFilters
from ansible_collections.omero_docker.stack.plugins.module_utils import pg_scram

HERE = Path(__file__).resolve().parent
RECORDED = json.loads((HERE / "pg_verifiers.json").read_text())
FILTERS = FilterModule().filters()
matches = FILTERS["pg_verifier_matches"]
scram_verifier = FILTERS["pg_scram_verifier"]
redact = RedactFilters().filters()["redact_secrets"]


def _ids(records):
    return [r["case"] for r in records]


@pytest.mark.parametrize("record", RECORDED["verifiers"], ids=_ids(RECORDED["verifiers"]))
def test_recorded_verifier_matches_its_password(record):
    assert matches(record["verifier"], record["password"], record["user"]) is True


@pytest.mark.parametrize("record", RECORDED["verifiers"], ids=_ids(RECORDED["verifiers"]))
def test_recorded_verifier_refuses_other_passwords(record):
    for other in (record["password"] + "x", record["password"][:-1], "", record["password"].upper() + "!"):
        if other != record["password"]:
            assert matches(record["verifier"], other, record["user"]) is False


def _recorded(case):
    return next(r for r in RECORDED["verifiers"] if r["case"] == case)


def test_saslprep_is_applied_where_postgresql_applies_it():
    # ligature, no-break space and soft hyphen: PostgreSQL hashed the SASLprep form.
    mapped = _recorded("saslprep_mapped")
    assert matches(mapped["verifier"], "fi caf\u00e9!") is True
    # a control character after a non-ASCII one: SASLprep refuses it, PostgreSQL hashed the raw bytes.
    prohibited = _recorded("saslprep_prohibited")
    assert pg_scram.saslprep(prohibited["password"]) is None
    assert matches(prohibited["verifier"], "cafe\u0301\u0007") is False  # its NFC/NFKC twin is another password
    # pure ASCII is used as is, control characters included
    assert pg_scram.saslprep("tab\there\x01") == "tab\there\x01"
    assert pg_scram.saslprep("\u05d0a") is None  # RandALCat with LCat
    assert pg_scram.saslprep("smile \U0001f642") is None  # unassigned in Unicode 3.2


def test_iterations_are_read_from_the_verifier():
    record = _recorded("iterations_10000")
    assert record["verifier"].startswith("SCRAM-SHA-256$10000:")
    assert matches(record["verifier"], record["password"]) is True


def test_md5_needs_the_role_name():
    record = _recorded("md5")
    assert record["verifier"].startswith("md5")
    assert matches(record["verifier"], record["password"], "another_role") is False
    with pytest.raises(AnsibleFilterError, match="role's name"):
        matches(record["verifier"], record["password"])


@pytest.mark.parametrize("verifier", ["", None, "plaintext", "SCRAM-SHA-256$4096:abc$def:ghi", "md5xyz",
                                      "SCRAM-SHA-256$0:c2FsdA==$" + "A" * 43 + "=:" + "A" * 43 + "="])
def test_no_or_unknown_verifier_matches_nothing(verifier):
    assert matches(verifier, "anything", "omero") is False


def test_trailing_newline_of_psql_output_is_ignored():
    record = _recorded("ascii")
    assert matches(record["verifier"] + "\n", record["password"]) is True


def test_computed_verifier_has_postgresql_format_and_round_trips():
    verifier = scram_verifier("correct horse battery staple")
    assert pg_scram.verifier_kind(verifier) == "scram-sha-256"
    iterations, salt, _stored, _server = pg_scram.parse_scram(verifier)
    assert iterations == 4096 and len(salt) == 16
    assert matches(verifier, "correct horse battery staple") is True
    assert matches(verifier, "correct horse battery stapl") is False
    # a new random salt each time
    assert scram_verifier("correct horse battery staple") != verifier


def test_computed_verifier_equals_postgresql_for_the_same_salt_and_iterations():
    for record in RECORDED["verifiers"]:
        if pg_scram.verifier_kind(record["verifier"]) != "scram-sha-256":
            continue
        iterations, salt, _stored, _server = pg_scram.parse_scram(record["verifier"])
        computed = scram_verifier(record["password"], salt=base64.b64encode(salt).decode(), iterations=iterations)
        assert computed == record["verifier"], record["case"]


def test_bad_inputs_are_refused():
    with pytest.raises(AnsibleFilterError, match="salt"):
        scram_verifier("pw", salt="not base64!")
    with pytest.raises(AnsibleFilterError, match="iterations"):
        scram_verifier("pw", iterations=0)
    with pytest.raises(AnsibleFilterError, match="string"):
        matches("md5" + "0" * 32, 42, "omero")


def test_redact_secrets_blanks_every_value_longest_first():
    values = {"a": "s3cret", "b": "s3cret-longer", "c": "", "d": None}
    text = "x s3cret-longer y s3cret z"
    assert redact(text, values) == "x ******** y ******** z"
    assert redact(text, ["s3cret"]) == "x ********-longer y ******** z"
    assert redact(None, values) == ""
    with pytest.raises(AnsibleFilterError):
        redact(text, "s3cret")


def test_recording_includes_real_logins_with_computed_verifiers():
    logins = RECORDED["computed_verifier_logins"]
    assert logins and all(item["login"] and item["stored_as_given"] for item in logins)
