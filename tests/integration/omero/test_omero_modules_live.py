"""Integration tests of omero_group, omero_user and omero_script against an OMERO.server.

Against a REAL server, selected by environment variables naming a server an
administrator may change:

    OMERO_TEST_HOST       host name of the server (required; unset: every test here is skipped)
    OMERO_TEST_PORT       SSL router port (default 4064)
    OMERO_TEST_USER       administrator to log in as (default root)
    OMERO_TEST_PASSWORD   its password (required)

    OMERO_TEST_HOST=omero.test.example.org OMERO_TEST_PASSWORD=... pytest -v tests/integration/omero

Against the OMERO.server STAND-IN (tests/images/omero-server), inside `make test`: the
unit stage's ``pytest`` run collects every test of this file again through
tests/integration/images/test_omero_modules_on_standin.py, which, when OMERO_TEST_HOST is not
set, starts the stand-in and PostgreSQL on this machine (standin_service.py there; random
names, the router port published on 127.0.0.1, removed afterwards) and overrides only
``conn_args``; with OMERO_TEST_HOST set it runs them against that server instead. Only
without a Docker engine are they skipped there. To run this file itself against a
stand-in:

    python3 tests/images/omero-server/standin_service.py -- pytest -v tests/integration/omero

The tests create groups, users and scripts whose names start with a random
``ansible-it-<hex>`` prefix (users and groups cannot be deleted in OMERO; scripts are
deleted at the end), so they can run repeatedly against a disposable or a test server.
Run them with omero-py installed (tools/omero-py.sh VENV). A test of this file must hold
on a real OMERO.server; what only the stand-in does belongs in
tests/integration/images/test_omero_server_standin.py.
"""

from __future__ import annotations

import json
import os
import secrets

import pytest

HOST = os.environ.get("OMERO_TEST_HOST")
REASON = (
    "no OMERO.server to test against: set OMERO_TEST_HOST and OMERO_TEST_PASSWORD "
    "(and OMERO_TEST_PORT, OMERO_TEST_USER) to run the integration tests"
)
pytestmark = pytest.mark.skipif(not (HOST and os.environ.get("OMERO_TEST_PASSWORD")), reason=REASON)

PREFIX = "ansible-it-" + secrets.token_hex(3)


class Exit(Exception):
    def __init__(self, result):
        super().__init__(json.dumps(result, default=str))
        self.result = result


@pytest.fixture(scope="module")
def conn_args():
    return {
        "host": HOST,
        "port": int(os.environ.get("OMERO_TEST_PORT", "4064")),
        "user": os.environ.get("OMERO_TEST_USER", "root"),
        "password": os.environ.get("OMERO_TEST_PASSWORD"),
    }


@pytest.fixture
def run(monkeypatch, conn_args):
    from ansible.module_utils import basic
    from ansible.module_utils.testing import patch_module_args

    def exit_json(self, **kwargs):
        kwargs.setdefault("changed", False)
        raise Exit(kwargs)

    def fail_json(self, msg, **kwargs):
        raise Exit(dict(kwargs, failed=True, msg=msg))

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def _run(module, args, check=False, connection=None):
        full = dict(connection or conn_args, _ansible_check_mode=check, _ansible_diff=True)
        full.update(args)
        with patch_module_args(full):
            try:
                module.main()
            except Exit as done:
                return done.result
        raise AssertionError("module did not exit")

    return _run


def _modules():
    from ansible_collections.omero_docker.stack.plugins.modules import omero_group, omero_script, omero_user

    return omero_group, omero_user, omero_script


def test_bad_credentials(run, conn_args):
    omero_group = _modules()[0]
    result = run(omero_group, {"groups": []}, connection=dict(conn_args, password="not-the-password-" + PREFIX))
    assert result["failed"] and result["error_kind"] == "bad_credentials", result


def test_unreachable(run, conn_args):
    omero_group = _modules()[0]
    result = run(omero_group, {"groups": []}, connection=dict(conn_args, port=1, connect_timeout=5))
    assert result["failed"] and result["error_kind"] == "unreachable", result


def test_groups(run):
    omero_group = _modules()[0]
    groups = [{"name": PREFIX + "-a", "permissions": "private"}, {"name": PREFIX + "-b", "permissions": "read-only"}]
    assert run(omero_group, {"groups": groups}, check=True)["created"] == [g["name"] for g in groups]
    assert run(omero_group, {"groups": groups})["created"] == [g["name"] for g in groups]
    assert run(omero_group, {"groups": groups})["changed"] is False
    groups[0]["permissions"] = "read-annotate"
    assert run(omero_group, {"groups": groups})["updated"] == [groups[0]["name"]]
    assert run(omero_group, {"groups": groups})["changed"] is False


def test_users(run, conn_args):
    omero_group, omero_user = _modules()[:2]
    g1, g2 = PREFIX + "-u1", PREFIX + "-u2"
    run(omero_group, {"groups": [{"name": g1}, {"name": g2}]})
    pw = secrets.token_urlsafe(18)
    user = {"name": PREFIX + "-user", "password": pw, "groups": [g1]}
    job = {"name": PREFIX + "-job", "password": pw, "admin_privileges": ["Sudo"]}
    created = run(omero_user, {"users": [user, job]})
    assert created["created"] == [user["name"], job["name"]], created
    assert run(omero_user, {"users": [user, job]})["changed"] is False
    # the new user can log in with its password
    login = run(omero_group, {"groups": []}, connection=dict(conn_args, user=user["name"], password=pw))
    assert login["changed"] is False, login
    moved = run(omero_user, {"users": [dict(user, groups=[g2])]})
    assert moved["updated"] == [user["name"]]
    assert moved["users"][0]["groups"] == sorted([g2, "user"])
    assert created["users"][1]["admin_privileges"] == ["Sudo"]
    new_pw = secrets.token_urlsafe(18)
    kept = run(omero_user, {"users": [dict(user, groups=[g2], password=new_pw)]})
    assert kept["changed"] is False  # on_create
    changed = run(omero_user, {"update_password": "always", "users": [dict(user, groups=[g2], password=new_pw)]})
    assert changed["password_changed"] == [user["name"]]
    again = run(omero_user, {"update_password": "always", "users": [dict(user, groups=[g2], password=new_pw)]})
    assert again["changed"] is False


def test_scripts(run):
    omero_script = _modules()[2]
    folder = "/" + PREFIX.replace("-", "_")
    one = {"path": folder + "/One.py", "content": "# one\n"}
    two = {"path": folder + "/Two.py", "content": "# two\n"}
    try:
        assert run(omero_script, {"scripts": [one, two]}, check=True)["added"] == [one["path"], two["path"]]
        assert run(omero_script, {"scripts": [one, two]})["added"] == [one["path"], two["path"]]
        assert run(omero_script, {"scripts": [one, two]})["changed"] is False
        result = run(omero_script, {"scripts": [dict(one, content="# one v2\n")]})
        assert result["replaced"] == [one["path"]]
        pruned = run(omero_script, {"scripts": [dict(one, content="# one v2\n")], "prune": True,
                                    "managed_folders": [folder]})
        assert pruned["removed"] == [two["path"]]
    finally:
        run(omero_script, {"scripts": [], "prune": True, "managed_folders": [folder]})


def test_official_scripts_check_mode(run):
    omero_script = _modules()[2]
    result = run(omero_script, {"official": ["*"]}, check=True)
    assert "failed" not in result, result
    assert result["official_version"]


def test_group_permissions_unchanged_unless_given_and_builtin_groups_refused(run):
    omero_group = _modules()[0]
    name = PREFIX + "-keep"
    assert run(omero_group, {"groups": [{"name": name, "permissions": "read-annotate"}]})["created"] == [name]
    kept = run(omero_group, {"groups": [{"name": name}]})
    assert kept["changed"] is False and kept["groups"][0]["permissions"] == "read-annotate", kept
    for builtin in ("system", "user", "guest"):
        refused = run(omero_group, {"groups": [{"name": builtin}]})
        assert refused["failed"] and "built into OMERO" in refused["msg"], refused


def test_user_without_a_group_is_refused_and_the_server_agrees(run, conn_args):
    """The module refuses a non-admin user without a group; the server's own rules that
    make such a user unusable (modelled by tests/helpers/fake_omero.py) hold here."""
    omero_group, omero_user = _modules()[:2]
    refused = run(omero_user, {"users": [{"name": PREFIX + "-lonely", "password": secrets.token_urlsafe(18)}]})
    assert refused["failed"] and "besides 'user'" in refused["msg"], refused
    group = PREFIX + "-rules"
    name = PREFIX + "-rules-user"
    run(omero_group, {"groups": [{"name": group}]})
    run(omero_user, {"users": [{"name": name, "password": secrets.token_urlsafe(18), "groups": [group]}]})

    import omero
    import omero.clients

    client = omero.client(host=conn_args["host"], port=conn_args["port"])
    try:
        admin = client.createSession(conn_args["user"], conn_args["password"]).getAdminService()
        exp = admin.lookupExperimenter(name)
        with pytest.raises(omero.ApiUsageException, match="Cannot set default group to: user"):
            admin.setDefaultGroup(exp, admin.lookupGroup("user"))
        with pytest.raises(omero.ValidationException, match="only the 'user' group"):
            admin.removeGroups(exp, [admin.lookupGroup(group)])
    finally:
        client.closeSession()


def test_script_path_without_py_is_refused(run):
    omero_script = _modules()[2]
    result = run(omero_script, {"scripts": [{"path": "/" + PREFIX.replace("-", "_") + "/NoExt", "content": "#\n"}]})
    assert result["failed"] and "must end with .py" in result["msg"], result


def test_invocation_timeout_is_accepted(run):
    omero_group = _modules()[0]
    assert run(omero_group, {"groups": [], "invocation_timeout": 60})["changed"] is False
