"""Pure decision logic of the omero_* modules (module_utils/omero_plan.py)."""

from __future__ import annotations

import hashlib

import omero.model.enums
import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils import omero_plan as plan


@pytest.mark.parametrize(
    ("level", "string"),
    [("private", "rw----"), ("read-only", "rwr---"), ("read-annotate", "rwra--"), ("read-write", "rwrw--")],
)
def test_permission_mapping_round_trip(level, string):
    assert plan.permission_string(level) == string
    assert plan.permission_level(string) == level
    # the strings are what omero-py's own PermissionsI prints for them
    assert str(omero.model.PermissionsI(string)) == string


def test_unknown_permission_level_names_the_choices():
    with pytest.raises(plan.PlanError, match="read-annotate"):
        plan.permission_string("collaborative")


def test_admin_privileges_match_omero_py_enumeration():
    enum = {v for k, v in vars(omero.model.enums).items() if k.startswith("AdminPrivilege")}
    assert set(plan.ADMIN_PRIVILEGES) == enum


def test_plan_group_without_permissions_private_when_created_unchanged_otherwise():
    assert plan.plan_group(None, {"name": "g", "permissions": None}) == {
        "action": "create", "changes": {"permissions": (None, "rw----")}}
    current = {"name": "g", "permissions": "rwra--", "description": "x"}
    assert plan.plan_group(current, {"name": "g", "permissions": None}) == {"action": "none", "changes": {}}
    assert plan.plan_group(current, {"name": "g"}) == {"action": "none", "changes": {}}


@pytest.mark.parametrize("name", ["system", "user", "guest"])
def test_plan_group_refuses_builtin_groups(name):
    with pytest.raises(plan.PlanError, match="group %s is built into OMERO" % name):
        plan.plan_group({"name": name, "permissions": "rw----"}, {"name": name, "permissions": None})


def test_site_script_path_must_end_with_py():
    assert plan.require_script_file("/site/Measure.py") == "/site/Measure.py"
    for path in ("/site/Measure", "/site/Measure.txt", "/site/.py", "/site/Measure_py"):
        with pytest.raises(plan.PlanError, match="must end with .py"):
            plan.require_script_file(path)


def test_ldap_user_password_refused():
    plan.check_ldap_user("jdoe", {"name": "jdoe"})
    with pytest.raises(plan.PlanError, match="user jdoe: ldap users log in with their directory password"):
        plan.check_ldap_user("jdoe", {"name": "jdoe", "password": "x"})
    with pytest.raises(plan.PlanError, match="update_password=always does not apply to an ldap user"):
        plan.check_ldap_user("jdoe", {"name": "jdoe", "update_password": "always"})


def test_plan_group_create_update_none():
    assert plan.plan_group(None, {"name": "g", "permissions": "read-only"})["action"] == "create"
    current = {"name": "g", "permissions": "rwr---", "description": "x"}
    assert plan.plan_group(current, {"name": "g", "permissions": "read-only"}) == {"action": "none", "changes": {}}
    step = plan.plan_group(current, {"name": "g", "permissions": "read-write", "description": "y"})
    assert step["action"] == "update"
    assert step["changes"] == {"permissions": ("rwr---", "rwrw--"), "description": ("x", "y")}


def test_membership_diff_exact_and_append():
    add, remove = plan.membership_diff({"user", "old", "lab"}, ["lab", "new"], "lab", admin=False)
    assert (add, remove) == (["new"], ["old"])
    add, remove = plan.membership_diff({"user", "old", "lab"}, ["lab", "new"], "lab", admin=False, append=True)
    assert (add, remove) == (["new"], [])


def test_membership_never_keeps_system_unless_admin():
    assert plan.membership_diff({"user", "system"}, [], None, admin=False, append=True) == ([], ["system"])
    assert plan.membership_diff({"user"}, [], None, admin=True) == (["system"], [])


def test_default_group_resolution():
    assert plan.resolve_default_group(["a", "b"], None) == "a"
    assert plan.resolve_default_group(["a", "b"], "b") == "b"
    assert plan.resolve_default_group(["user", "a"], None) == "a"
    assert plan.resolve_default_group([], None, admin=True) == "system"
    # with append, the present default group is kept when nothing names one
    assert plan.resolve_default_group([], None, name="x", current="lab") == "lab"


def test_non_admin_without_a_group_besides_user_is_refused_naming_the_user():
    """OMERO refuses 'user' as a default group (setDefaultGroup, removeGroups, getDefaultGroup):
    such a user could never log in, so the plan refuses it instead of defaulting to 'user'."""
    for groups in ([], ["user"], ["user", "system"]):
        with pytest.raises(plan.PlanError, match="user jsmith: list at least one group besides 'user'"):
            plan.resolve_default_group(groups, None, admin=False, name="jsmith")
    with pytest.raises(plan.PlanError, match="user jsmith: default_group 'user' is refused by OMERO"):
        plan.resolve_default_group(["lab"], "user", name="jsmith")
    with pytest.raises(plan.PlanError, match="user jsmith"):
        plan.resolve_default_group([], None, name="jsmith", current="user")


def test_desired_privileges():
    assert plan.desired_privileges(None, False) is None
    assert plan.desired_privileges(["Sudo"], False) == {"Sudo"}
    assert plan.desired_privileges(None, True) == set(plan.ADMIN_PRIVILEGES)
    with pytest.raises(plan.PlanError, match="Sudoo"):
        plan.desired_privileges(["Sudoo"], False)


def test_password_policy():
    never = pytest.fail  # must not be asked
    assert plan.password_action(False, "on_create", "pw") == "set"
    assert plan.password_action(True, "on_create", "pw", never) == "keep"
    assert plan.password_action(True, "always", "pw", lambda: True) == "keep"
    assert plan.password_action(True, "always", "pw", lambda: False) == "set"
    assert plan.password_action(True, "always", None, never) == "keep"
    with pytest.raises(plan.PlanError, match="password is required"):
        plan.password_action(False, "always", None)


def test_user_field_changes_ignore_unset_fields():
    current = {"first_name": "A", "email": "a@x"}
    assert plan.user_field_changes(current, {"first_name": "A", "email": None}) == {}
    assert plan.user_field_changes(current, {"email": "b@x"}) == {"email": ("a@x", "b@x")}


def test_script_paths_normalized():
    assert plan.server_script_path("/omero/figure_scripts/", "A.py") == "/omero/figure_scripts/A.py"
    assert plan.server_script_path("omero/figure_scripts", "A.py") == "/omero/figure_scripts/A.py"
    with pytest.raises(plan.PlanError):
        plan.normalize_script_path("/a/../../etc/x.py")


def test_plan_scripts_add_replace_keep_remove():
    server = {
        "/site/Same.py": {"sha1": plan.content_sha1("same")},
        "/site/Changed.py": {"sha1": plan.content_sha1("old")},
        "/site/Gone.py": {"sha1": plan.content_sha1("gone")},
        "/other/Foreign.py": {"sha1": plan.content_sha1("foreign")},
        "/site/NoHash.py": {"sha1": None, "content": "text"},
    }
    desired = {"/site/Same.py": "same", "/site/Changed.py": "new", "/site/New.py": "n", "/site/NoHash.py": "text"}
    result = plan.plan_scripts(server, desired, prune=True, managed_folders=["/site"])
    assert result == {
        "add": ["/site/New.py"],
        "replace": ["/site/Changed.py"],
        "keep": ["/site/NoHash.py", "/site/Same.py"],
        "remove": ["/site/Gone.py"],
    }
    assert plan.plan_scripts(server, desired)["remove"] == []
    with pytest.raises(plan.PlanError, match="managed_folders"):
        plan.plan_scripts(server, desired, prune=True)


def test_managed_folder_is_a_folder_not_a_prefix():
    server = {"/site2/X.py": {"sha1": "0"}}
    assert plan.plan_scripts(server, {}, prune=True, managed_folders=["/site"])["remove"] == []


def test_checksum_verification():
    data = b"print('x')\n"
    good = "sha256:" + hashlib.sha256(data).hexdigest()
    plan.verify_checksum(data, good)
    with pytest.raises(plan.PlanError, match="mismatch"):
        plan.verify_checksum(data + b" ", good)
    with pytest.raises(plan.PlanError, match="sha256:<hex"):
        plan.verify_checksum(data, "md5:abc")


def test_select_official_patterns():
    available = {"/omero/a/One.py": "1", "/omero/a/Two.py": "2", "/omero/b/Three.py": "3"}
    assert set(plan.select_official(available, ["/omero/a/*"])) == {"/omero/a/One.py", "/omero/a/Two.py"}
    assert set(plan.select_official(available, ["/omero/b/"])) == {"/omero/b/Three.py"}
    assert set(plan.select_official(available, ["*"])) == set(available)
    with pytest.raises(plan.PlanError, match="matches nothing"):
        plan.select_official(available, ["/omero/c/*"])
