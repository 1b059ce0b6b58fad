"""Server rules of the OMERO.server stand-in, free of Ice and of the database.

Each rule says what a real OMERO.server 5.6 does (AdminImpl, the Glacier2 password
verifier, ScriptRepoHelper), written from its documented behaviour. The servants
(servants.py) and the store (store.py) call these functions; a rule that refuses raises
RuleError, whose ``kind`` names the omero exception the servant raises
(ApiUsageException, ValidationException, SecurityViolation).

To extend the stand-in, add the rule here first, test it without a server, then call
it from the store or a servant.
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


def check_default_group(group_id):
    """setDefaultGroup refuses the 'user' group."""
    if group_id == USER_GROUP_ID:
        raise RuleError("ApiUsageException", "Cannot set default group to: %s" % USER_GROUP)


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


def check_privileges(names):
    unknown = sorted(set(names) - set(ADMIN_PRIVILEGES))
    if unknown:
        raise RuleError("ApiUsageException", "Unknown admin privilege(s): %s" % ", ".join(unknown))
    return sorted(set(names))


def effective_privileges(is_system_member, denied):
    """Light admins hold every privilege not stored as denied; non-admins hold none."""
    if not is_system_member:
        return []
    return sorted(set(ADMIN_PRIVILEGES) - set(denied))


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
