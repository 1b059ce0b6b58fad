# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""OMERO groups and users of the site description, checked with OMERO's own rules.

The rules are those of the omero_group and omero_user modules (module_utils/omero_plan.py),
applied here before any host changes, each problem naming its variable:

- ``omero_groups``: not the built-in groups (system, user, guest); ``permissions``, when
  given, a level or permission string the module accepts. A group listed without
  permissions gets no default here: the module creates it private and leaves an existing
  group's permissions alone.
- ``omero_users``: every group named exists (``user`` and ``system`` are built in); a user
  who is not an administrator needs a group besides user/system, because OMERO refuses
  ``user`` as a default group (such a user could never log in).

:func:`bootstrap_accounts` gives them as the omero_group and omero_user modules take them,
the users without their passwords: a password is a secret, which the model never holds;
the action plugin hands them out with the other secret values (:func:`user_passwords`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.omero_docker.stack.plugins.module_utils import omero_plan
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import named_list

# The options of the omero_group and omero_user modules: any other key fails the bootstrap.
GROUP_KEYS = ("name", "permissions", "perms", "description")
USER_KEYS = ("name", "password", "first_name", "middle_name", "last_name", "email", "institution", "groups",
             "default_group", "append", "ldap", "update_password", "admin_privileges", "full_admin")


def _key_problems(item, var, known):
    return [("%s.%s" % (var, key), "unknown setting; one of: %s" % ", ".join(known))
            for key in sorted(set(item) - set(known), key=str)]


def _permission_problem(perms):
    valid = "one of %s, or a permission string %s" % (", ".join(sorted(omero_plan.GROUP_PERMISSIONS)),
                                                      ", ".join(sorted(omero_plan.GROUP_PERMISSIONS.values())))
    if not isinstance(perms, str):
        return "'%s' is not a permission level: %s" % (perms, valid)
    try:
        omero_plan.permission_string(perms)
    except omero_plan.PlanError:
        return "'%s' is not a permission level OMERO knows: %s" % (perms, valid)
    return None


def _group_problems(groups):
    errors = []
    for i, group in enumerate(groups):
        if not isinstance(group, dict):
            continue
        var = "omero_groups[%d]" % i
        errors.extend(_key_problems(group, var, GROUP_KEYS))
        try:
            omero_plan.check_group_name(group.get("name"))
        except omero_plan.PlanError as exc:
            errors.append((var + ".name", str(exc)))
        if "permissions" in group and "perms" in group:
            errors.append((var + ".perms", "give permissions or perms (its alias), not both"))
        key = "permissions" if "permissions" in group else "perms"
        if group.get(key) is not None:
            problem = _permission_problem(group[key])
            if problem:
                errors.append(("%s.%s" % (var, key), problem))
    return errors


def _is_admin(user):
    return bool(user.get("full_admin")) or user.get("admin_privileges") is not None


def _user_problems(i, user, known):
    var = "omero_users[%d]" % i
    errors = []
    listed = user.get("groups") or []
    if not isinstance(listed, list):
        return [(var + ".groups", "must be a list of group names")]
    for group in listed:
        if group not in known:
            errors.append((var + ".groups", "group '%s' is not in omero_groups" % group))
    default = user.get("default_group")
    if default is not None and default not in known:
        errors.append((var + ".default_group", "group '%s' is not in omero_groups" % default))
    if user.get("ldap"):
        return errors  # the directory decides an LDAP user's groups
    try:
        omero_plan.resolve_default_group(listed, default, admin=_is_admin(user), name=user.get("name"))
    except omero_plan.PlanError as exc:
        if default == omero_plan.USER_GROUP:
            errors.append((var + ".default_group", str(exc)))
        else:
            errors.append((var + ".groups", "would get default group 'user', which OMERO refuses (the user could "
                                            "never log in): list a group in %s.groups, or make the user an "
                                            "administrator (admin_privileges or full_admin)" % var))
    return errors


def problems(groups, users):
    """``(variable, message)`` for every group or user OMERO would refuse."""
    errors = _group_problems(groups)
    known = set(g.get("name") for g in groups if isinstance(g, dict))
    known.update((omero_plan.USER_GROUP, omero_plan.SYSTEM_GROUP))
    for i, user in enumerate(users):
        if isinstance(user, dict):
            errors.extend(_key_problems(user, "omero_users[%d]" % i, USER_KEYS))
            errors.extend(_user_problems(i, user, known))
    return errors


def site_accounts(site, errors):
    """``(groups, users)`` of omero_groups and omero_users, each checked."""
    groups = named_list(site.get("omero_groups"), "omero_groups", errors)
    users = named_list(site.get("omero_users"), "omero_users", errors)
    errors.extend(problems(groups, users))
    return groups, users


def bootstrap_accounts(groups, users):
    """``(groups, users)``, checked, as the modules take them; no user keeps a ``password``."""
    return ([dict(g) for g in groups],
            [dict((k, v) for k, v in u.items() if k != "password") for u in users])


def user_passwords(site):
    """``{user name: password}`` of the omero_users entries that give one (a secret: only for
    the action plugin's ``secret_values`` answer, never in the model)."""
    users = site.get("omero_users") if isinstance(site.get("omero_users"), list) else []
    return dict((u["name"], u["password"]) for u in users
                if isinstance(u, dict) and isinstance(u.get("name"), str) and u.get("password") is not None)
