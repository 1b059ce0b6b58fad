"""FAKE OMERO.server for unit tests: omero-py's real classes, autospecced, over in-memory state.

No OMERO.server can run on the machines this collection is tested on. This fake stands in
for one. Every proxy the modules touch is made with ``unittest.mock.create_autospec`` from
the REAL omero-py class (``omero.client``, ``omero.api.ServiceFactoryPrx``,
``omero.api.IAdminPrx``, ``omero.api.IScriptPrx``): calling a method omero-py does not
have, or with arguments its signature does not accept, fails the test. The methods that
are used get a side effect that reads and writes ``FakeOmeroServer``'s state, returns real
``omero.model`` objects and raises the exceptions the real server raises. Arguments are
type-checked the way Ice marshalling would reject them (RString, model objects, lists).

The server's RULES are not written here: every refusal and every rule of what the
server does (logins and password hashes, default group never ``user``, removing the last
real group, built-in ids, light-admin privileges and which write needs which, permission
strings and Chmod2 of groups, script paths, listing and checksums, the refusal texts)
comes from the OMERO.server stand-in's ``rules.py``
(tests/images/omero-server/standin/omero_standin/rules.py), the same functions the
stand-in image runs, so the fake and the stand-in cannot drift apart. A
``rules.RuleError`` becomes the omero exception it names (``Glacier2`` for a refused
login). What stays here is state, marshalling checks and test switches
(``reachable``, ``accepting_logins``, ``blitz_starting``, ``refuse_chmod``,
``chmod_seconds``) for behaviour the rules cannot produce without a real server.

omero-py must be importable (tools/omero-py.sh installs it): importing this module fails
otherwise, which fails the test run instead of skipping tests.
"""

from __future__ import annotations

import functools
import itertools
import sys
from pathlib import Path
from unittest import mock

import Glacier2
import Ice
import omero
import omero.api
import omero.callbacks
import omero.clients
import omero.cmd
import omero.model
from omero.rtypes import rbool, rlong, rstring

_STANDIN = Path(__file__).resolve().parents[2] / "tests" / "images" / "omero-server" / "standin"
if str(_STANDIN) not in sys.path:
    sys.path.insert(0, str(_STANDIN))

from omero_standin import rules  # noqa: E402 - the stand-in's pure rules (no Ice, no database)

SECURE_PORT = 4064
# PBKDF2 iterations of the fake's password hashes (rules.hash_password): the same
# function as the stand-in, fewer rounds so hundreds of logins stay cheap.
HASH_ITERATIONS = 1000
_BUILTIN_GROUPS = (
    (rules.SYSTEM_GROUP_ID, rules.SYSTEM_GROUP, "rw----"),
    (rules.USER_GROUP_ID, rules.USER_GROUP, "rwr---"),
    (rules.GUEST_GROUP_ID, rules.GUEST_GROUP, "rw----"),
)


def omero_error(err):
    """The exception the server raises for a rules.RuleError (as the stand-in's translate)."""
    if err.kind == "PermissionDeniedException":
        return Glacier2.PermissionDeniedException(reason=err.message)
    return getattr(omero, err.kind)(serverExceptionClass="ome.conditions." + err.kind, message=err.message)


def served(fn):
    """A side effect whose rules.RuleError reaches the caller as the server's exception."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except rules.RuleError as err:
            raise omero_error(err) from None

    return call


class FakeOmeroServer:
    """In-memory OMERO.server state with autospecced omero-py proxies in front of it."""

    def __init__(self, root_password="root-password-for-tests"):  # noqa: S107 - a fake server's
        self.reachable = True
        self.accepting_logins = True
        # Glacier2 while Blitz is still starting: every login is refused with
        # PermissionDeniedException(reason=rules.STARTING_REASON), even a right one.
        self.blitz_starting = False
        # Chmod2 refused as if data of different users were linked (the rules hold no data).
        self.refuse_chmod = False
        # Chmod2 takes this many seconds on the server (a large group); a client that
        # waits less sees it still running.
        self.chmod_seconds = 0
        self._ids = itertools.count(100)
        # user name -> password (tests read and set it); logins check its
        # rules.hash_password value, made again whenever the password changes.
        self.passwords = {}
        self._password_hashes = {}  # user name -> (password, hash)
        self.groups = {}  # name -> omero.model.ExperimenterGroupI
        self.users = {}  # name -> omero.model.ExperimenterI
        self.memberships = {}  # user name -> group names in index order (index 0: default)
        self.privileges = {}  # user name -> set of granted light-admin privilege names
        self.scripts = {}  # id -> omero.model.OriginalFileI
        self.script_text = {}  # id -> text
        self.writes = []  # (method, detail) of every call that changes state
        self.logins = []  # (user, password ok?)
        self.clients = []  # every autospecced omero.client instance made
        self.chmod_waits = []  # seconds a client waited for an unfinished Chmod2
        self._sfs = {}
        self._services = {}
        for gid, name, perms in _BUILTIN_GROUPS:
            self._add_group(name, perms, gid=gid)
        self._add_user(rules.ROOT_NAME, [rules.SYSTEM_GROUP, rules.USER_GROUP], uid=rules.ROOT_ID,
                       first="root", last="root")
        self._set_password(rules.ROOT_NAME, root_password)
        self.privileges[rules.ROOT_NAME] = set(rules.ADMIN_PRIVILEGES)
        self._add_user(rules.GUEST_NAME, [rules.GUEST_GROUP], uid=rules.GUEST_ID, first="Guest", last="Account")
        self.client_class = mock.create_autospec(omero.clients.BaseClient)
        self.client_class.side_effect = self._new_client

    # ------------------------------------------------------------ state views

    @property
    def members(self):
        """user name -> set of group names."""
        return {name: set(groups) for name, groups in self.memberships.items()}

    @property
    def default_group(self):
        """user name -> default group name (rules.default_group: None when it would be 'user')."""
        out = {}
        for name, groups in self.memberships.items():
            gid = rules.default_group([(self._gid(g), g) for g in groups])
            out[name] = self._group_name(gid) if gid is not None else None
        return out

    def _gid(self, name):
        return self.groups[name].getId().getValue()

    def _group_name(self, gid):
        for name, group in self.groups.items():
            if group.getId().getValue() == gid:
                return name
        raise omero_error(rules.no_such_group(gid))

    def _uid(self, name):
        return self.users[name].getId().getValue()

    def _group_ids(self, name):
        return [self._gid(g) for g in self.memberships.get(name, ())]

    def _is_admin(self, name):
        return rules.SYSTEM_GROUP_ID in self._group_ids(name)

    def _effective_privileges(self, name):
        granted = self.privileges.get(name, rules.ADMIN_PRIVILEGES)
        return rules.effective_privileges(self._is_admin(name), rules.denied_privileges(granted))

    def _check_write(self, acting, operation, target=None):
        rules.check_write(operation, self._is_admin(acting), self._effective_privileges(acting),
                          self_target=target is not None and target == acting)

    # ------------------------------------------------------------ state helpers

    def _add_group(self, name, perms, description=None, gid=None):
        group = omero.model.ExperimenterGroupI(rlong(next(self._ids) if gid is None else gid), True)
        group.setName(rstring(name))
        if description is not None:
            group.setDescription(rstring(description))
        group.getDetails().setPermissions(omero.model.PermissionsI(rules.check_permissions(perms)))
        self.groups[name] = group
        return group

    def _add_user(self, name, groups, *, uid=None, first="F", last="L", email=None, ldap=False):
        exp = omero.model.ExperimenterI(rlong(next(self._ids) if uid is None else uid), True)
        exp.setOmeName(rstring(name))
        exp.setLdap(rbool(ldap))
        exp.setFirstName(rstring(first))
        exp.setLastName(rstring(last))
        if email:
            exp.setEmail(rstring(email))
        self.users[name] = exp
        self.memberships[name] = list(groups)
        return exp

    def _set_password(self, name, password):
        self.passwords[name] = password

    def _password_hash(self, name):
        password = self.passwords.get(name)
        if password is None:
            return None
        cached = self._password_hashes.get(name)
        if cached is None or cached[0] != password:
            cached = self._password_hashes[name] = (password, rules.hash_password(password, iterations=HASH_ITERATIONS))
        return cached[1]

    def add_group(self, name, perms="rw----", description=None):
        """Seed a group (test set-up, not recorded as a write)."""
        return self._add_group(name, perms, description)

    def add_user(self, name, password, groups=("user",), default="user", privileges=None, **fields):
        """Seed a user (test set-up, not recorded as a write): the default group at index 0,
        then the other groups, then "user"; "system" too for a light admin.

        The defaults make a user in "user" only, which the real server cannot have as a
        working account (rules.default_group): tests of such a user seed it on purpose."""
        order = rules.memberships_for_new_user(default, list(groups) + [rules.USER_GROUP])
        if privileges is not None:
            order = rules.memberships_for_new_user(order[0], order[1:] + [rules.SYSTEM_GROUP])
            self.privileges[name] = set(rules.check_privileges(privileges))
        exp = self._add_user(name, order, **fields)
        self._set_password(name, password)
        return exp

    def add_script(self, path, text, hasher=rules.SCRIPT_HASHER):
        """Seed a registered script; hasher None leaves the hash unknown to the client."""
        return self._store_script(path, text, hasher)

    def _store_script(self, path, text, hasher=rules.SCRIPT_HASHER):
        ofile = omero.model.OriginalFileI(rlong(next(self._ids)), True)
        directory, name = rules.split_script_path(path)
        ofile.setPath(rstring(directory))
        ofile.setName(rstring(name))
        self._hash(ofile, text, hasher)
        self.scripts[ofile.getId().getValue()] = ofile
        self.script_text[ofile.getId().getValue()] = text
        return ofile

    @staticmethod
    def _hash(ofile, text, hasher):
        if hasher is None:
            ofile.setHash(None)
            ofile.setHasher(None)
            return
        algo = omero.model.ChecksumAlgorithmI()
        algo.setValue(rstring(hasher))
        ofile.setHasher(algo)
        # Another hasher than OMERO's SHA1-160: a digest the client cannot compare.
        ofile.setHash(rstring(rules.sha1_text(text) if hasher == rules.SCRIPT_HASHER else "0" * 16))

    def script_paths(self):
        return sorted(f.getPath().getValue() + f.getName().getValue() for f in self.scripts.values())

    def text_of(self, path):
        for sid, ofile in self.scripts.items():
            if ofile.getPath().getValue() + ofile.getName().getValue() == path:
                return self.script_text[sid]
        raise KeyError(path)

    def perms_of(self, group):
        return str(self.groups[group].getDetails().getPermissions())

    # ------------------------------------------------------------ checks like Ice marshalling

    @staticmethod
    def _require(value, kind, what):
        if not isinstance(value, kind):
            raise TypeError("%s must be %s, got %r" % (what, kind, type(value)))

    def _group_by_ref(self, ref):
        self._require(ref, omero.model.ExperimenterGroup, "group")
        return self._group_name(ref.getId().getValue())

    def _user_by_ref(self, ref):
        self._require(ref, omero.model.Experimenter, "experimenter")
        uid = ref.getId().getValue()
        for name, exp in self.users.items():
            if exp.getId().getValue() == uid:
                return name
        raise omero_error(rules.no_such_experimenter(uid))

    # ------------------------------------------------------------ client and session

    def _new_client(self, *args, **kwargs):
        client = mock.create_autospec(omero.clients.BaseClient, instance=True)
        state = {"session": None, "secure": True, "kwargs": kwargs}
        client.fake_state = state

        def create_session(username=None, password=None):
            if not self.reachable:
                raise Ice.ConnectionRefusedException(error=111)
            if not self.accepting_logins:
                raise Glacier2.CannotCreateSessionException(reason="Server not ready")
            if self.blitz_starting:
                # Glacier2's SessionRouterI turns any failure of the permissions verifier
                # (Blitz not activated yet) into this reason.
                raise Glacier2.PermissionDeniedException(reason=rules.STARTING_REASON)
            try:
                rules.check_login(username, self._password_hash(username), password, self._group_ids(username))
            except rules.RuleError as err:
                self.logins.append((username, False))
                raise omero_error(err) from None
            self.logins.append((username, True))
            state["session"] = self._new_service_factory(username)
            state["user"] = username
            return state["session"]

        def get_session(blocking=True):
            if state["session"] is None:
                raise omero.ClientError("No session available")
            return state["session"]

        def create_client(secure):
            other = self._new_client()
            other.fake_state.update(session=state["session"], user=state.get("user"), secure=secure)
            return other

        def submit(req, loops=10, ms=500, failonerror=True, ctx=None, failontimeout=True):  # noqa: PLR0917
            # Like BaseClient.submit/waitOnCmd: a CmdCallbackI; an unfinished request
            # raises omero.LockTimeout with failontimeout, else its callback has no
            # response yet; a failed one raises omero.CmdError with failonerror.
            self._require(req, omero.cmd.Request, "request")
            waited = loops * ms / 1000.0
            if isinstance(req, omero.cmd.Chmod2):
                if self.chmod_seconds > waited:
                    self.chmod_waits.append(waited)
                    if failontimeout:
                        raise omero.LockTimeout(None, None, "Command unfinished after %s seconds" % waited,
                                                5000, int(waited))
                    return self._callback(None)
                return self._callback(self._chmod(req, state.get("user") or rules.ROOT_NAME))
            if isinstance(req, omero.cmd.UpdateSessionTimeoutRequest):
                self._require(req.timeToIdle, omero.RLong, "timeToIdle")
                state["time_to_idle_ms"] = req.timeToIdle.getValue()
                return self._callback(omero.cmd.OK())
            raise AssertionError("fake server does not handle %s" % type(req).__name__)

        def close_session():
            state["session"] = None

        client.createSession.side_effect = create_session
        client.getSession.side_effect = get_session
        client.getSessionId.return_value = "fake-session-uuid"
        client.createClient.side_effect = create_client
        client.submit.side_effect = submit
        client.closeSession.side_effect = close_session
        client.killSession.side_effect = lambda: close_session() or 1
        client.getImplicitContext.return_value = mock.create_autospec(Ice.ImplicitContext, instance=True)
        self.clients.append(client)
        return client

    @staticmethod
    def _callback(response):
        callback = mock.create_autospec(omero.callbacks.CmdCallbackI, instance=True)
        callback.getResponse.return_value = response
        callback.block.return_value = response is not None
        return callback

    def _new_service_factory(self, username):
        # One autospecced ServiceFactory and services per logged-in user, made on first
        # use (autospeccing omero-py's large proxy classes is what costs time in these
        # tests); the services act as that user (rules.check_write).
        if username not in self._sfs:
            sf = mock.create_autospec(omero.api.ServiceFactoryPrx, instance=True)
            sf.getAdminService.side_effect = lambda _ctx=None: self._cached(username, "admin", self._admin_service)
            sf.getScriptService.side_effect = lambda _ctx=None: self._cached(username, "script", self._script_service)
            self._sfs[username] = sf
        return self._sfs[username]

    def _cached(self, username, name, factory):
        if (username, name) not in self._services:
            self._services[username, name] = factory(username)
        return self._services[username, name]

    # ------------------------------------------------------------ IAdmin

    def _admin_service(self, acting=rules.ROOT_NAME):  # noqa: PLR0915 - one side effect per IAdmin method
        admin = mock.create_autospec(omero.api.IAdminPrx, instance=True)

        def lookup_group(name):
            if name not in self.groups:
                raise rules.no_such_group(name)
            return self.groups[name]

        def lookup_experimenter(name):
            if name not in self.users:
                raise rules.no_such_experimenter(name)
            return self.users[name]

        def get_experimenter(uid):
            for exp in self.users.values():
                if exp.getId().getValue() == uid:
                    return exp
            raise rules.no_such_experimenter(uid)

        def contained_groups(uid):
            name = self._user_by_ref(omero.model.ExperimenterI(uid, False))
            return [self.groups[g] for g in sorted(self.memberships[name])]

        def get_default_group(uid):
            # The server's query skips the "user" group: a user whose default would be
            # "user" has none (and cannot log in).
            name = self._user_by_ref(omero.model.ExperimenterI(uid, False))
            gid = rules.default_group([(self._gid(g), g) for g in self.memberships[name]])
            if gid is None:
                raise rules.no_default_group(uid)
            return self.groups[self._group_name(gid)]

        def get_admin_privileges(user):
            out = []
            for value in self._effective_privileges(self._user_by_ref(user)):
                priv = omero.model.AdminPrivilegeI()
                priv.setValue(rstring(value))
                out.append(priv)
            return out

        def create_group(group):
            self._check_write(acting, "createGroup")
            self._require(group, omero.model.ExperimenterGroup, "group")
            name = group.getName().getValue()
            rules.check_new_group_name(name, set(self.groups))
            perms = group.getDetails().getPermissions()
            self._require(perms, omero.model.Permissions, "group permissions")
            desc = group.getDescription().getValue() if group.getDescription() is not None else None
            created = self._add_group(name, rules.check_permissions(str(perms)), desc)
            self.writes.append(("createGroup", name))
            return created.getId().getValue()

        def update_group(group):
            self._check_write(acting, "updateGroup")
            name = self._group_by_ref(group)
            self.groups[name].setDescription(group.getDescription())
            self.writes.append(("updateGroup", name))

        def _privilege_names(privileges):
            self._require(privileges, list, "privileges")
            names = []
            for priv in privileges:
                self._require(priv, omero.model.AdminPrivilege, "privilege")
                names.append(priv.getValue().getValue())
            return set(rules.check_privileges(names))

        def _new_user(experimenter, password, groups):
            self._require(experimenter, omero.model.Experimenter, "experimenter")
            self._require(password, omero.RString, "password")
            fields = {"omename": experimenter.getOmeName().getValue() if experimenter.getOmeName() else None}
            for field, getter in (("firstname", "getFirstName"), ("lastname", "getLastName"), ("email", "getEmail")):
                value = getattr(experimenter, getter)()
                fields[field] = value.getValue() if value is not None else None
            rules.check_new_user_name(fields["omename"], set(self.users))
            rules.check_user_fields(fields)
            exp = self._add_user(fields["omename"], groups, first=fields["firstname"], last=fields["lastname"],
                                 email=fields["email"])
            self._set_password(fields["omename"], password.getValue())
            return exp

        def create_experimenter_with_password(user, password, defaultGroup, groups):  # noqa: N803
            self._check_write(acting, "createExperimenterWithPassword")
            default = self._group_by_ref(defaultGroup)
            self._require(groups, list, "groups")
            order = rules.memberships_for_new_user(default, [self._group_by_ref(g) for g in groups])
            exp = _new_user(user, password, order)
            self.writes.append(("createExperimenterWithPassword", exp.getOmeName().getValue()))
            return exp.getId().getValue()

        def create_restricted_system_user_with_password(experimenter, privileges, password):
            self._check_write(acting, "createRestrictedSystemUserWithPassword")
            names = _privilege_names(privileges)
            exp = _new_user(experimenter, password, [rules.SYSTEM_GROUP, rules.USER_GROUP])
            self.privileges[exp.getOmeName().getValue()] = names
            self.writes.append(("createRestrictedSystemUserWithPassword", exp.getOmeName().getValue()))
            return exp.getId().getValue()

        def update_experimenter(experimenter):
            name = self._user_by_ref(experimenter)
            self._check_write(acting, "updateExperimenter", name)
            self.users[name] = experimenter
            self.writes.append(("updateExperimenter", name))

        def add_groups(user, groups):
            self._check_write(acting, "addGroups")
            name = self._user_by_ref(user)
            self._require(groups, list, "groups")
            rules.check_add_groups(groups)
            added = sorted(self._group_by_ref(g) for g in groups)
            self.memberships[name] += [g for g in added if g not in self.memberships[name]]
            self.writes.append(("addGroups", name, tuple(added)))

        def remove_groups(user, groups):
            self._check_write(acting, "removeGroups")
            name = self._user_by_ref(user)
            self._require(groups, list, "groups")
            removed = sorted(self._group_by_ref(g) for g in groups)
            rules.check_remove_groups(self._uid(name), self._group_ids(name), [self._gid(g) for g in removed],
                                      self._uid(acting))
            self.memberships[name] = rules.after_remove_groups(self.memberships[name], removed)
            self.writes.append(("removeGroups", name, tuple(removed)))

        def set_default_group(user, group):
            name = self._user_by_ref(user)
            gname = self._group_by_ref(group)
            self._check_write(acting, "setDefaultGroup", name)
            rules.check_default_group(self._gid(gname))
            order = rules.with_default_group(self._uid(name), self._group_ids(name), self._gid(gname))
            self.memberships[name] = [self._group_name(gid) for gid in order]
            self.writes.append(("setDefaultGroup", name, gname))

        def set_admin_privileges(user, privileges):
            self._check_write(acting, "setAdminPrivileges")
            name = self._user_by_ref(user)
            self.privileges[name] = _privilege_names(privileges)
            self.writes.append(("setAdminPrivileges", name, tuple(sorted(self.privileges[name]))))

        def change_user_password(omeName, newPassword):  # noqa: N803
            self._require(newPassword, omero.RString, "password")
            self._check_write(acting, "changeUserPassword", omeName)
            if omeName not in self.users:
                raise rules.no_such_experimenter(omeName)
            self._set_password(omeName, newPassword.getValue())
            self.writes.append(("changeUserPassword", omeName))

        for method, side_effect in (
            ("lookupGroup", lookup_group), ("lookupExperimenter", lookup_experimenter),
            ("getExperimenter", get_experimenter), ("containedGroups", contained_groups),
            ("getDefaultGroup", get_default_group), ("getAdminPrivileges", get_admin_privileges),
            ("createGroup", create_group), ("updateGroup", update_group),
            ("createExperimenterWithPassword", create_experimenter_with_password),
            ("createRestrictedSystemUserWithPassword", create_restricted_system_user_with_password),
            ("updateExperimenter", update_experimenter), ("addGroups", add_groups),
            ("removeGroups", remove_groups), ("setDefaultGroup", set_default_group),
            ("setAdminPrivileges", set_admin_privileges), ("changeUserPassword", change_user_password),
        ):  # fmt: skip
            getattr(admin, method).side_effect = served(side_effect)
        return admin

    def _chmod(self, req, acting):
        self._require(req.permissions, str, "permissions")
        targets = req.targetObjects or {}
        for gid in [i for ids in targets.values() for i in ids]:
            name = self._group_by_ref(omero.model.ExperimenterGroupI(gid, False))
            try:
                # The fake tracks no group owners: only an administrator may change a group.
                perm = rules.check_chmod_group(targets.keys(), self._is_admin(acting), False, gid, req.permissions)
            except rules.RuleError as refused:
                raise self._cmd_error(refused.kind, refused.message) from None
            if self.refuse_chmod:
                raise self._cmd_error("chmod-refused", "data of different users is linked",
                                      category="ome.graphs.GraphException")
            self.groups[name].getDetails().setPermissions(omero.model.PermissionsI(perm))
            self.writes.append(("Chmod2", name, perm))
        return omero.cmd.OK()

    @staticmethod
    def _cmd_error(name, message, category="::Chmod2"):
        # The ERR response the server sends, raised the way omero-py's submit raises it.
        return omero.CmdError(err=omero.cmd.ERR(category=category, name=name, parameters={"message": message}))

    # ------------------------------------------------------------ IScript

    def _script_service(self, acting=rules.ROOT_NAME):
        service = mock.create_autospec(omero.api.IScriptPrx, instance=True)

        def get_scripts():
            # Only files the script repository accepts are listed (ScriptI.getScripts
            # goes through ScriptRepoHelper).
            files = self.scripts.values()
            return [f for f in files if rules.listed_script(f.getPath().getValue(), f.getName().getValue())]

        def get_script_text(script_id):
            if script_id not in self.script_text:
                raise rules.no_such_script(script_id)
            return self.script_text[script_id]

        def upload_official_script(path, script_text):
            self._require(path, str, "path")
            self._require(script_text, str, "scriptText")
            self._check_write(acting, "uploadOfficialScript")
            path = rules.check_new_script(path, set(self.script_paths()))
            ofile = self._store_script(path, script_text)
            self.writes.append(("uploadOfficialScript", path))
            return ofile.getId().getValue()

        def edit_script(file_object, script_text):
            self._require(file_object, omero.model.OriginalFile, "fileObject")
            self._require(script_text, str, "scriptText")
            self._check_write(acting, "editScript")
            sid = file_object.getId().getValue()
            if sid not in self.scripts:
                raise rules.no_such_script(sid)
            ofile = self.scripts[sid]
            self.script_text[sid] = script_text
            self._hash(ofile, script_text, rules.SCRIPT_HASHER)
            self.writes.append(("editScript", ofile.getPath().getValue() + ofile.getName().getValue()))

        def delete_script(script_id):
            self._check_write(acting, "deleteScript")
            if script_id not in self.scripts:
                raise rules.no_such_script(script_id)
            ofile = self.scripts.pop(script_id)
            del self.script_text[script_id]
            self.writes.append(("deleteScript", ofile.getPath().getValue() + ofile.getName().getValue()))

        for method, side_effect in (
            ("getScripts", get_scripts), ("getScriptText", get_script_text),
            ("uploadOfficialScript", upload_official_script), ("editScript", edit_script),
            ("deleteScript", delete_script),
        ):  # fmt: skip
            getattr(service, method).side_effect = served(side_effect)
        return service
