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
  - Users are never deleted. The built-in user C(guest) is refused. C(root) is refused too,
    except for its password alone (an entry with only O(users[].name=root),
    O(users[].password) and update_password V(always)); that is how a changed root
    password is applied (C(changeUserPassword)), the login being made with the old one.
  - LDAP users (O(users[].ldap=true)) log in with their directory password and get
    groups from the directory when C(omero.ldap.sync_on_login) is on. The module never
    sets their password (O(users[].password) is refused for them), keeps the groups
    they have unless O(users[].append=false), and does not create them (OMERO does at
    their first login, or C(omero ldap create)); until then they are reported in
    RV(skipped) with a warning.
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
          - The user's default group. Defaults to the first of O(users[].groups) (other than
            C(user) and C(system)); else, with O(users[].append), the user's present default
            group; else C(system) for administrators.
          - A user who is not an administrator must be in a group besides C(user), because
            OMERO refuses C(user) as a default group (such a user could never log in); the
            module fails naming the user. V(user) is refused here too.
        type: str
      append:
        description:
          - When V(false), the user is removed from groups that are not listed.
          - When V(true), unlisted groups are kept (except C(system), which is only kept
            for administrators).
          - Not set means V(false), or V(true) for an LDAP user (O(users[].ldap)), whose
            directory groups C(omero.ldap.sync_on_login) maintains.
        type: bool
      ldap:
        description:
          - The user authenticates against LDAP. Its password is never set (giving
            O(users[].password) or O(users[].update_password=always) fails), its unlisted
            groups are kept unless O(users[].append=false), and a missing LDAP user is
            not created but reported in RV(skipped).
          - A user the server marks as an LDAP user must be listed with V(true).
        type: bool
        default: false
      update_password:
        description:
          - This user's password policy, overriding O(update_password), for example
            V(always) for a service account whose password is rotated.
        type: str
        choices: [always, on_create]
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
      - name: jdoe
        ldap: true
        groups: [imaging-facility]

- name: Apply a changed root password (log in with the one that still works)
  omero_docker.stack.omero_user:
    password: "{{ omero_root_password_previous }}"
    users:
      - name: root
        password: "{{ omero_root_password }}"
        update_password: always
  no_log: true
"""

RETURN = r"""
created:
  description: Names of the users created (in check mode, the users that would be created).
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
skipped:
  description: LDAP users not found on the server, which OMERO creates at their first login.
  returned: always
  type: list
  elements: str
  sample: []
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
  description: Kind of an expected failure (unreachable, not_ready, bad_credentials, timeout, missing_library, error).
  returned: failure
  type: str
  sample: bad_credentials
"""

# Ansible modules import after their documentation strings.
# ruff: noqa: E402
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.omero_docker.stack.plugins.module_utils import omero_client
from ansible_collections.omero_docker.stack.plugins.module_utils.omero_module import (
    fail_on_repeated_names,
    named_entries_spec,
    run_logged_in,
)
from ansible_collections.omero_docker.stack.plugins.module_utils.omero_plan import (
    ADMIN_PRIVILEGES,
    SYSTEM_GROUP,
    PlanError,
    check_ldap_user,
    desired_memberships,
    desired_privileges,
    membership_diff,
    password_action,
    resolve_default_group,
    user_field_changes,
)

ROOT_USER = "root"

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
        view["default_group"] = self.default_group(uid)
        if SYSTEM_GROUP in view["groups"]:
            privs = self.admin.getAdminPrivileges(exp)
            view["admin_privileges"] = sorted(omero_client.unwrap(p.getValue()) for p in privs)
        else:
            view["admin_privileges"] = None
        view["ldap"] = bool(omero_client.unwrap(exp.getLdap()))
        return view

    def default_group(self, uid):
        """The user's default group; None for a user OMERO finds none for (one left in
        "user" only, which cannot log in): listing a group for it repairs it."""
        try:
            return omero_client.unwrap(self.admin.getDefaultGroup(uid).getName())
        except omero_client.omero.ValidationException:
            return None

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


def _password_policy(desired, update_password):
    return desired.get("update_password") or update_password


def _no_changes(plan):
    plan.update(fields={}, add=[], remove=[], set_default=False, set_privileges=False)
    return plan


def plan_root_password(server, desired, update_password, params):
    """Only root's password: how the bootstrap applies a changed root password."""
    def matches():
        return omero_client.password_works(params, ROOT_USER, desired["password"])

    pw = password_action(True, _password_policy(desired, update_password), desired["password"], matches)
    plan = _no_changes({"exp": server.user(ROOT_USER), "missing_groups": [], "password": pw, "root": True,
                        "action": "update" if pw == "set" else "none"})  # noqa: S105 - an action name
    return plan, {"name": ROOT_USER}, {"name": ROOT_USER}


def plan_user(server, desired, update_password, params):
    """Compare one user with its description; return (plan dict, before view, after view)."""
    name = desired["name"]
    if name == ROOT_USER:
        return plan_root_password(server, desired, update_password, params)
    ldap = bool(desired.get("ldap"))
    if ldap:
        check_ldap_user(name, desired)
    privileges = desired_privileges(desired.get("admin_privileges"), desired.get("full_admin"))
    admin = privileges is not None
    exp = server.user(name)
    if exp is None and ldap:
        # OMERO creates an LDAP user at its first login (or `omero ldap create`), with its
        # directory's groups; this module never makes one.
        plan = _no_changes({"exp": None, "missing_groups": [], "password": "keep", "action": "skip"})
        return plan, None, None
    before = server.describe(exp) if exp is not None else None
    if before is not None and before["ldap"] and not ldap:
        raise PlanError("user %s is an LDAP user on the server: add ldap: true to its entry "
                        "(its password and directory groups are not managed here)" % name)
    # LDAP users keep the groups omero.ldap.sync_on_login gives them unless append=false.
    append = desired.get("append")
    if append is None:
        append = ldap
    default_group = resolve_default_group(desired.get("groups"), desired.get("default_group"), admin, name=name,
                                          current=before["default_group"] if before and append else None)
    if default_group == SYSTEM_GROUP and not admin:
        raise PlanError("user %s: default_group 'system' needs admin_privileges or full_admin" % name)
    missing = sorted(g for g in desired_memberships(desired.get("groups"), default_group, admin)
                     if server.group(g) is None)

    def matches():
        return omero_client.password_works(params, name, desired["password"])

    pw = password_action(exp is not None, _password_policy(desired, update_password), desired.get("password"),
                         matches)
    plan = {"exp": exp, "missing_groups": missing, "password": pw, "privileges": privileges,
            "default_group": default_group}
    if exp is None:
        plan.update(action="create", fields={}, add=[], remove=[])
        groups = sorted(desired_memberships(desired.get("groups"), default_group, admin))
    else:
        plan["fields"] = user_field_changes(before, desired)
        plan["add"], plan["remove"] = membership_diff(
            before["groups"], desired.get("groups"), default_group, admin, append=append)
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
                 admin_privileges=sorted(privileges) if admin else None, ldap=ldap)
    return plan, before, after


def create_user(server, desired, plan, password):
    admin = server.admin
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


def apply_user(server, desired, plan):
    admin = server.admin
    name = desired["name"]
    password = omero_client.rstring(desired.get("password") or "")
    if plan.get("root"):
        admin.changeUserPassword(name, password)
        return
    if plan["action"] == "create":
        create_user(server, desired, plan, password)
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
    result = dict(changed=False, created=[], updated=[], password_changed=[], skipped=[], users=[])
    before_all, after_all = [], []
    for desired in module.params["users"]:
        plan, before, after = plan_user(server, desired, module.params["update_password"], module.params)
        if plan["action"] == "skip":
            result["skipped"].append(desired["name"])
            module.warn("user %s: ldap user not found; OMERO creates it at its first login (or with "
                        "`omero ldap create`), a later run then manages it" % desired["name"])
            continue
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


def builtin_problems(users, update_password):
    """Refuse the built-in users, except root for its password alone (see the docs)."""
    problems = []
    for entry in users:
        if entry["name"] == "guest":
            problems.append("guest is built into OMERO and is not managed")
        if entry["name"] != ROOT_USER:
            continue
        extra = sorted(k for k, v in entry.items()
                       if k not in ("name", "password", "update_password") and v not in (None, [], False))
        if extra or not entry.get("password") or _password_policy(entry, update_password) != "always":
            problems.append("root is built into OMERO; only its password may be given here (name, password and "
                            "update_password=always%s)" % ("; remove " + ", ".join(extra) if extra else ""))
    return problems


def main():
    argument_spec = omero_client.omero_argument_spec()
    argument_spec.update(
        users=named_entries_spec(
            password=dict(type="str", no_log=True),
            groups=dict(type="list", elements="str", default=[]),
            default_group=dict(type="str"),
            append=dict(type="bool"),
            admin_privileges=dict(type="list", elements="str", choices=list(ADMIN_PRIVILEGES)),
            full_admin=dict(type="bool", default=False),
            ldap=dict(type="bool", default=False),
            update_password=dict(type="str", choices=["always", "on_create"], no_log=False),
            # The profile fields (first_name, ..., institution) are plain strings.
            **{field: dict(type="str") for field in _FIELDS},
        ),
        update_password=dict(type="str", default="on_create", choices=["always", "on_create"], no_log=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    builtin = builtin_problems(module.params["users"], module.params["update_password"])
    if builtin:
        module.fail_json(msg="built-in users are not managed by omero_user: %s" % "; ".join(builtin))
    fail_on_repeated_names(module, "users")
    run_logged_in(module, "user change", run)


if __name__ == "__main__":
    main()
