"""omero_group against the FAKE OMERO.server (autospecced omero-py proxies)."""

from __future__ import annotations

import pytest
from ansible_collections.omero_docker.stack.plugins.modules import omero_group

from tests.helpers.omero_test_helpers import ModuleFail

GROUPS = [
    {"name": "facility", "permissions": "read-annotate", "description": "Shared"},
    {"name": "lab", "permissions": "private"},
]


def test_creates_missing_groups_then_is_idempotent(server, run_module):
    result = run_module(omero_group, {"groups": GROUPS})
    assert result["changed"] is True
    assert result["created"] == ["facility", "lab"]
    assert server.perms_of("facility") == "rwra--"
    assert server.perms_of("lab") == "rw----"
    assert server.groups["facility"].getDescription().getValue() == "Shared"
    writes = len(server.writes)
    again = run_module(omero_group, {"groups": GROUPS})
    assert again["changed"] is False
    assert again["created"] == again["updated"] == []
    assert len(server.writes) == writes


def test_permission_change_uses_chmod2(server, run_module):
    server.add_group("lab", "rw----")
    result = run_module(omero_group, {"groups": [{"name": "lab", "permissions": "read-write"}]}, diff=True)
    assert result["changed"] is True
    assert result["updated"] == ["lab"]
    assert server.perms_of("lab") == "rwrw--"
    assert server.writes == [("Chmod2", "lab", "rwrw--")]
    assert result["diff"]["before"]["groups"][0]["permissions"] == "private"
    assert result["diff"]["after"]["groups"][0]["permissions"] == "read-write"


def test_downgrade_to_read_only(server, run_module):
    server.add_group("lab", "rwra--")
    result = run_module(omero_group, {"groups": [{"name": "lab", "permissions": "read-only"}]})
    assert result["updated"] == ["lab"]
    assert server.perms_of("lab") == "rwr---"


def test_check_mode_reports_without_changing(server, run_module):
    server.add_group("lab", "rw----")
    result = run_module(
        omero_group,
        {"groups": [{"name": "lab", "permissions": "read-only"}, {"name": "new", "permissions": "read-write"}]},
        check=True,
        diff=True,
    )
    assert result["changed"] is True
    assert result["created"] == ["new"]
    assert result["updated"] == ["lab"]
    assert server.writes == []
    assert "new" not in server.groups
    assert server.perms_of("lab") == "rw----"


def test_description_only_update(server, run_module):
    server.add_group("lab", "rw----", description="old")
    result = run_module(omero_group, {"groups": [{"name": "lab", "description": "new"}]})
    assert result["updated"] == ["lab"]
    assert server.writes == [("updateGroup", "lab")]
    assert server.groups["lab"].getDescription().getValue() == "new"


def test_server_refusal_is_a_clear_failure(server, run_module):
    server.add_group("lab", "rwrw--")
    server.refuse_chmod = True
    with pytest.raises(ModuleFail) as failed:
        run_module(omero_group, {"groups": [{"name": "lab", "permissions": "private"}]})
    assert "OMERO refused a group change" in failed.value.result["msg"]
    assert "data of different users is linked" in failed.value.result["msg"]
    assert "Traceback" not in str(failed.value.result)


def test_duplicate_names_fail_before_connecting(server, run_module):
    with pytest.raises(ModuleFail, match="more than once"):
        run_module(omero_group, {"groups": [{"name": "a"}, {"name": "a"}]})
    assert server.clients == []


def test_permission_string_and_perms_alias(server, run_module):
    result = run_module(omero_group, {"groups": [{"name": "imaging-facility", "perms": "rwr---"}]})
    assert result["created"] == ["imaging-facility"]
    assert server.perms_of("imaging-facility") == "rwr---"
    assert result["groups"][0]["permissions"] == "read-only"


def test_unknown_permission_fails_before_connecting(server, run_module):
    with pytest.raises(ModuleFail, match="unknown group permission level 'rwxrwx'"):
        run_module(omero_group, {"groups": [{"name": "x", "permissions": "rwxrwx"}]})
    assert server.clients == []


def test_permissions_not_given_leave_an_existing_group_unchanged(server, run_module):
    """Listing {name: lab} must not downgrade a read-annotate group to private."""
    server.add_group("lab", "rwra--", description="Smith lab")
    result = run_module(omero_group, {"groups": [{"name": "lab"}]}, diff=True)
    assert result["changed"] is False
    assert server.writes == []
    assert server.perms_of("lab") == "rwra--"
    assert result["groups"][0]["permissions"] == "read-annotate"
    assert result["diff"]["before"] == result["diff"]["after"]


def test_new_group_without_permissions_is_private(server, run_module):
    result = run_module(omero_group, {"groups": [{"name": "lab"}]})
    assert result["created"] == ["lab"]
    assert server.perms_of("lab") == "rw----"
    assert result["groups"][0]["permissions"] == "private"


@pytest.mark.parametrize("name", ["system", "user", "guest"])
def test_builtin_groups_are_refused_before_connecting(server, run_module, name):
    with pytest.raises(ModuleFail, match="group %s is built into OMERO" % name):
        run_module(omero_group, {"groups": [{"name": name, "permissions": "read-only"}]})
    assert server.clients == []
    assert server.perms_of(name) in ("rw----", "rwr---")


def test_chmod_waits_longer_than_120_s(server, run_module):
    """A Chmod2 that takes 10 minutes on a large group completes within the default wait."""
    server.add_group("big", "rw----")
    server.chmod_seconds = 600
    result = run_module(omero_group, {"groups": [{"name": "big", "permissions": "read-only"}]})
    assert result["updated"] == ["big"]
    assert server.perms_of("big") == "rwr---"


def test_chmod_still_running_at_the_limit_is_reported_as_such(server, run_module):
    server.add_group("big", "rw----")
    server.chmod_seconds = 7200
    with pytest.raises(ModuleFail) as failed:
        run_module(omero_group, {"groups": [{"name": "big", "permissions": "read-only"}], "chmod_timeout": 900})
    result = failed.value.result
    assert result["error_kind"] == "still_running"
    assert "still running on the server after chmod_timeout=900 s" in result["msg"]
    assert "the server carries on" in result["msg"]
    assert result["changed"] is True and result["updated"] == ["big"]
    assert server.chmod_waits == [900.0]
