"""module_utils/omero_module.py: what the main() functions of the omero_* modules share."""

from __future__ import annotations

import omero
import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils import omero_client, omero_module
from ansible_collections.omero_docker.stack.plugins.module_utils.omero_plan import PlanError

from tests.helpers.omero_test_helpers import ModuleExit, ModuleFail


class _Session:
    closed = False

    def close(self):
        self.closed = True


class _Module:
    """Just what the helpers use of an AnsibleModule."""

    def __init__(self, **params):
        self.params = dict(host="localhost", port=4064, invocation_timeout=300, **params)

    def exit_json(self, **result):
        raise ModuleExit(result)

    def fail_json(self, msg, **result):
        raise ModuleFail(dict(result, msg=msg, failed=True))


@pytest.fixture
def session(monkeypatch):
    opened = _Session()
    monkeypatch.setattr(omero_client, "connect", lambda module: opened)
    return opened


def test_named_entries_spec_requires_a_name_and_takes_the_other_options():
    spec = omero_module.named_entries_spec(perms=dict(type="str"))
    assert spec == dict(type="list", elements="dict", required=True,
                        options=dict(name=dict(type="str", required=True), perms=dict(type="str")))


def test_repeated_names_fail_naming_the_option_and_the_names():
    omero_module.fail_on_repeated_names(_Module(users=[{"name": "a"}, {"name": "b"}]), "users")
    module = _Module(groups=[{"name": "b"}, {"name": "a"}, {"name": "b"}, {"name": "a"}])
    with pytest.raises(ModuleFail) as failed:
        omero_module.fail_on_repeated_names(module, "groups")
    assert failed.value.result["msg"] == "groups lists these names more than once: a, b"


def test_the_work_result_is_the_exit_and_the_session_is_closed(session):
    def work(module, opened, extra):
        assert opened is session
        return dict(changed=True, extra=extra)

    with pytest.raises(ModuleExit) as done:
        omero_module.run_logged_in(_Module(), "group change", work, "x")
    assert done.value.result == dict(changed=True, extra="x")
    assert session.closed


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (PlanError("user u: group(s) g do not exist"), {"msg": "user u: group(s) g do not exist"}),
        (omero_client.OmeroConnectionError("unreachable", "cannot reach"),
         {"msg": "cannot reach", "error_kind": "unreachable"}),
        (omero.SecurityViolation(message="not allowed"),
         {"msg": "OMERO refused a user change: SecurityViolation: not allowed", "error_kind": "error"}),
    ],
    ids=["plan", "second-login", "server-refusal"],
)
def test_expected_failures_fail_json_without_traceback_and_close_the_session(session, error, expected):
    def work(module, opened):
        raise error

    with pytest.raises(ModuleFail) as failed:
        omero_module.run_logged_in(_Module(), "user change", work)
    result = failed.value.result
    assert {key: result.get(key) for key in expected} == expected
    assert "exception" not in result
    assert session.closed
