"""Server rules of the OMERO.server stand-in, free of Ice and of the database.

Each rule says what a real OMERO.server 5.6 does (AdminImpl, SimpleRoleProvider, the
Glacier2 password verifier, ScriptRepoHelper), written from its documented behaviour and
checked against ome/omero-server's sources. Two consumers call these functions, so they
cannot drift apart:

- the stand-in image: the servants (servants.py), the store (store.py), the script
  repository (scriptrepo.py) and omero.cmd (commands.py);
- the unit tests' fake omero-py server (tests/helpers/fake_omero.py), which imports
  this file by path.

A rule that refuses raises RuleError, whose ``kind`` names the exception the server
raises: an omero exception (ApiUsageException, ValidationException, SecurityViolation)
or Glacier2's PermissionDeniedException for a refused login.

Keep this module free of Ice, omero-py and database imports (the fake imports it in a
process where omero-py's classes are autospecced). To extend the stand-in, add the rule
here first, test it without a server, then call it from the store or a servant and from
the fake.
"""

import hashlib
import hmac
import os
import posixpath
import re

# Built-in ids and names of every OMERO.server (ome.system.Roles).
ROOT_ID, GUEST_ID = 0, 1
SYSTEM_GROUP_ID, USER_GROUP_ID, GUEST_GROUP_ID = 0, 1, 2
ROOT_NAME, GUEST_NAME = "root", "guest"
SYSTEM_GROUP, USER_GROUP, GUEST_GROUP = "system", "user", "guest"

# The 15 light-administrator privileges of OMERO 5.6 (LightAdminPrivileges).
ADMIN_PRIVILEGES = (
    "Chgrp", "Chown", "DeleteFile", "DeleteManagedRepo", "DeleteOwned", "DeleteScriptRepo",
    "ModifyGroup", "ModifyGroupMembership", "ModifyUser", "ReadSession", "Sudo", "WriteFile",
    "WriteManagedRepo", "WriteOwned", "WriteScriptRepo",
)  # fmt: skip

# Schema version the stand-in writes into its dbpatch marker (OMERO 5.6's schema).
SCHEMA_VERSION, SCHEMA_PATCH = "OMERO5.4", 0

# What Glacier2 answers while Blitz is not up (its verifier is unreachable).
STARTING_REASON = "internal server error"

PERMISSION_STRING = re.compile(r"^[r-][w-][r-][wa-][r-][wa-]$")


class RuleError(Exception):
    """A refusal with the kind of omero exception the real server raises."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


# ----------------------------------------------------------------- configuration


def property_name(variable):
    """CONFIG_omero_db_host -> omero.db.host; a double underscore is a literal '_'."""
    return "_".join(part.replace("_", ".") for part in variable[len("CONFIG_") :].split("__"))


# ----------------------------------------------------------------- passwords


def hash_password(password, salt=None, iterations=100_000):
    """Salted PBKDF2-SHA256 of a password, as 'pbkdf2_sha256$ITER$SALT$HEX'."""
    salt = salt or os.urandom(16).hex()
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("ascii"), iterations)
    return "pbkdf2_sha256$%d$%s$%s" % (iterations, salt, digest.hex())


def password_matches(stored, password):
    if not stored:
        return False
    try:
        algo, iterations, salt, _hex = stored.split("$", 3)
    except ValueError:
        return False
    if algo != "pbkdf2_sha256":
        return False
    return hmac.compare_digest(hash_password(password, salt, int(iterations)), stored)


def login_refusal(user):
    """Glacier2's reason for a wrong user name or password (the verifier's text)."""
    return "Password check failed for '%s': [user or password incorrect]" % user


def check_login(user, stored_hash, password, group_ids):
    """The permissions verifier: the right password of a member of the 'user' group.

    stored_hash: the user's hash_password() value (None for an unknown user or one
    without a password); group_ids: the user's group ids.
    """
    if not password_matches(stored_hash, password) or USER_GROUP_ID not in set(group_ids):
        raise RuleError("PermissionDeniedException", login_refusal(user))


# ----------------------------------------------------------------- groups and users


def check_permissions(perm):
    if not PERMISSION_STRING.match(perm or ""):
        raise RuleError("ApiUsageException", "Invalid permissions string: %r" % (perm,))
    return perm


def check_new_group_name(name, existing_names):
    if not name:
        raise RuleError("ApiUsageException", "Group name cannot be empty")
    if name in existing_names:
        raise RuleError("ValidationException", "Group name already exists: %s" % name)


def check_new_user_name(name, existing_names):
    if not name:
        raise RuleError("ApiUsageException", "omeName cannot be empty")
    if name in existing_names:
        raise RuleError("ValidationException", "Experimenter name already exists: %s" % name)


# Experimenter's required (not-null) fields besides omeName in OMERO's model.
REQUIRED_USER_FIELDS = ("firstname", "lastname")


def check_user_fields(fields):
    """A new experimenter needs firstName and lastName (not-null columns of OMERO's model)."""
    missing = [f for f in REQUIRED_USER_FIELDS if fields.get(f) is None]
    if missing:
        raise RuleError("ValidationException", "Experimenter field(s) required: %s" % ", ".join(missing))


def no_such_group(ref):
    """lookupGroup/getGroup's refusal for an unknown group name or id (AdminImpl)."""
    return RuleError("ApiUsageException", "No such group: %s" % (ref,))


def no_such_experimenter(ref):
    """lookupExperimenter/getExperimenter's refusal for an unknown name or id (AdminImpl)."""
    return RuleError("ApiUsageException", "No such experimenter: %s" % (ref,))


def memberships_for_new_user(default_id, other_ids):
    """createExperimenter: the default group at index 0, then the other groups in the
    given order, each once (SimpleRoleProvider links them in that order)."""
    ordered = []
    for gid in [default_id] + list(other_ids):
        if gid not in ordered:
            ordered.append(gid)
    return ordered


def check_default_group(group_id):
    """setDefaultGroup refuses the 'user' group."""
    if group_id == USER_GROUP_ID:
        raise RuleError("ApiUsageException", "Cannot set default group to: %s" % USER_GROUP)


def with_default_group(user_id, ordered_ids, group_id):
    """setDefaultGroup after check_default_group: the group must be one of the user's
    (SimpleRoleProvider), then it takes index 0 and the old default takes its place
    (Experimenter.setPrimaryGroupExperimenterMap). Returns the new order of group ids."""
    ordered = list(ordered_ids)
    if group_id not in ordered:
        raise RuleError("ApiUsageException", "Group %s was not found for user %s" % (group_id, user_id))
    i = ordered.index(group_id)
    ordered[0], ordered[i] = ordered[i], ordered[0]
    return ordered


def default_group(memberships):
    """The default group among [(group_id, group_name)] ordered by index: index 0 unless 'user'."""
    if memberships and memberships[0][1] != USER_GROUP:
        return memberships[0][0]
    return None


def no_default_group(user_id):
    return RuleError("ValidationException", "The user %d has no default group set." % user_id)


def check_remove_groups(user_id, current_ids, removed_ids, acting_user_id):
    """removeGroups: root keeps system/user, nobody removes themselves from them, and a
    user must keep a group besides 'user'."""
    removing_builtin = bool({SYSTEM_GROUP_ID, USER_GROUP_ID} & set(removed_ids))
    if removing_builtin and user_id == ROOT_ID:
        raise RuleError(
            "ValidationException",
            "experimenter '%s' may not be removed from the '%s' or '%s' group" % (ROOT_NAME, SYSTEM_GROUP, USER_GROUP),
        )
    if removing_builtin and user_id == acting_user_id:
        raise RuleError(
            "ValidationException",
            "experimenters may not remove themselves from the '%s' or '%s' group" % (SYSTEM_GROUP, USER_GROUP),
        )
    remaining = set(current_ids) - set(removed_ids)
    if not remaining:
        raise RuleError("ValidationException", "experimenter must remain a member of some group")
    if remaining == {USER_GROUP_ID}:
        raise RuleError(
            "ValidationException",
            "experimenter cannot be a member of only the '%s' group, a different default group is also required"
            % USER_GROUP,
        )


def check_add_groups(group_ids):
    if not group_ids:
        raise RuleError("ValidationException", "Nothing to do.")


def after_remove_groups(ordered_ids, removed_ids):
    """removeGroups after check_remove_groups: the remaining groups keep their order, so
    the next one becomes the default when the default is removed (OMERO has no rule
    against removing the default group; the list is reindexed)."""
    return [g for g in ordered_ids if g not in set(removed_ids)]


def check_privileges(names):
    unknown = sorted(set(names) - set(ADMIN_PRIVILEGES))
    if unknown:
        raise RuleError("ApiUsageException", "Unknown admin privilege(s): %s" % ", ".join(unknown))
    return sorted(set(names))


def denied_privileges(granted):
    """What createRestrictedSystemUser/setAdminPrivileges store: every privilege not granted
    (as false-valued user config entries in OMERO)."""
    return sorted(set(ADMIN_PRIVILEGES) - set(check_privileges(granted)))


def effective_privileges(is_system_member, denied):
    """Light admins hold every privilege not stored as denied; non-admins hold none."""
    if not is_system_member:
        return []
    return sorted(set(ADMIN_PRIVILEGES) - set(denied))


# The light-admin privilege each IAdmin/IScript write needs (AdminImpl, ScriptI);
# OTHER_USER: only when the target is not the caller (users may change themselves).
OTHER_USER = "other-user"
WRITE_PRIVILEGES = {
    "createGroup": "ModifyGroup", "updateGroup": "ModifyGroup",
    "createExperimenter": "ModifyUser", "createExperimenterWithPassword": "ModifyUser",
    "createRestrictedSystemUser": "ModifyUser", "createRestrictedSystemUserWithPassword": "ModifyUser",
    "setAdminPrivileges": "ModifyUser",
    "updateExperimenter": (OTHER_USER, "ModifyUser"), "setDefaultGroup": (OTHER_USER, "ModifyUser"),
    "changeUserPassword": (OTHER_USER, "ModifyUser"),
    "addGroups": "ModifyGroupMembership", "removeGroups": "ModifyGroupMembership",
    "uploadOfficialScript": "WriteScriptRepo", "editScript": "WriteScriptRepo", "deleteScript": "DeleteScriptRepo",
}  # fmt: skip


def check_write(operation, is_admin, privileges, self_target=False):
    """require_admin for one IAdmin/IScript write named as in omero-py (WRITE_PRIVILEGES)."""
    needed = WRITE_PRIVILEGES[operation]
    if isinstance(needed, tuple):
        if self_target:
            return
        needed = needed[1]
    require_admin(is_admin, privileges, needed)


def require_admin(is_admin, privileges=(), needed=None):
    if not is_admin:
        raise RuleError("SecurityViolation", "Admins only!")
    if needed and needed not in privileges:
        raise RuleError("SecurityViolation", "Admin restrictions prevent this action (needs %s)" % needed)


# ----------------------------------------------------------------- scripts


SCRIPT_SUFFIX = ".py"
SCRIPT_MIMETYPE = "text/x-python"


def script_path(path):
    """Normalise a server path '/omero/x/Y.py'; refuse '..' and empty paths."""
    if not path or not path.strip("/"):
        raise RuleError("ApiUsageException", "Script path cannot be empty")
    if ".." in path.split("/"):
        raise RuleError("ApiUsageException", "Script path may not contain '..': %s" % path)
    return posixpath.normpath("/" + path.strip("/"))


def split_script_path(path):
    """'/omero/a/B.py' -> ('/omero/a/', 'B.py'), OriginalFile's path and name."""
    directory, name = posixpath.split(script_path(path))
    return directory.rstrip("/") + "/", name


def is_script_file(relative_path):
    """The script repository's file filter: *.py files, no hidden parts, no packages."""
    parts = relative_path.split("/")
    if any(p.startswith(".") for p in parts):
        return False
    return parts[-1].endswith(SCRIPT_SUFFIX) and parts[-1] != "__init__.py"


def listed_script(path, name):
    """IScript.getScripts lists a registered OriginalFile only when the repository's
    filter accepts it (path '/omero/a/', name 'B.py')."""
    return is_script_file((path + name).lstrip("/"))


def check_new_script(path, registered_paths):
    """uploadOfficialScript: a *.py path not registered yet; returns the normalised path."""
    path = script_path(path)
    if not is_script_file(path.lstrip("/")):
        raise RuleError("ApiUsageException", "Invalid script name (not a .py file): %s" % path)
    if path in registered_paths:
        raise RuleError("ApiUsageException", "Path already exists: %s" % path)
    return path


SCRIPT_HASHER = "SHA1-160"


def no_such_script(sid):
    return RuleError("ApiUsageException", "No script with id %s" % (sid,))


def sha1_text(text):
    if not isinstance(text, bytes):
        text = text.encode("utf-8")
    return hashlib.sha1(text).hexdigest()  # noqa: S324 - OMERO's SHA1-160 checksum


def reconcile_scripts(registered, on_disk):
    """ScriptRepoHelper at startup: unregister what is gone, register what is new.

    registered: {path: id} in the database; on_disk: set of paths found under lib/scripts.
    Returns (ids_to_unregister, paths_to_register), both sorted.
    """
    gone = sorted(registered[p] for p in registered if p not in on_disk)
    new = sorted(p for p in on_disk if p not in registered)
    return gone, new


# ----------------------------------------------------------------- omero.cmd requests


def check_chmod_group(target_types, is_admin, owns_group, group_id, perm):
    """Chmod2 on groups: an administrator (or the group's owner) changes a group's
    permission string. The stand-in holds no data, so no link can block a downgrade."""
    others = sorted(set(target_types) - {"ExperimenterGroup", "omero.model.ExperimenterGroup"})
    if others:
        raise RuleError("ApiUsageException", "Chmod2 of %s is not supported by the stand-in" % ", ".join(others))
    if group_id in (SYSTEM_GROUP_ID, USER_GROUP_ID):
        raise RuleError(
            "SecurityViolation",
            "cannot change the permissions of the %s group"
            % (SYSTEM_GROUP if group_id == SYSTEM_GROUP_ID else USER_GROUP),
        )
    if not (is_admin or owns_group):
        raise RuleError("SecurityViolation", "not permitted to change the permissions of group %d" % group_id)
    return check_permissions(perm)
