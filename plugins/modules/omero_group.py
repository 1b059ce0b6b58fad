#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: omero_docker.stack developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module omero_group: OMERO groups and their permission levels.

Why a custom module: OMERO keeps groups in its database behind the Ice API; there is
no file or SQL an existing module could manage safely, and the CLI (`omero group add
--ignore-existing`) cannot tell whether it changed anything nor change permissions of
an existing group idempotently. This module reads each group, compares, and calls
IAdmin.createGroup, IAdmin.updateGroup or a Chmod2 request only when needed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: omero_group
short_description: Manage OMERO groups and their permission levels
version_added: 0.1.0
description:
  - Makes the listed OMERO groups exist with the given permission level and description.
  - Creates missing groups, changes the permission level of existing groups (with a
    C(Chmod2) request, as C(omero group perms) does) and their description; leaves
    other groups alone. Groups are never deleted.
  - The groups every OMERO.server has (C(system), C(user), C(guest)) are refused.
author:
  - omero_docker.stack developers (!UNKNOWN)
extends_documentation_fragment:
  - omero_docker.stack.omero_connection
options:
  groups:
    description:
      - The groups to manage.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the group.
        type: str
        required: true
      permissions:
        description:
          - Permission level, by name or as OMERO's permission string. V(private) is
            C(rw----), V(read-only) C(rwr---), V(read-annotate) C(rwra--), V(read-write)
            C(rwrw--); any other value fails.
          - Not set means V(private) for a group the module creates and the present level,
            unchanged, for a group that exists.
          - Lowering the level of a group that holds data linked across users may be
            refused by the server; the module then fails with the server's reason.
        type: str
        aliases: [perms]
      description:
        description: Description of the group. Left as it is when not set.
        type: str
  chmod_timeout:
    description:
      - Seconds to wait for a permission change (a C(Chmod2) request, which on a group
        with much data runs long on the server).
      - When it is still running after that, the module fails with
        C(error_kind=still_running) and says so; the server carries on with it, and a
        later run reports the group unchanged once it has finished.
    type: int
    default: 1800
attributes:
  check_mode:
    description: Reports what would be created or changed without changing the server.
    support: full
  diff_mode:
    description: Shows each managed group's permission level and description before and after.
    support: full
seealso:
  - module: omero_docker.stack.omero_user
"""

EXAMPLES = r"""
- name: Groups of a typical facility
  omero_docker.stack.omero_group:
    password: "{{ omero_root_password }}"
    groups:
      - name: imaging-facility
        permissions: read-annotate
        description: Shared facility data
      - name: lab-smith
        permissions: private
      - name: public-data
        perms: rwr---
"""

RETURN = r"""
created:
  description: Names of the groups created (in check mode, the groups that would be).
  returned: always
  type: list
  elements: str
  sample: [lab-smith]
updated:
  description: Names of existing groups whose permissions or description changed.
  returned: always
  type: list
  elements: str
  sample: [imaging-facility]
groups:
  description: Every managed group after the run (in check mode, as it would be).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "lab-smith", "permissions": "private", "permission_string": "rw----"}]
error_kind:
  description: >-
    Kind of an expected failure (unreachable, not_ready, bad_credentials, timeout, still_running,
    missing_library, error).
  returned: failure
  type: str
  sample: unreachable
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
    PlanError,
    check_group_name,
    permission_level,
    permission_string,
    plan_group,
)


def read_group(admin, name):
    """The group as a dict and its object, or (None, None) when absent."""
    try:
        group = admin.lookupGroup(name)
    except omero_client.omero.ApiUsageException:
        return None, None
    perms = str(group.getDetails().getPermissions())
    return {
        "name": name,
        "id": omero_client.unwrap(group.getId()),
        "permissions": perms,
        "description": omero_client.unwrap(group.getDescription()),
    }, group


def create_group(admin, desired):
    omero = omero_client.omero
    group = omero.model.ExperimenterGroupI()
    group.setName(omero_client.rstring(desired["name"]))
    group.setLdap(omero.rtypes.rbool(False))
    if desired.get("description") is not None:
        group.setDescription(omero_client.rstring(desired["description"]))
    group.getDetails().setPermissions(omero.model.PermissionsI(permission_string(desired["permissions"])))
    return admin.createGroup(group)


def chmod_group(session, group_id, perm_string, seconds):
    omero = omero_client.omero
    request = omero.cmd.Chmod2(targetObjects={"ExperimenterGroup": [group_id]}, permissions=perm_string)
    session.submit(request, seconds=seconds)


def public_view(name, perm_string, description=None):
    view = {"name": name, "permissions": permission_level(perm_string), "permission_string": perm_string}
    if description is not None:
        view["description"] = description
    return view


def run(module, session):
    admin = session.admin
    created, updated, views = [], [], []
    before, after = [], []
    for desired in module.params["groups"]:
        name = desired["name"]
        current, group = read_group(admin, name)
        plan = plan_group(current, desired)
        if desired.get("permissions") is not None:
            want = permission_string(desired["permissions"])
        else:
            want = current["permissions"] if current is not None else permission_string("private")
        if current is not None:
            before.append(public_view(name, current["permissions"], current.get("description")))
        desc_after = desired.get("description")
        if desc_after is None and current is not None:
            desc_after = current.get("description")
        after.append(public_view(name, want, desc_after))
        views.append(public_view(name, want, desc_after))
        if plan["action"] == "none":
            continue
        (created if plan["action"] == "create" else updated).append(name)
        if module.check_mode:
            continue
        if plan["action"] == "create":
            create_group(admin, dict(desired, permissions=want))
            continue
        if "description" in plan["changes"]:
            group.setDescription(omero_client.rstring(desired["description"]))
            admin.updateGroup(group)
        if "permissions" in plan["changes"]:
            try:
                chmod_group(session, current["id"], want, module.params["chmod_timeout"])
            except omero_client.OmeroStillRunning:
                module.fail_json(
                    msg="the permission change of group %s to %s (Chmod2) is still running on the server after "
                        "chmod_timeout=%s s; the server carries on with it: run again later (the group is "
                        "reported unchanged once it is done) or raise chmod_timeout"
                        % (name, permission_level(want), module.params["chmod_timeout"]),
                    error_kind="still_running", changed=True, created=created, updated=updated)
    result = dict(changed=bool(created or updated), created=created, updated=updated, groups=views)
    if module._diff:
        result["diff"] = {"before": {"groups": before}, "after": {"groups": after}}
    return result


def main():
    argument_spec = omero_client.omero_argument_spec()
    argument_spec.update(
        groups=named_entries_spec(
            permissions=dict(type="str", aliases=["perms"]),
            description=dict(type="str"),
        ),
        chmod_timeout=dict(type="int", default=1800),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    fail_on_repeated_names(module, "groups")
    try:
        for group in module.params["groups"]:
            check_group_name(group["name"])
            if group["permissions"] is not None:
                permission_string(group["permissions"])
    except PlanError as err:
        module.fail_json(msg=str(err))
    run_logged_in(module, "group change", run)


if __name__ == "__main__":
    main()
