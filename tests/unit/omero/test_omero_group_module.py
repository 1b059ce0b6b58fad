"""omero_group against the FAKE OMERO.server (autospecced omero-py proxies)."""

from __future__ import annotations

import pytest
from ansible_collections.omero_docker.stack.plugins.modules import omero_group
from omero_test_helpers import ModuleFail

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
