"""omero_user against the FAKE OMERO.server (autospecced omero-py proxies)."""

from __future__ import annotations

import omero
import pytest
from ansible_collections.omero_docker.stack.plugins.modules import omero_user

from tests.helpers.omero_test_helpers import ModuleFail


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
    server.add_user("ops", "pw", default="system", privileges={"Sudo", "ModifyUser"})
    result = run_module(omero_user, {"users": [{"name": "ops", "admin_privileges": ["Sudo"]}]})
    assert result["updated"] == ["ops"]
    assert server.privileges["ops"] == {"Sudo"}


def test_never_admin_unless_asked(groups, run_module):
    server = groups
    server.add_user("former-admin", "pw", groups=("lab",), default="lab", privileges={"Sudo"})
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
        {"name": "newbie", "password": "pw-newbie-123456", "groups": ["lab"]},
    ]}, check=True, diff=True)
    assert result["changed"] is True
    assert result["created"] == ["newbie"]
    assert result["updated"] == ["jsmith"]
    assert server.writes == []
    assert "newbie" not in server.users


def test_password_on_create_never_changes_existing(groups, run_module):
    server = groups
    server.add_user("jsmith", "old-password", groups=("lab",), default="lab")
    result = run_module(omero_user, {"users": [{"name": "jsmith", "password": "new-password", "groups": ["lab"]}]})
    assert result["changed"] is False
    assert server.passwords["jsmith"] == "old-password"
    assert ("jsmith", False) not in server.logins and ("jsmith", True) not in server.logins


def test_password_always_changes_only_when_it_does_not_work(groups, run_module):
    server = groups
    server.add_user("jsmith", "old-password", groups=("lab",), default="lab")
    args = {"update_password": "always", "users": [{"name": "jsmith", "password": "new-password", "groups": ["lab"]}]}
    result = run_module(omero_user, args)
    assert result["password_changed"] == ["jsmith"]
    assert server.passwords["jsmith"] == "new-password"
    again = run_module(omero_user, args)
    assert again["changed"] is False
    assert again["password_changed"] == []


def test_password_always_in_check_mode(groups, run_module):
    server = groups
    server.add_user("jsmith", "old-password", groups=("lab",), default="lab")
    args = {"update_password": "always", "users": [{"name": "jsmith", "password": "new-password", "groups": ["lab"]}]}
    result = run_module(omero_user, args, check=True)
    assert result["password_changed"] == ["jsmith"]
    assert server.passwords["jsmith"] == "old-password"


def test_creation_without_password_fails(groups, run_module):
    server = groups
    with pytest.raises(ModuleFail, match="password is required"):
        run_module(omero_user, {"users": [{"name": "nopw", "groups": ["lab"]}]})
    assert "nopw" not in server.users


def test_missing_group_fails_with_its_name(server, run_module):
    with pytest.raises(ModuleFail, match="group.s. nosuch do not exist"):
        run_module(omero_user, {"users": [{"name": "x", "password": "pw", "groups": ["nosuch"]}]})


def test_builtin_users_refused(server, run_module):
    with pytest.raises(ModuleFail, match="built-in users"):
        run_module(omero_user, {"users": [{"name": "root", "password": "x"}]})


# ---------------------------------------------------------------- default group (server rules)


def test_user_without_a_group_besides_user_is_refused_before_any_write(server, run_module):
    """OMERO refuses 'user' as default group: creating such a user would leave one who can
    never log in and makes every later run fail (the fake refuses like the server)."""
    with pytest.raises(ModuleFail, match="user lonely: list at least one group besides 'user'"):
        run_module(omero_user, {"users": [{"name": "lonely", "password": "pw-lonely-123456"}]})
    assert server.writes == []
    assert "lonely" not in server.users


def test_fake_refuses_user_as_default_group_like_the_server(groups, run_module):
    server = groups
    server.add_user("jsmith", "pw", groups=("lab",), default="lab")
    admin = server._admin_service()
    exp = server.users["jsmith"]
    with pytest.raises(omero.ApiUsageException, match="Cannot set default group to: user"):
        admin.setDefaultGroup(exp, server.groups["user"])
    with pytest.raises(omero.ValidationException, match="only the 'user' group"):
        admin.removeGroups(exp, [server.groups["lab"]])
    server.add_user("broken", "pw")  # in "user" only, as the old default made it
    with pytest.raises(omero.ValidationException, match="has no default group set"):
        admin.getDefaultGroup(server.users["broken"].getId().getValue())


def test_user_left_without_default_group_is_repaired_by_listing_a_group(groups, run_module):
    server = groups
    server.add_user("broken", "pw")  # what the old default made: member of "user" only
    result = run_module(omero_user, {"users": [{"name": "broken", "groups": ["lab"]}]}, diff=True)
    assert result["updated"] == ["broken"]
    assert server.members["broken"] == {"lab", "user"}
    assert server.default_group["broken"] == "lab"
    assert result["diff"]["before"]["users"][0]["default_group"] is None


# ---------------------------------------------------------------- per-user password policy


def test_per_user_update_password_always_overrides_on_create(groups, run_module):
    """The bootstrap applies the job-service user's password always (a rotation takes
    effect) while the other users keep the site's policy."""
    server = groups
    server.add_user("job-service", "old-job-pw", default="system", privileges={"Sudo"})
    server.add_user("jsmith", "old-password", groups=("lab",), default="lab")
    result = run_module(omero_user, {"update_password": "on_create", "users": [
        {"name": "job-service", "password": "new-job-pw", "update_password": "always", "admin_privileges": ["Sudo"]},
        {"name": "jsmith", "password": "new-password", "groups": ["lab"]},
    ]})
    assert result["password_changed"] == ["job-service"]
    assert server.passwords["job-service"] == "new-job-pw"
    assert server.passwords["jsmith"] == "old-password"
    assert "new-job-pw" not in str(result)


# ---------------------------------------------------------------- root password rotation


def test_root_password_alone_is_changed_logged_in_with_the_old_one(server, run_module):
    server.passwords["root"] = "old-root-pw"
    args = {"password": "old-root-pw", "users": [{"name": "root", "password": "new-root-pw",
                                                 "update_password": "always"}]}
    result = run_module(omero_user, args, diff=True)
    assert result["changed"] is True
    assert result["password_changed"] == ["root"]
    assert server.passwords["root"] == "new-root-pw"
    assert ("changeUserPassword", "root") in server.writes
    # nothing else of root is touched: no membership, default group or privilege call
    assert [w[0] for w in server.writes] == ["changeUserPassword"]
    assert "new-root-pw" not in str(result) and "old-root-pw" not in str(result)
    again = run_module(omero_user, dict(args, password="new-root-pw"))  # noqa: S106 - the fake's
    assert again["changed"] is False


def test_root_password_change_in_check_mode_changes_nothing(server, run_module):
    server.passwords["root"] = "old-root-pw"
    result = run_module(omero_user, {"password": "old-root-pw", "users": [
        {"name": "root", "password": "new-root-pw", "update_password": "always"}]}, check=True)
    assert result["password_changed"] == ["root"]
    assert server.passwords["root"] == "old-root-pw"
    assert server.writes == []


@pytest.mark.parametrize("entry", [
    {"name": "root", "password": "x"},  # not update_password=always
    {"name": "root", "password": "x", "update_password": "always", "groups": ["lab"]},
    {"name": "root", "password": "x", "update_password": "always", "full_admin": True},
    {"name": "root", "update_password": "always"},
    {"name": "guest", "password": "x", "update_password": "always"},
])
def test_root_only_for_its_password_and_guest_never(server, run_module, entry):
    with pytest.raises(ModuleFail, match="built-in users are not managed"):
        run_module(omero_user, {"users": [entry]})
    assert server.writes == [] and server.clients == []


# ---------------------------------------------------------------- LDAP users


def test_ldap_user_password_is_refused(groups, run_module):
    groups.add_user("jdoe", "directory-pw", groups=("lab",), default="lab", ldap=True)
    with pytest.raises(ModuleFail, match="user jdoe: ldap users log in with their directory password"):
        run_module(omero_user, {"users": [{"name": "jdoe", "ldap": True, "password": "x", "groups": ["lab"]}]})
    with pytest.raises(ModuleFail, match="update_password=always does not apply to an ldap user"):
        run_module(omero_user, {"users": [{"name": "jdoe", "ldap": True, "update_password": "always"}]})
    assert groups.writes == []


def test_ldap_user_keeps_directory_groups_unless_append_false(groups, run_module):
    server = groups
    # groups omero.ldap.sync_on_login gave the user
    server.add_user("jdoe", "directory-pw", groups=("lab", "old"), default="old", ldap=True)
    result = run_module(omero_user, {"update_password": "always", "users": [
        {"name": "jdoe", "ldap": True, "groups": ["facility"]}]})
    assert result["updated"] == ["jdoe"]
    assert server.members["jdoe"] == {"lab", "old", "facility", "user"}
    assert server.passwords["jdoe"] == "directory-pw"
    assert [w[0] for w in server.writes] == ["addGroups", "setDefaultGroup"]
    # listed without groups: nothing changes at all
    server.writes.clear()
    assert run_module(omero_user, {"users": [{"name": "jdoe", "ldap": True}]})["changed"] is False
    assert server.writes == []
    # exact membership only when told
    run_module(omero_user, {"users": [{"name": "jdoe", "ldap": True, "append": False, "groups": ["facility"]}]})
    assert server.members["jdoe"] == {"facility", "user"}


def test_missing_ldap_user_is_not_created(groups, run_module):
    result = run_module(omero_user, {"users": [{"name": "jdoe", "ldap": True, "groups": ["lab"]}]})
    assert result["changed"] is False
    assert result["skipped"] == ["jdoe"]
    assert "jdoe" not in groups.users
    assert groups.writes == []


def test_server_ldap_user_must_be_listed_as_ldap(groups, run_module):
    groups.add_user("jdoe", "directory-pw", groups=("lab",), default="lab", ldap=True)
    with pytest.raises(ModuleFail, match="user jdoe is an LDAP user on the server: add ldap: true"):
        run_module(omero_user, {"update_password": "always",
                                "users": [{"name": "jdoe", "password": "x", "groups": ["lab"]}]})
    assert groups.writes == []
