"""omero_user against the FAKE OMERO.server (autospecced omero-py proxies)."""

from __future__ import annotations

import pytest
from ansible_collections.omero_docker.stack.plugins.modules import omero_user
from omero_test_helpers import ModuleFail


@pytest.fixture
def groups(server):
    for name in ("lab", "facility", "old"):
        server.add_group(name)
    return server


def test_creates_a_user_with_groups_then_is_idempotent(groups, run_module):
    server = groups
    args = {"users": [{"name": "jsmith", "password": "s3cret-pw", "first_name": "Jane", "last_name": "Smith",
                       "email": "j@example.org", "groups": ["lab", "facility"]}]}
    result = run_module(omero_user, args)
    assert result["created"] == ["jsmith"]
    assert server.members["jsmith"] == {"lab", "facility", "user"}
    assert server.default_group["jsmith"] == "lab"
    assert server.passwords["jsmith"] == "s3cret-pw"
    assert "system" not in server.members["jsmith"]
    assert result["users"][0]["admin_privileges"] is None
    assert "s3cret-pw" not in str(result)
    writes = list(server.writes)
    again = run_module(omero_user, args)
    assert again["changed"] is False
    assert server.writes == writes


def test_job_service_user_is_restricted_admin_with_sudo_only(server, run_module):
    result = run_module(omero_user, {"users": [{"name": "job-service", "password": "job-pw-123456789",
                                                "admin_privileges": ["Sudo"]}]})
    assert result["created"] == ["job-service"]
    assert server.members["job-service"] == {"system", "user"}
    assert server.privileges["job-service"] == {"Sudo"}
    assert server.writes[0][0] == "createRestrictedSystemUserWithPassword"
    assert run_module(omero_user, {"users": [{"name": "job-service", "admin_privileges": ["Sudo"]}]})[
        "changed"] is False


def test_admin_privileges_changed_to_exactly_the_listed_ones(server, run_module):
    server.add_user("ops", "pw", privileges={"Sudo", "ModifyUser"})
    result = run_module(omero_user, {"users": [{"name": "ops", "admin_privileges": ["Sudo"]}]})
    assert result["updated"] == ["ops"]
    assert server.privileges["ops"] == {"Sudo"}


def test_never_admin_unless_asked(server, run_module):
    server.add_user("former-admin", "pw", privileges={"Sudo"})
    result = run_module(omero_user, {"users": [{"name": "former-admin", "append": True}]})
    assert result["updated"] == ["former-admin"]
    assert "system" not in server.members["former-admin"]


def test_full_admin_only_when_asked(server, run_module):
    run_module(omero_user, {"users": [{"name": "boss", "password": "pw-boss-12345678", "full_admin": True}]})
    assert server.privileges["boss"] == set(omero_user.ADMIN_PRIVILEGES)


def test_group_membership_changes(groups, run_module):
    server = groups
    server.add_user("jsmith", "pw", groups=("lab", "old"), default="old")
    result = run_module(omero_user, {"users": [{"name": "jsmith", "groups": ["lab", "facility"],
                                                "default_group": "facility"}]}, diff=True)
    assert result["updated"] == ["jsmith"]
    assert server.members["jsmith"] == {"lab", "facility", "user"}
    assert server.default_group["jsmith"] == "facility"
    # add before changing the default group, remove after it
    kinds = [w[0] for w in server.writes]
    assert kinds == ["addGroups", "setDefaultGroup", "removeGroups"]
    assert result["diff"]["before"]["users"][0]["groups"] == ["lab", "old", "user"]
    assert result["diff"]["after"]["users"][0]["groups"] == ["facility", "lab", "user"]


def test_append_keeps_unlisted_groups(groups, run_module):
    server = groups
    server.add_user("jsmith", "pw", groups=("lab", "old"), default="lab")
    run_module(omero_user, {"users": [{"name": "jsmith", "groups": ["lab", "facility"], "append": True}]})
    assert server.members["jsmith"] == {"lab", "facility", "old", "user"}


def test_check_mode_changes_nothing(groups, run_module):
    server = groups
    server.add_user("jsmith", "pw", groups=("lab",), default="lab")
    result = run_module(omero_user, {"users": [
        {"name": "jsmith", "groups": ["facility"], "email": "new@example.org"},
        {"name": "newbie", "password": "pw-newbie-123456"},
    ]}, check=True, diff=True)
    assert result["changed"] is True
    assert result["created"] == ["newbie"]
    assert result["updated"] == ["jsmith"]
    assert server.writes == []
    assert "newbie" not in server.users


def test_password_on_create_never_changes_existing(server, run_module):
    server.add_user("jsmith", "old-password")
    result = run_module(omero_user, {"users": [{"name": "jsmith", "password": "new-password"}]})
    assert result["changed"] is False
    assert server.passwords["jsmith"] == "old-password"
    assert ("jsmith", False) not in server.logins and ("jsmith", True) not in server.logins


def test_password_always_changes_only_when_it_does_not_work(server, run_module):
    server.add_user("jsmith", "old-password")
    args = {"update_password": "always", "users": [{"name": "jsmith", "password": "new-password"}]}
    result = run_module(omero_user, args)
    assert result["password_changed"] == ["jsmith"]
    assert server.passwords["jsmith"] == "new-password"
    again = run_module(omero_user, args)
    assert again["changed"] is False
    assert again["password_changed"] == []


def test_password_always_in_check_mode(server, run_module):
    server.add_user("jsmith", "old-password")
    args = {"update_password": "always", "users": [{"name": "jsmith", "password": "new-password"}]}
    result = run_module(omero_user, args, check=True)
    assert result["password_changed"] == ["jsmith"]
    assert server.passwords["jsmith"] == "old-password"


def test_creation_without_password_fails(server, run_module):
    with pytest.raises(ModuleFail, match="password is required"):
        run_module(omero_user, {"users": [{"name": "nopw"}]})
    assert "nopw" not in server.users


def test_missing_group_fails_with_its_name(server, run_module):
    with pytest.raises(ModuleFail, match="group.s. nosuch do not exist"):
        run_module(omero_user, {"users": [{"name": "x", "password": "pw", "groups": ["nosuch"]}]})


def test_builtin_users_refused(server, run_module):
    with pytest.raises(ModuleFail, match="built-in users"):
        run_module(omero_user, {"users": [{"name": "root", "password": "x"}]})
