#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: omero_docker.stack developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module omero_user: OMERO users, their groups and administrator privileges.

Why a custom module: OMERO users live in the server's database behind the Ice API
(IAdmin). The CLI can add a user but cannot compare one with a description, change
group membership to an exact set, set light-administrator privileges, or leave a
password alone unless asked. This module reads each user, computes the difference
with the pure functions in module_utils/omero_plan.py and applies only that.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: omero_user
short_description: Manage OMERO users, their group membership and admin privileges
version_added: 0.1.0
description:
  - Makes the listed OMERO users exist with the given profile, groups, default group and
    administrator privileges.
  - A user listed with O(users[].admin_privileges) becomes a restricted (light)
    administrator holding only those privileges, for example only C(Sudo) for a
    job-service user. A user is a full administrator only with
    O(users[].full_admin=true). Any other user is removed from the C(system) group.
  - The password is set when the user is created; later it is changed only with
    O(update_password=always), and then only when it does not already work (the
    module tries to log in with it).
  - Users are never deleted. The built-in users C(root) and C(guest) are refused.
author:
  - omero_docker.stack developers (!UNKNOWN)
extends_documentation_fragment:
  - omero_docker.stack.omero_connection
options:
  users:
    description:
      - The users to manage.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Login name (C(omeName)).
        type: str
        required: true
      password:
        description:
          - Password. Required to create the user. Never logged.
        type: str
      first_name:
        description: First name. Defaults to O(users[].name) when the user is created.
        type: str
      middle_name:
        description: Middle name.
        type: str
      last_name:
        description: Last name. Defaults to O(users[].name) when the user is created.
        type: str
      email:
        description: E-mail address.
        type: str
      institution:
        description: Institution.
        type: str
      groups:
        description:
          - Groups the user belongs to, by name. They must exist (see
            M(omero_docker.stack.omero_group)). C(user) is always added; C(system) only
            for administrators.
        type: list
        elements: str
        default: []
      default_group:
        description:
          - The user's default group. Defaults to the first of O(users[].groups), else
            C(system) for administrators and C(user) for others.
        type: str
      append:
        description:
          - When V(false), the user is removed from groups that are not listed.
          - When V(true), unlisted groups are kept (except C(system), which is only kept
            for administrators).
        type: bool
        default: false
      admin_privileges:
        description:
          - Make the user a restricted administrator with exactly these privileges.
          - Not set means the user is not an administrator (unless O(users[].full_admin)).
        type: list
        elements: str
        choices: [Chgrp, Chown, DeleteFile, DeleteManagedRepo, DeleteOwned, DeleteScriptRepo,
                  ModifyGroup, ModifyGroupMembership, ModifyUser, ReadSession, Sudo, WriteFile,
                  WriteManagedRepo, WriteOwned, WriteScriptRepo]
      full_admin:
        description: Make the user a full administrator (every privilege). Never implied.
        type: bool
        default: false
  update_password:
    description:
      - V(on_create) sets passwords only when creating users.
      - V(always) also changes the password of an existing user when the given password
        does not work for a login.
    type: str
    choices: [always, on_create]
    default: on_create
attributes:
  check_mode:
    description: Reports what would be created or changed without changing the server.
    support: full
  diff_mode:
    description: Shows each managed user's profile, groups and privileges before and after (never passwords).
    support: full
seealso:
  - module: omero_docker.stack.omero_group
"""

EXAMPLES = r"""
- name: Job-service user, a restricted administrator that may only sudo
  omero_docker.stack.omero_user:
    password: "{{ omero_root_password }}"
    users:
      - name: job-service
        password: "{{ omero_job_service_password }}"
        admin_privileges: [Sudo]
  no_log: true

- name: Facility users; change passwords when the inventory changes them
  omero_docker.stack.omero_user:
    password: "{{ omero_root_password }}"
    update_password: always
    users:
      - name: jsmith
        password: "{{ vault_jsmith_password }}"
        first_name: Jane
        last_name: Smith
        email: jane.smith@example.org
        groups: [lab-smith, imaging-facility]
        default_group: lab-smith
"""

RETURN = r"""
created:
  description: Names of the users created.
  returned: always
  type: list
  elements: str
  sample: [job-service]
updated:
  description: Names of existing users whose profile, groups, privileges or password changed.
  returned: always
  type: list
  elements: str
  sample: [jsmith]
password_changed:
  description: Names of existing users whose password was changed (or would be in check mode).
  returned: always
  type: list
  elements: str
  sample: []
users:
  description: Every managed user as it is after the run (in check mode, as it would be). No passwords.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "job-service", "groups": ["system", "user"], "default_group": "system",
            "admin_privileges": ["Sudo"]}]
error_kind:
  description: Kind of an expected failure (unreachable, not_ready, bad_credentials, missing_library, error).
  returned: failure
  type: str
  sample: bad_credentials
"""

# Ansible modules import after their documentation strings.
# ruff: noqa: E402
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.omero_docker.stack.plugins.module_utils import omero_client
from ansible_collections.omero_docker.stack.plugins.module_utils.omero_plan import (
    ADMIN_PRIVILEGES,
    BUILTIN_USERS,
    SYSTEM_GROUP,
    PlanError,
    desired_memberships,
    desired_privileges,
    membership_diff,
    password_action,
    resolve_default_group,
    user_field_changes,
)

_FIELDS = {
    "first_name": ("getFirstName", "setFirstName"),
    "middle_name": ("getMiddleName", "setMiddleName"),
    "last_name": ("getLastName", "setLastName"),
    "email": ("getEmail", "setEmail"),
    "institution": ("getInstitution", "setInstitution"),
}


class Server:
    """The few IAdmin reads and writes the module needs, by name."""

    def __init__(self, session):
        self.session = session
        self.admin = session.admin
        self._groups = {}

    def group(self, name):
        if name not in self._groups:
            try:
                self._groups[name] = self.admin.lookupGroup(name)
            except omero_client.omero.ApiUsageException:
                self._groups[name] = None
        return self._groups[name]

    def user(self, name):
        try:
            return self.admin.lookupExperimenter(name)
        except omero_client.omero.ApiUsageException:
            return None

    def describe(self, exp):
        uid = omero_client.unwrap(exp.getId())
        view = {"name": omero_client.unwrap(exp.getOmeName())}
        for field, (getter, _setter) in _FIELDS.items():
            view[field] = omero_client.unwrap(getattr(exp, getter)())
        view["groups"] = sorted(omero_client.unwrap(g.getName()) for g in self.admin.containedGroups(uid))
        view["default_group"] = omero_client.unwrap(self.admin.getDefaultGroup(uid).getName())
        if SYSTEM_GROUP in view["groups"]:
            privs = self.admin.getAdminPrivileges(exp)
            view["admin_privileges"] = sorted(omero_client.unwrap(p.getValue()) for p in privs)
        else:
            view["admin_privileges"] = None
        return view

    @staticmethod
    def privilege_objects(names):
        objects = []
        for name in sorted(names):
            priv = omero_client.omero.model.AdminPrivilegeI()
            priv.setValue(omero_client.rstring(name))
            objects.append(priv)
        return objects

    def new_experimenter(self, desired):
        exp = omero_client.omero.model.ExperimenterI()
        exp.setOmeName(omero_client.rstring(desired["name"]))
        exp.setLdap(omero_client.omero.rtypes.rbool(False))
        for field, (_getter, setter) in _FIELDS.items():
            value = desired.get(field)
            if value is None and field in ("first_name", "last_name"):
                value = desired["name"]
            if value is not None:
                getattr(exp, setter)(omero_client.rstring(value))
        return exp

    def group_refs(self, names):
        return [omero_client.omero.model.ExperimenterGroupI(self.group(n).getId().getValue(), False) for n in names]


def plan_user(server, desired, update_password, params):
    """Compare one user with its description; return (plan dict, before view, after view)."""
    name = desired["name"]
    privileges = desired_privileges(desired.get("admin_privileges"), desired.get("full_admin"))
    admin = privileges is not None
    default_group = resolve_default_group(desired.get("groups"), desired.get("default_group"), admin)
    if default_group == SYSTEM_GROUP and not admin:
        raise PlanError("user %s: default_group 'system' needs admin_privileges or full_admin" % name)
    exp = server.user(name)
    before = server.describe(exp) if exp is not None else None
    missing = sorted(g for g in desired_memberships(desired.get("groups"), default_group, admin)
                     if server.group(g) is None)

    def matches():
        return omero_client.password_works(params, name, desired["password"])

    pw = password_action(exp is not None, update_password, desired.get("password"), matches)
    plan = {"exp": exp, "missing_groups": missing, "password": pw, "privileges": privileges,
            "default_group": default_group}
    if exp is None:
        plan.update(action="create", fields={}, add=[], remove=[])
        groups = sorted(desired_memberships(desired.get("groups"), default_group, admin))
    else:
        plan["fields"] = user_field_changes(before, desired)
        plan["add"], plan["remove"] = membership_diff(
            before["groups"], desired.get("groups"), default_group, admin, append=desired.get("append"))
        groups = sorted((set(before["groups"]) | set(plan["add"])) - set(plan["remove"]))
        plan["set_default"] = before["default_group"] != default_group
        plan["set_privileges"] = admin and set(before["admin_privileges"] or []) != privileges
        changed = (plan["fields"] or plan["add"] or plan["remove"] or plan["set_default"]
                   or plan["set_privileges"] or pw == "set")
        plan["action"] = "update" if changed else "none"
    after = {"name": name}
    for field in _FIELDS:
        after[field] = desired.get(field) if desired.get(field) is not None else (before or {}).get(field)
        if before is None and after[field] is None and field in ("first_name", "last_name"):
            after[field] = name
    after.update(groups=groups, default_group=default_group,
                 admin_privileges=sorted(privileges) if admin else None)
    return plan, before, after


def apply_user(server, desired, plan):
    admin = server.admin
    name = desired["name"]
    password = omero_client.rstring(desired.get("password") or "")
    if plan["action"] == "create":
        exp = server.new_experimenter(desired)
        if plan["privileges"] is not None:
            uid = admin.createRestrictedSystemUserWithPassword(
                exp, server.privilege_objects(plan["privileges"]), password)
            exp = admin.getExperimenter(uid)
            others = sorted(set(desired_memberships(desired.get("groups"), plan["default_group"], True))
                            - {SYSTEM_GROUP, "user"})
            if others:
                admin.addGroups(exp, server.group_refs(others))
            if plan["default_group"] != SYSTEM_GROUP:
                admin.setDefaultGroup(exp, server.group_refs([plan["default_group"]])[0])
        else:
            members = sorted(desired_memberships(desired.get("groups"), plan["default_group"], False)
                             - {plan["default_group"]})
            admin.createExperimenterWithPassword(
                exp, password, server.group_refs([plan["default_group"]])[0], server.group_refs(members))
        return
    exp = plan["exp"]
    if plan["fields"]:
        for field, (_old, new) in plan["fields"].items():
            getattr(exp, _FIELDS[field][1])(omero_client.rstring(new))
        admin.updateExperimenter(exp)
    if plan["add"]:
        admin.addGroups(exp, server.group_refs(plan["add"]))
    if plan["set_default"]:
        admin.setDefaultGroup(exp, server.group_refs([plan["default_group"]])[0])
    if plan["remove"]:
        admin.removeGroups(exp, server.group_refs(plan["remove"]))
    if plan["set_privileges"]:
        admin.setAdminPrivileges(exp, server.privilege_objects(plan["privileges"]))
    if plan["password"] == "set":  # noqa: S105 - an action name
        admin.changeUserPassword(name, password)


def run(module, session):
    server = Server(session)
    result = dict(changed=False, created=[], updated=[], password_changed=[], users=[])
    before_all, after_all = [], []
    for desired in module.params["users"]:
        plan, before, after = plan_user(server, desired, module.params["update_password"], module.params)
        if before is not None:
            before_all.append(before)
        after_all.append(after)
        result["users"].append(after)
        if plan["missing_groups"]:
            message = "user %s: group(s) %s do not exist; create them first (omero_group)" % (
                desired["name"], ", ".join(plan["missing_groups"]))
            if not module.check_mode:
                raise PlanError(message)
            module.warn(message + "; the real run will fail unless they are created before it")
        if plan["action"] == "none":
            continue
        result["changed"] = True
        result["created" if plan["action"] == "create" else "updated"].append(desired["name"])
        if plan["action"] == "update" and plan["password"] == "set":  # noqa: S105 - an action name
            result["password_changed"].append(desired["name"])
        if not module.check_mode:
            apply_user(server, desired, plan)
    if module._diff:
        result["diff"] = {"before": {"users": before_all}, "after": {"users": after_all}}
    return result


def main():
    argument_spec = omero_client.omero_argument_spec()
    argument_spec.update(
        users=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                password=dict(type="str", no_log=True),
                first_name=dict(type="str"),
                middle_name=dict(type="str"),
                last_name=dict(type="str"),
                email=dict(type="str"),
                institution=dict(type="str"),
                groups=dict(type="list", elements="str", default=[]),
                default_group=dict(type="str"),
                append=dict(type="bool", default=False),
                admin_privileges=dict(type="list", elements="str", choices=list(ADMIN_PRIVILEGES)),
                full_admin=dict(type="bool", default=False),
            ),
        ),
        update_password=dict(type="str", default="on_create", choices=["always", "on_create"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    names = [u["name"] for u in module.params["users"]]
    builtin = sorted(set(names) & set(BUILTIN_USERS))
    if builtin:
        module.fail_json(msg="built-in users are not managed by omero_user: %s" % ", ".join(builtin))
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        module.fail_json(msg="users lists these names more than once: %s" % ", ".join(duplicates))
    session = omero_client.connect(module)
    try:
        module.exit_json(**run(module, session))
    except PlanError as err:
        module.fail_json(msg=str(err))
    except omero_client.OmeroConnectionError as err:
        module.fail_json(msg=err.message, error_kind=err.kind)
    except omero_client.ice_error_types() as err:
        module.fail_json(msg="OMERO refused a user change: %s" % omero_client.server_error_text(err),
                         error_kind="error")
    finally:
        session.close()


if __name__ == "__main__":
    main()
