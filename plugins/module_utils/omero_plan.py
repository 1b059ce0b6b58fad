# -*- coding: utf-8 -*-
# Copyright: omero_docker.stack developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Pure decision logic of the omero_* modules.

Nothing here talks to a server or imports omero-py: given what the server holds and
what the task asks for, these functions decide what to add, replace, remove or change.
That keeps the rules unit-testable without OMERO.server, and it keeps the modules thin.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import hashlib
import posixpath
import sys
from importlib import metadata

OMERO_SCRIPTS_DISTRIBUTION = "omero-scripts"

# Symbolic group permission levels and their OMERO permission strings
# (the same table as `omero group add --type`).
GROUP_PERMISSIONS = {
    "private": "rw----",
    "read-only": "rwr---",
    "read-annotate": "rwra--",
    "read-write": "rwrw--",
}

# Light-administrator privileges known to OMERO 5.6 (omero.model.enums.AdminPrivilege*).
# A unit test checks this list against omero-py's enumeration.
ADMIN_PRIVILEGES = (
    "Chgrp",
    "Chown",
    "DeleteFile",
    "DeleteManagedRepo",
    "DeleteOwned",
    "DeleteScriptRepo",
    "ModifyGroup",
    "ModifyGroupMembership",
    "ModifyUser",
    "ReadSession",
    "Sudo",
    "WriteFile",
    "WriteManagedRepo",
    "WriteOwned",
    "WriteScriptRepo",
)

# Groups every OMERO server has. "user" membership is what lets a user log in;
# "system" membership makes a user an administrator (full or light).
USER_GROUP = "user"
SYSTEM_GROUP = "system"
BUILTIN_USERS = ("root", "guest")
BUILTIN_GROUPS = (SYSTEM_GROUP, USER_GROUP, "guest")


class PlanError(ValueError):
    """A request that cannot be satisfied; the message names the fix."""


# ---------------------------------------------------------------- permissions


def permission_string(level):
    """Map a symbolic level (or an explicit 'rwra--' string) to OMERO's string."""
    if level in GROUP_PERMISSIONS:
        return GROUP_PERMISSIONS[level]
    if level in GROUP_PERMISSIONS.values():
        return level
    raise PlanError(
        "unknown group permission level %r: use one of %s"
        % (level, ", ".join(sorted(GROUP_PERMISSIONS)))
    )


def permission_level(perm_string):
    """Map OMERO's permission string back to its symbolic level (or the string)."""
    for level, value in GROUP_PERMISSIONS.items():
        if value == perm_string:
            return level
    return perm_string


def plan_group(current, desired):
    """Decide what to do with one group.

    current: None (absent) or dict(name, permissions='rw----', description).
    desired: dict(name, permissions=<level> or None, description=None): None means
             "leave it alone" (a new group is private).
    Returns dict(action='create'|'update'|'none', changes={field: (old, new)}).
    """
    check_group_name(desired.get("name"))
    wanted = desired.get("permissions")
    if current is None:
        return {"action": "create", "changes": {"permissions": (None, permission_string(wanted or "private"))}}
    changes = {}
    if wanted is not None:
        want_perms = permission_string(wanted)
        if current.get("permissions") != want_perms:
            changes["permissions"] = (current.get("permissions"), want_perms)
    want_desc = desired.get("description")
    if want_desc is not None and (current.get("description") or "") != want_desc:
        changes["description"] = (current.get("description"), want_desc)
    return {"action": "update" if changes else "none", "changes": changes}


def check_group_name(name):
    """Refuse the groups every server has: their permissions and members are OMERO's."""
    if name in BUILTIN_GROUPS:
        raise PlanError(
            "group %s is built into OMERO (%s) and is not managed: remove it from the list"
            % (name, ", ".join(BUILTIN_GROUPS))
        )


# ---------------------------------------------------------------- users


def desired_memberships(groups, default_group, admin):
    """The exact set of groups a managed user should belong to."""
    wanted = set(groups or [])
    if default_group:
        wanted.add(default_group)
    wanted.add(USER_GROUP)
    if admin:
        wanted.add(SYSTEM_GROUP)
    else:
        wanted.discard(SYSTEM_GROUP)
    return wanted


def membership_diff(current, groups, default_group, admin, append=False):
    """Return (add, remove) sorted lists of group names.

    With append=True, groups the user has but the task does not list are kept,
    except "system": administrator rights are never kept unless asked for.
    """
    current = set(current or [])
    wanted = desired_memberships(groups, default_group, admin)
    add = sorted(wanted - current)
    if append:
        remove = sorted(g for g in current - wanted if g == SYSTEM_GROUP)
    else:
        remove = sorted(current - wanted)
    return add, remove


def resolve_default_group(groups, default_group, admin=False, name=None, current=None):
    """The default group of a user.

    The one named, else the first listed, else ``current`` (the user's present default
    group: callers pass it only when unlisted memberships are kept, as with append),
    else "system" for an administrator (where OMERO puts new administrators).

    A user who is not an administrator must belong to a group besides "user": OMERO
    refuses "user" as a default group (IAdmin.setDefaultGroup: "Cannot set default group
    to: user"; removeGroups refuses to leave a user in "user" only; getDefaultGroup
    ignores it), so such a user could never log in. That is a PlanError naming the user.
    """
    who = "user %s" % name if name else "a user"
    if default_group == USER_GROUP:
        raise PlanError(
            "%s: default_group '%s' is refused by OMERO (Cannot set default group to: user); "
            "name one of the user's own groups" % (who, USER_GROUP)
        )
    if default_group:
        return default_group
    for group in groups or []:
        if group not in (USER_GROUP, SYSTEM_GROUP):
            return group
    if current and current != USER_GROUP and (admin or current != SYSTEM_GROUP):
        return current
    if admin:
        return SYSTEM_GROUP
    raise PlanError(
        "%s: list at least one group besides '%s' in groups (or make the user an administrator): "
        "OMERO refuses '%s' as a default group, so the user could never log in" % (who, USER_GROUP, USER_GROUP)
    )


def desired_privileges(admin_privileges, full_admin):
    """None when the user must not be an administrator, else the set of privileges."""
    if full_admin:
        return set(ADMIN_PRIVILEGES)
    if admin_privileges is None:
        return None
    unknown = sorted(set(admin_privileges) - set(ADMIN_PRIVILEGES))
    if unknown:
        raise PlanError(
            "unknown admin privilege(s) %s: use some of %s"
            % (", ".join(unknown), ", ".join(ADMIN_PRIVILEGES))
        )
    return set(admin_privileges)


def password_action(exists, update_password, password, password_matches=None):
    """Decide what to do with a password.

    Returns 'set' (create or change it) or 'keep'. password_matches is a callable
    that says whether the given password already works (only asked when needed).
    """
    if not exists:
        if not password:
            raise PlanError("a password is required to create a user")
        return "set"
    if update_password != "always" or not password:  # noqa: S105 - a policy name, not a password
        return "keep"
    if password_matches is not None and password_matches():
        return "keep"
    return "set"


def check_ldap_user(name, desired):
    """An LDAP user's password is the directory's: refuse to set one here."""
    if desired.get("password") is not None:
        raise PlanError(
            "user %s: ldap users log in with their directory password; remove password "
            "(OMERO refuses to change the password of an LDAP user)" % name
        )
    if desired.get("update_password") == "always":  # noqa: S105 - a policy name, not a password
        raise PlanError("user %s: update_password=always does not apply to an ldap user; remove it" % name)


def user_field_changes(current, desired):
    """Changed profile fields {field: (old, new)}; a desired None means leave alone."""
    changes = {}
    for field in ("first_name", "middle_name", "last_name", "email", "institution"):
        want = desired.get(field)
        if want is None:
            continue
        have = (current or {}).get(field)
        if (have or "") != want:
            changes[field] = (have, want)
    return changes


# ---------------------------------------------------------------- scripts


def content_sha1(text):
    """SHA-1 of the UTF-8 bytes of a script: what OMERO stores as SHA1-160."""
    if not isinstance(text, bytes):
        text = text.encode("utf-8")
    return hashlib.sha1(text).hexdigest()  # noqa: S324 - OMERO's own checksum algorithm


def content_sha256(data):
    if not isinstance(data, bytes):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def require_script_file(path):
    """A site script's server path must name a .py file: OMERO lists only files whose
    name gives a script type (getScripts), so any other name would be uploaded again on
    every run without ever being registered."""
    if not path.endswith(".py") or posixpath.basename(path) == ".py":
        raise PlanError(
            "script path %s must end with .py: OMERO registers only Python scripts with that "
            "extension (any other file is never listed, so it would be uploaded on every run)" % path
        )
    return path


def normalize_script_path(path):
    """'/omero/x/Y.py' form: leading slash, no '..', no trailing slash."""
    if not path or not path.strip("/"):
        raise PlanError("script path %r is empty" % (path,))
    if ".." in path.split("/"):
        raise PlanError("script path %r must not contain '..'" % (path,))
    return posixpath.normpath("/" + path.strip("/"))


def server_script_path(directory, name):
    """Full path of a script from OriginalFile.path and OriginalFile.name."""
    return normalize_script_path(posixpath.join(directory or "/", name))


def normalize_folder(folder):
    return normalize_script_path(folder) + "/"


def in_folders(path, folders):
    return any(path.startswith(f) for f in folders)


def parse_checksum(checksum):
    """'sha256:<hex>' -> ('sha256', '<hex>')."""
    algo, sep, value = (checksum or "").partition(":")
    algo = algo.lower()
    if not sep or algo not in ("sha256", "sha512", "sha1") or not value:
        raise PlanError(
            "checksum %r must look like 'sha256:<hex digest>' (sha256, sha512 or sha1)" % (checksum,)
        )
    return algo, value.strip().lower()


def verify_checksum(data, checksum):
    algo, want = parse_checksum(checksum)
    have = hashlib.new(algo, data).hexdigest()
    if have != want:
        raise PlanError("checksum mismatch: expected %s:%s, got %s:%s" % (algo, want, algo, have))


def select_official(available, patterns):
    """Pick official scripts whose server path matches one of the patterns.

    available: {server path: content}. Each pattern must match at least one script,
    so a typo fails instead of silently registering nothing.
    """
    selected = {}
    for pattern in patterns or []:
        pat = pattern if pattern == "*" else normalize_script_path(pattern.rstrip("/")) + (
            "/*" if pattern.endswith("/") else ""
        )
        hits = [p for p in available if fnmatch.fnmatchcase(p, pat)]
        if not hits:
            raise PlanError(
                "official script pattern %r matches nothing in %s; available: %s"
                % (pattern, OMERO_SCRIPTS_DISTRIBUTION, ", ".join(sorted(available)))
            )
        for path in hits:
            selected[path] = available[path]
    return selected


def plan_scripts(server, desired, prune=False, managed_folders=None):
    """Decide what to do with scripts.

    server: {path: {"sha1": hex or None, ...}} what the server holds. When sha1 is
            None the caller could not read the server's hash; it may pass
            "content" instead (the text the server returned).
    desired: {path: content}.
    Returns dict(add=[...], replace=[...], keep=[...], remove=[...]), sorted.
    """
    plan = {"add": [], "replace": [], "keep": [], "remove": []}
    for path in sorted(desired):
        have = server.get(path)
        if have is None:
            plan["add"].append(path)
            continue
        want_sha1 = content_sha1(desired[path])
        if have.get("sha1"):
            same = have["sha1"].lower() == want_sha1
        else:
            same = have.get("content") is not None and content_sha1(have["content"]) == want_sha1
        plan["keep" if same else "replace"].append(path)
    if prune:
        folders = [normalize_folder(f) for f in managed_folders or []]
        if not folders:
            raise PlanError("prune needs managed_folders: the folders whose unlisted scripts are removed")
        plan["remove"] = sorted(p for p in server if p not in desired and in_folders(p, folders))
    return plan


# ---------------------------------------------------------------- official scripts


def _find_distribution(search_path):
    path = list(search_path or []) + list(sys.path)
    for dist in metadata.distributions(path=path):
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name == OMERO_SCRIPTS_DISTRIBUTION:
            return dist
    return None


def official_scripts(search_path=None, version=None):
    """Read the official scripts from the installed omero-scripts distribution.

    The list comes from the distribution's own file record (RECORD), not from a
    directory listing or a git branch: every `omero/<category>/<Name>.py` file it
    ships except package markers. Returns (version, {server path: content}).
    """
    dist = _find_distribution(search_path)
    if dist is None:
        raise PlanError(
            "the %s distribution%s is not installed for %s; install it (pip install --no-deps %s%s) "
            "or point official_search_path at a directory holding it"
            % (
                OMERO_SCRIPTS_DISTRIBUTION,
                " " + version if version else "",
                sys.executable,
                OMERO_SCRIPTS_DISTRIBUTION,
                "==" + version if version else "",
            )
        )
    have_version = dist.version
    if version and have_version != version:
        raise PlanError(
            "%s %s is installed but %s is pinned; install the pinned version"
            % (OMERO_SCRIPTS_DISTRIBUTION, have_version, version)
        )
    scripts = {}
    for packaged in dist.files or []:
        rel = str(packaged).replace("\\", "/")
        parts = rel.split("/")
        if len(parts) < 3 or parts[0] != "omero" or not rel.endswith(".py"):
            continue
        if parts[-1] == "__init__.py":
            continue
        with open(str(dist.locate_file(packaged)), "rb") as handle:
            scripts["/" + rel] = handle.read().decode("utf-8")
    if not scripts:
        raise PlanError("%s %s ships no scripts" % (OMERO_SCRIPTS_DISTRIBUTION, have_version))
    return have_version, scripts
