"""FAKE OMERO.server for unit tests: omero-py's real classes, autospecced, over in-memory state.

No OMERO.server can run on the machines this collection is tested on. This fake stands in
for one. Every proxy the modules touch is made with ``unittest.mock.create_autospec`` from
the REAL omero-py class (``omero.client``, ``omero.api.ServiceFactoryPrx``,
``omero.api.IAdminPrx``, ``omero.api.IScriptPrx``): calling a method omero-py does not
have, or with arguments its signature does not accept, fails the test. The methods that
are used get a side effect that reads and writes ``FakeOmeroServer``'s state, returns real
``omero.model`` objects and raises the exceptions the real server raises
(``omero.ApiUsageException`` for unknown names, ``Glacier2.PermissionDeniedException`` for
a wrong password, ``Ice.ConnectionRefusedException`` when nothing listens). Arguments are
type-checked the way Ice marshalling would reject them (RString, model objects, lists).

omero-py must be importable (tools/omero-py.sh installs it): importing this module fails
otherwise, which fails the test run instead of skipping tests.
"""

from __future__ import annotations

import hashlib
import itertools
import posixpath
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

SECURE_PORT = 4064


class FakeOmeroServer:
    """In-memory OMERO.server state with autospecced omero-py proxies in front of it."""

    def __init__(self, root_password="root-password-for-tests"):  # noqa: S107 - a fake server's
        self.reachable = True
        self.accepting_logins = True
        # Glacier2 while Blitz is still starting: every login is refused with
        # PermissionDeniedException(reason="internal server error"), even a right one.
        self.blitz_starting = False
        self.refuse_chmod = False
        # Chmod2 takes this many seconds on the server (a large group); a client that
        # waits less sees it still running.
        self.chmod_seconds = 0
        self._ids = itertools.count(100)
        self.passwords = {"root": root_password}
        self.groups = {}  # name -> omero.model.ExperimenterGroupI
        self.users = {}  # name -> omero.model.ExperimenterI
        self.members = {}  # user name -> set of group names
        self.default_group = {}  # user name -> group name
        self.privileges = {}  # user name -> set of privilege names
        self.scripts = {}  # id -> omero.model.OriginalFileI
        self.script_text = {}  # id -> text
        self.writes = []  # (method, detail) of every call that changes state
        self.logins = []  # (user, password ok?)
        self.clients = []  # every autospecced omero.client instance made
        self.chmod_waits = []  # seconds a client waited for an unfinished Chmod2
        self._sf = None
        self._services = {}
        for name, perms in (("system", "rw----"), ("user", "rwr---"), ("guest", "rw----")):
            self._add_group(name, perms)
        self._add_user("root", ["system", "user"], "system")
        self.privileges["root"] = {
            v for k, v in vars(omero.model.enums).items() if k.startswith("AdminPrivilege")
        }
        self.client_class = mock.create_autospec(omero.clients.BaseClient)
        self.client_class.side_effect = self._new_client

    # ------------------------------------------------------------ state helpers

    def _add_group(self, name, perms, description=None):
        group = omero.model.ExperimenterGroupI(rlong(next(self._ids)), True)
        group.setName(rstring(name))
        if description is not None:
            group.setDescription(rstring(description))
        group.getDetails().setPermissions(omero.model.PermissionsI(perms))
        self.groups[name] = group
        return group

    def _add_user(self, name, groups, default, *, first="F", last="L", email=None, ldap=False):
        exp = omero.model.ExperimenterI(rlong(next(self._ids)), True)
        exp.setOmeName(rstring(name))
        exp.setLdap(rbool(ldap))
        exp.setFirstName(rstring(first))
        exp.setLastName(rstring(last))
        if email:
            exp.setEmail(rstring(email))
        self.users[name] = exp
        self.members[name] = set(groups)
        self.default_group[name] = default
        return exp

    def add_group(self, name, perms="rw----", description=None):
        """Seed a group (test set-up, not recorded as a write)."""
        return self._add_group(name, perms, description)

    def add_user(self, name, password, groups=("user",), default="user", privileges=None, **fields):
        """Seed a user (test set-up, not recorded as a write).

        The defaults make a user in "user" only, which the real server cannot have as a
        working account (see getDefaultGroup): tests of such a user seed it on purpose."""
        exp = self._add_user(name, set(groups) | {"user"}, default, **fields)
        self.passwords[name] = password
        if privileges is not None:
            self.members[name].add("system")
            self.privileges[name] = set(privileges)
        return exp

    def add_script(self, path, text, hasher="SHA1-160"):
        """Seed a registered script; hasher None leaves the hash unknown to the client."""
        return self._store_script(path, text, hasher)

    def _store_script(self, path, text, hasher="SHA1-160"):
        ofile = omero.model.OriginalFileI(rlong(next(self._ids)), True)
        directory, name = posixpath.split(path)
        ofile.setPath(rstring(directory + "/"))
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
        sha1 = hashlib.sha1(text.encode("utf-8")).hexdigest()  # noqa: S324 - OMERO's SHA1-160
        digest = sha1 if hasher == "SHA1-160" else "0" * 16
        ofile.setHash(rstring(digest))

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
        gid = ref.getId().getValue()
        for group in self.groups.values():
            if group.getId().getValue() == gid:
                return group.getName().getValue()
        raise omero.ApiUsageException(message="no group with id %s" % gid)

    def _user_by_ref(self, ref):
        self._require(ref, omero.model.Experimenter, "experimenter")
        uid = ref.getId().getValue()
        for name, exp in self.users.items():
            if exp.getId().getValue() == uid:
                return name
        raise omero.ApiUsageException(message="no experimenter with id %s" % uid)

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
                raise Glacier2.PermissionDeniedException(reason="internal server error")
            ok = self.passwords.get(username) == password and "user" in self.members.get(username, ())
            self.logins.append((username, ok))
            if not ok:
                raise Glacier2.PermissionDeniedException(reason="Password check failed for '%s'" % username)
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
                return self._callback(self._chmod(req))
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
        # One autospecced ServiceFactory and services per fake server, made on first use
        # (autospeccing omero-py's large proxy classes is what costs time in these tests).
        if self._sf is None:
            sf = mock.create_autospec(omero.api.ServiceFactoryPrx, instance=True)
            sf.getAdminService.side_effect = lambda _ctx=None: self._cached("admin", self._admin_service)
            sf.getScriptService.side_effect = lambda _ctx=None: self._cached("script", self._script_service)
            self._sf = sf
        return self._sf

    def _cached(self, name, factory):
        if name not in self._services:
            self._services[name] = factory()
        return self._services[name]

    # ------------------------------------------------------------ IAdmin

    def _admin_service(self):  # noqa: PLR0915 - one side effect per IAdmin method
        admin = mock.create_autospec(omero.api.IAdminPrx, instance=True)

        def lookup_group(name):
            if name not in self.groups:
                raise omero.ApiUsageException(message="No group found: %s" % name)
            return self.groups[name]

        def lookup_experimenter(name):
            if name not in self.users:
                raise omero.ApiUsageException(message="No such experimenter: %s" % name)
            return self.users[name]

        def get_experimenter(uid):
            for exp in self.users.values():
                if exp.getId().getValue() == uid:
                    return exp
            raise omero.ApiUsageException(message="No such experimenter: %s" % uid)

        def contained_groups(uid):
            name = self._user_by_ref(omero.model.ExperimenterI(uid, False))
            return [self.groups[g] for g in sorted(self.members[name])]

        def get_default_group(uid):
            # The server's query skips the "user" group: a user whose default would be
            # "user" has none (and cannot log in).
            name = self._user_by_ref(omero.model.ExperimenterI(uid, False))
            default = self.default_group.get(name)
            if default in (None, "user"):
                raise omero.ValidationException(message="The user %s has no default group set." % uid)
            return self.groups[default]

        def get_admin_privileges(user):
            name = self._user_by_ref(user)
            if "system" not in self.members[name]:
                return []
            out = []
            for value in sorted(self.privileges.get(name, ())):
                priv = omero.model.AdminPrivilegeI()
                priv.setValue(rstring(value))
                out.append(priv)
            return out

        def create_group(group):
            self._require(group, omero.model.ExperimenterGroup, "group")
            name = group.getName().getValue()
            if name in self.groups:
                raise omero.ValidationException(message="group exists: %s" % name)
            perms = group.getDetails().getPermissions()
            self._require(perms, omero.model.Permissions, "group permissions")
            desc = group.getDescription().getValue() if group.getDescription() is not None else None
            created = self._add_group(name, str(perms), desc)
            self.writes.append(("createGroup", name))
            return created.getId().getValue()

        def update_group(group):
            name = self._group_by_ref(group)
            self.groups[name].setDescription(group.getDescription())
            self.writes.append(("updateGroup", name))

        def _privilege_names(privileges):
            self._require(privileges, list, "privileges")
            names = set()
            for priv in privileges:
                self._require(priv, omero.model.AdminPrivilege, "privilege")
                names.add(priv.getValue().getValue())
            return names

        def _new_user(experimenter, password, groups, default):
            self._require(experimenter, omero.model.Experimenter, "experimenter")
            self._require(password, omero.RString, "password")
            name = experimenter.getOmeName().getValue()
            if name in self.users:
                raise omero.ValidationException(message="experimenter exists: %s" % name)
            for field in ("getFirstName", "getLastName"):
                if getattr(experimenter, field)() is None:
                    raise omero.ValidationException(message="%s is required" % field)
            exp = self._add_user(name, groups, default,
                                 first=experimenter.getFirstName().getValue(),
                                 last=experimenter.getLastName().getValue(),
                                 email=experimenter.getEmail().getValue() if experimenter.getEmail() else None)
            self.passwords[name] = password.getValue()
            return exp

        def create_experimenter_with_password(user, password, defaultGroup, groups):  # noqa: N803
            default = self._group_by_ref(defaultGroup)
            self._require(groups, list, "groups")
            names = {self._group_by_ref(g) for g in groups} | {default}
            exp = _new_user(user, password, names, default)
            self.writes.append(("createExperimenterWithPassword", exp.getOmeName().getValue()))
            return exp.getId().getValue()

        def create_restricted_system_user_with_password(experimenter, privileges, password):
            names = _privilege_names(privileges)
            exp = _new_user(experimenter, password, {"system", "user"}, "system")
            self.privileges[exp.getOmeName().getValue()] = names
            self.writes.append(("createRestrictedSystemUserWithPassword", exp.getOmeName().getValue()))
            return exp.getId().getValue()

        def update_experimenter(experimenter):
            name = self._user_by_ref(experimenter)
            self.users[name] = experimenter
            self.writes.append(("updateExperimenter", name))

        def add_groups(user, groups):
            name = self._user_by_ref(user)
            self._require(groups, list, "groups")
            added = sorted(self._group_by_ref(g) for g in groups)
            self.members[name].update(added)
            self.writes.append(("addGroups", name, tuple(added)))

        def remove_groups(user, groups):
            name = self._user_by_ref(user)
            self._require(groups, list, "groups")
            removed = sorted(self._group_by_ref(g) for g in groups)
            if name == "root" and {"system", "user"} & set(removed):
                raise omero.ValidationException(
                    message="experimenter 'root' may not be removed from the 'system' or 'user' group")
            remaining = self.members[name] - set(removed)
            if not remaining:
                raise omero.ValidationException(message="experimenter must remain a member of some group")
            if remaining == {"user"}:
                raise omero.ValidationException(
                    message="experimenter cannot be a member of only the 'user' group, "
                            "a different default group is also required")
            if self.default_group[name] in removed:
                raise omero.ValidationException(message="cannot remove the default group")
            self.members[name].difference_update(removed)
            self.writes.append(("removeGroups", name, tuple(removed)))

        def set_default_group(user, group):
            name = self._user_by_ref(user)
            gname = self._group_by_ref(group)
            if gname == "user":
                raise omero.ApiUsageException(message="Cannot set default group to: user")
            if gname not in self.members[name]:
                raise omero.ApiUsageException(message="user is not in group %s" % gname)
            self.default_group[name] = gname
            self.writes.append(("setDefaultGroup", name, gname))

        def set_admin_privileges(user, privileges):
            name = self._user_by_ref(user)
            self.privileges[name] = _privilege_names(privileges)
            self.writes.append(("setAdminPrivileges", name, tuple(sorted(self.privileges[name]))))

        def change_user_password(omeName, newPassword):  # noqa: N803
            self._require(newPassword, omero.RString, "password")
            if omeName not in self.users:
                raise omero.ApiUsageException(message="No such experimenter: %s" % omeName)
            self.passwords[omeName] = newPassword.getValue()
            self.writes.append(("changeUserPassword", omeName))

        admin.lookupGroup.side_effect = lookup_group
        admin.lookupExperimenter.side_effect = lookup_experimenter
        admin.getExperimenter.side_effect = get_experimenter
        admin.containedGroups.side_effect = contained_groups
        admin.getDefaultGroup.side_effect = get_default_group
        admin.getAdminPrivileges.side_effect = get_admin_privileges
        admin.createGroup.side_effect = create_group
        admin.updateGroup.side_effect = update_group
        admin.createExperimenterWithPassword.side_effect = create_experimenter_with_password
        admin.createRestrictedSystemUserWithPassword.side_effect = create_restricted_system_user_with_password
        admin.updateExperimenter.side_effect = update_experimenter
        admin.addGroups.side_effect = add_groups
        admin.removeGroups.side_effect = remove_groups
        admin.setDefaultGroup.side_effect = set_default_group
        admin.setAdminPrivileges.side_effect = set_admin_privileges
        admin.changeUserPassword.side_effect = change_user_password
        return admin

    def _chmod(self, req):
        self._require(req.permissions, str, "permissions")
        ids = req.targetObjects.get("ExperimenterGroup", [])
        for gid in ids:
            name = self._group_by_ref(omero.model.ExperimenterGroupI(gid, False))
            if self.refuse_chmod:
                err = omero.cmd.ERR(category="ome.graphs.GraphException", name="chmod-refused",
                                    parameters={"message": "data of different users is linked"})
                raise omero.CmdError(err=err)
            omero.model.PermissionsI(req.permissions)  # raises on a malformed string, like the server
            self.groups[name].getDetails().setPermissions(omero.model.PermissionsI(req.permissions))
            self.writes.append(("Chmod2", name, req.permissions))
        return omero.cmd.OK()

    # ------------------------------------------------------------ IScript

    def _script_service(self):
        service = mock.create_autospec(omero.api.IScriptPrx, instance=True)

        def get_scripts():
            # Only files whose name gives a script type are listed (ScriptI.getScripts
            # goes through ScriptRepoHelper, which matches *.py for Python).
            return [f for f in self.scripts.values() if f.getName().getValue().endswith(".py")]

        def get_script_text(script_id):
            if script_id not in self.script_text:
                raise omero.ApiUsageException(message="no script %s" % script_id)
            return self.script_text[script_id]

        def upload_official_script(path, script_text):
            self._require(path, str, "path")
            self._require(script_text, str, "scriptText")
            listed = {f.getPath().getValue() + f.getName().getValue() for f in get_scripts()}
            if path in listed:
                raise omero.ApiUsageException(message="Path already exists: %s" % path)
            ofile = self._store_script(path, script_text)
            self.writes.append(("uploadOfficialScript", path))
            return ofile.getId().getValue()

        def edit_script(file_object, script_text):
            self._require(file_object, omero.model.OriginalFile, "fileObject")
            self._require(script_text, str, "scriptText")
            sid = file_object.getId().getValue()
            ofile = self.scripts[sid]
            self.script_text[sid] = script_text
            self._hash(ofile, script_text, "SHA1-160")
            self.writes.append(("editScript", ofile.getPath().getValue() + ofile.getName().getValue()))

        def delete_script(script_id):
            ofile = self.scripts.pop(script_id)
            del self.script_text[script_id]
            self.writes.append(("deleteScript", ofile.getPath().getValue() + ofile.getName().getValue()))

        service.getScripts.side_effect = get_scripts
        service.getScriptText.side_effect = get_script_text
        service.uploadOfficialScript.side_effect = upload_official_script
        service.editScript.side_effect = edit_script
        service.deleteScript.side_effect = delete_script
        return service
