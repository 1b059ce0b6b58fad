"""The live suite of omero_group/omero_user/omero_script, run by the unit stage of ``make test``.

Every test of tests/integration/omero/test_omero_modules_live.py is collected here too
(the functions and the ``run`` fixture are imported from that file; only ``conn_args``,
the server to talk to, is this module's):

- OMERO_TEST_HOST unset: against the OMERO.server STAND-IN (tests/images/omero-server),
  started for this module with PostgreSQL by tests/images/omero-server/standin_service.py
  (random ``omero-standin-svc-<hex>`` names, its router port published on 127.0.0.1,
  both containers and the network removed at the end). Skipped, with the reason, only
  when no Docker engine answers.
- OMERO_TEST_HOST set (and OMERO_TEST_PASSWORD, OMERO_TEST_PORT, OMERO_TEST_USER, as for
  the live suite): against that real server, exactly as the live suite runs there.

The first tests here need no server: they check that the unit tests' fake omero-py
server (tests/helpers/fake_omero.py) takes its rules from the stand-in's rules.py.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
LIVE_SUITE = REPO_ROOT / "tests" / "integration" / "omero" / "test_omero_modules_live.py"
FAKE = REPO_ROOT / "tests" / "helpers" / "fake_omero.py"
HERE_IMAGE = REPO_ROOT / "tests" / "images" / "omero-server"
for _path in (HERE_IMAGE, HERE_IMAGE / "standin"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import standin_service  # noqa: E402 - tests/images/omero-server/standin_service.py
from omero_standin import rules  # noqa: E402 - the stand-in's pure rules (no Ice, no database)


def _load_live_suite():
    spec = importlib.util.spec_from_file_location("omero_modules_live_suite", LIVE_SUITE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_live = _load_live_suite()
run = _live.run  # the live suite's fixture: runs a module's main() with conn_args
LIVE_TESTS = sorted(name for name in vars(_live) if name.startswith("test_"))
# marked here (the live suite's own file stays unmarked): they need the stand-in, or OMERO_TEST_*
globals().update({name: pytest.mark.omero_server(pytest.mark.docker(getattr(_live, name))) for name in LIVE_TESTS})


@pytest.fixture(scope="module")
def conn_args():
    """The server the live tests talk to: OMERO_TEST_* when set, else a fresh stand-in."""
    if os.environ.get("OMERO_TEST_HOST"):
        if not os.environ.get("OMERO_TEST_PASSWORD"):
            pytest.skip(_live.REASON)
        yield {
            "host": os.environ["OMERO_TEST_HOST"],
            "port": int(os.environ.get("OMERO_TEST_PORT", "4064")),
            "user": os.environ.get("OMERO_TEST_USER", "root"),
            "password": os.environ["OMERO_TEST_PASSWORD"],
        }
        return
    problem = standin_service.engine_problem()
    if problem:
        pytest.skip("OMERO_TEST_HOST is not set and the OMERO.server stand-in cannot run: " + problem)
    with standin_service.running() as server:
        _STANDIN.update(server)
        yield {key: server[key] for key in ("host", "port", "user", "password")}


# The running stand-in of conn_args (empty against a real server).
_STANDIN = {}


@pytest.mark.docker
@pytest.mark.omero_server
def test_a_read_only_standin_logs_in_and_refuses_writes(conn_args, run):
    """The stand-in honours omero.cluster.read_only.db/.repo (issue 13's read-only servers):
    on the read-write server's database it accepts logins, creates and registers nothing,
    and a write (omero_group creating a group) fails."""
    if not _STANDIN:
        pytest.skip("a real server (OMERO_TEST_HOST): no stand-in to start a read-only copy of")
    ro = standin_service.start_read_only(_STANDIN)
    logs = standin_service.docker("logs", ro["container"])
    assert "Database schema exists: left as it is" in logs
    assert "Read-only server: database read-only, repository read-only" in logs
    omero_group = _live._modules()[0]
    groups = {"groups": [{"name": "ro-refused-group", "permissions": "private"}]}
    # Reads work on the read-only server (check mode: the group would be created).
    ro_conn = dict(conn_args, host=ro["host"], port=ro["port"])
    assert run(omero_group, groups, check=True, connection=ro_conn)["created"] == ["ro-refused-group"]
    result = run(omero_group, groups, connection=ro_conn)
    assert result.get("failed") and "read-only" in result["msg"], result
    # Nothing was written: the read-write server would still create it.
    assert run(omero_group, groups, check=True)["created"] == ["ro-refused-group"]


# ----------------------------------------------------------------- one set of rules


def test_live_suite_is_collected_here():
    assert len(LIVE_TESTS) >= 10 and "test_users" in LIVE_TESTS, LIVE_TESTS


def test_fake_server_uses_the_standin_rules():
    fake = sys.modules.get("fake_omero")
    if fake is None:
        spec = importlib.util.spec_from_file_location("fake_omero", FAKE)
        fake = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(fake)
    assert fake.rules is rules


def _code_without_docstrings(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            body[0] = ast.Pass()
    return ast.unparse(tree)


@pytest.mark.parametrize(
    "path",
    [FAKE] + sorted(p for p in (HERE_IMAGE / "standin" / "omero_standin").glob("*.py") if p.name != "rules.py"),
    ids=lambda p: p.name,
)
def test_no_server_rule_is_restated_outside_rules_py(path):
    """Refusal texts live in rules.py only; the fake and the stand-in raise what rules.py says."""
    source = _code_without_docstrings(path)
    restated = (
        "Cannot set default group", "Password check failed", "only the 'user' group", "may not be removed",
        "no default group set", "No such group", "No such experimenter", "Path already exists",
        "internal server error", "hexdigest", "startswith('AdminPrivilege",
    )  # fmt: skip
    for text in restated:
        assert text not in source, "%s restates a server rule (%r): call rules.py instead" % (path.name, text)


def test_admin_privileges_are_omero_pys():
    """rules.ADMIN_PRIVILEGES is OMERO 5.6's LightAdminPrivileges, as omero-py names them."""
    import omero.model

    enums = {v for k, v in vars(omero.model.enums).items() if k.startswith("AdminPrivilege")}
    assert set(rules.ADMIN_PRIVILEGES) == enums


def test_write_privileges_name_known_privileges_and_omero_py_methods():
    import omero.api

    for operation, privilege in rules.WRITE_PRIVILEGES.items():
        needed = privilege[1] if isinstance(privilege, tuple) else privilege
        assert needed in rules.ADMIN_PRIVILEGES, operation
        scripts = operation in ("uploadOfficialScript", "editScript", "deleteScript")
        assert hasattr(omero.api.IScriptPrx if scripts else omero.api.IAdminPrx, operation), operation


def test_membership_order_rules():
    assert rules.memberships_for_new_user(3, [4, 3, 1]) == [3, 4, 1]
    assert rules.with_default_group(7, [3, 4, 1], 4) == [4, 3, 1]
    with pytest.raises(rules.RuleError, match="Group 9 was not found for user 7"):
        rules.with_default_group(7, [3, 4, 1], 9)
    # removing the default group is allowed: the next group becomes the default
    assert rules.after_remove_groups([3, 4, 1], [3]) == [4, 1]
    with pytest.raises(rules.RuleError, match="themselves"):
        rules.check_remove_groups(5, [3, 0, 1], [0], acting_user_id=5)


def test_login_and_script_rules():
    stored = rules.hash_password("pw", iterations=1000)
    rules.check_login("jsmith", stored, "pw", [3, rules.USER_GROUP_ID])
    for password, groups in (("wrong", [3, rules.USER_GROUP_ID]), ("pw", [3])):
        with pytest.raises(rules.RuleError, match="Password check failed for 'jsmith'") as refused:
            rules.check_login("jsmith", stored, password, groups)
        assert refused.value.kind == "PermissionDeniedException"
    assert rules.check_new_script("site//A.py", {"/other/B.py"}) == "/site/A.py"
    with pytest.raises(rules.RuleError, match="Path already exists"):
        rules.check_new_script("/site/A.py", {"/site/A.py"})
    with pytest.raises(rules.RuleError, match="not a .py file"):
        rules.check_new_script("/site/A.txt", set())
    assert not rules.listed_script("/omero/a/", "__init__.py") and rules.listed_script("/omero/a/", "B.py")
    rules.check_write("changeUserPassword", False, [], self_target=True)
    with pytest.raises(rules.RuleError, match="Admins only"):
        rules.check_write("changeUserPassword", False, [], self_target=False)
    with pytest.raises(rules.RuleError, match="needs ModifyGroup"):
        rules.check_write("createGroup", True, ["ModifyUser"])
