"""Ice servants of the OMERO.server stand-in: Glacier2 router, ServiceFactory, services.

Thin by design: each operation converts between omero-py's generated types (rtypes,
omero.model objects) and plain values, then asks the store, the script repository or
rules.py. A refusal (rules.RuleError) becomes the omero exception the real server raises.
Service operations are AMD in omero-py's slice (`name_async(cb, ..., current)`); write
them as plain methods marked @amd / @amd_void and amd_servant() adds the _async form.
"""

import logging
import threading
import time
import uuid

import Glacier2
import Ice
import omero
import omero.api
import omero.cmd
import omero.model
import omero.sys
from omero.rtypes import rbool, rlong, rstring

from . import commands, rules

log = logging.getLogger("omero.standin")


# ------------------------------------------------------------------ AMD plumbing


def amd(fn):
    fn._amd = "value"
    return fn


def amd_void(fn):
    fn._amd = "void"
    return fn


def _wrap_amd(fn, kind):
    def method(self, cb, *args):
        params, current = args[:-1], args[-1]
        try:
            result = fn(self, *params, current=current)
        except Exception as exc:  # every failure becomes an Ice exception for the caller
            cb.ice_exception(self.server.translate(exc, fn.__name__))
            return
        if kind == "void":
            cb.ice_response()
        else:
            cb.ice_response(result)

    method.__name__ = fn.__name__ + "_async"
    return method


def amd_servant(cls):
    for name, fn in list(vars(cls).items()):
        kind = getattr(fn, "_amd", None)
        if kind:
            setattr(cls, name + "_async", _wrap_amd(fn, kind))
    return cls


def unwrap(value):
    if value is None:
        return None
    return getattr(value, "val", value)


def object_id(obj, what):
    oid = unwrap(obj.getId()) if obj is not None else None
    if oid is None:
        raise rules.RuleError("ApiUsageException", "%s argument must be managed (i.e. have an id)" % what)
    return int(oid)


# ------------------------------------------------------------------ model objects


def group_object(g):
    grp = omero.model.ExperimenterGroupI(g["id"], True)
    grp.setName(rstring(g["name"]))
    grp.setDescription(rstring(g["description"]) if g["description"] is not None else None)
    grp.setLdap(rbool(bool(g["ldap"])))
    grp.getDetails().setPermissions(omero.model.PermissionsI(g["permissions"]))
    return grp


_USER_SETTERS = {
    "firstname": ("setFirstName", "getFirstName"),
    "middlename": ("setMiddleName", "getMiddleName"),
    "lastname": ("setLastName", "getLastName"),
    "email": ("setEmail", "getEmail"),
    "institution": ("setInstitution", "getInstitution"),
}


def user_object(u):
    exp = omero.model.ExperimenterI(u["id"], True)
    exp.setOmeName(rstring(u["omename"]))
    for field, (setter, _getter) in _USER_SETTERS.items():
        if u.get(field) is not None:
            getattr(exp, setter)(rstring(u[field]))
    exp.setLdap(rbool(bool(u["ldap"])))
    return exp


def user_fields(exp):
    fields = {"omename": unwrap(exp.getOmeName()), "ldap": bool(unwrap(exp.getLdap()))}
    for field, (_setter, getter) in _USER_SETTERS.items():
        fields[field] = unwrap(getattr(exp, getter)())
    return fields


def script_object(path, row):
    ofile = omero.model.OriginalFileI(row["id"], True)
    ofile.setPath(rstring(row["path"]))
    ofile.setName(rstring(row["name"]))
    ofile.setHash(rstring(row["sha1"]))
    ofile.setSize(rlong(row["size"]))
    ofile.setMimetype(rstring(row["mimetype"]))
    hasher = omero.model.ChecksumAlgorithmI()
    hasher.setValue(rstring(rules.SCRIPT_HASHER))
    ofile.setHasher(hasher)
    return ofile


def privilege_objects(names):
    out = []
    for name in names:
        priv = omero.model.AdminPrivilegeI()
        priv.setValue(rstring(name))
        out.append(priv)
    return out


# ------------------------------------------------------------------ sessions


class Session:
    """A server-side session: survives its ServiceFactory unless closed."""

    _ids = iter(range(1, 1 << 62))

    def __init__(self, user, group_id, agent):
        self.uuid = str(uuid.uuid4())
        self.id = next(Session._ids)
        self.user_id = user["id"]
        self.user_name = user["omename"]
        self.group_id = group_id
        self.agent = agent
        self.closed = False
        self.factories = set()


# ------------------------------------------------------------------ Glacier2 router


class RouterI(Glacier2.Router):
    """Glacier2 router at OMERO.Glacier2/router. Routed requests reach this same adapter:
    getClientProxy returns no proxy, so clients use the router's own endpoints."""

    def __init__(self, server):
        self.server = server
        self._by_connection = {}
        self._lock = threading.Lock()

    def getClientProxy(self, current=None):
        return None

    def getServerProxy(self, current=None):
        return current.adapter.createProxy(Ice.Identity("server", "OMERO.Glacier2"))

    def addProxies(self, proxies, current=None):
        return []

    def getCategoryForClient(self, current=None):
        return "standin-callback"

    def getSessionTimeout(self, current=None):
        return 600

    def getACMTimeout(self, current=None):
        return 0

    def createSession_async(self, cb, userId, password, current=None):
        try:
            cb.ice_response(self._create_session(userId, password, current))
        except Glacier2.PermissionDeniedException as exc:
            cb.ice_exception(exc)
        except Exception:  # the verifier's fault, not the user's: Glacier2 says so
            log.exception("createSession for %r failed", userId)
            cb.ice_exception(Glacier2.PermissionDeniedException("Internal error. Please contact your administrator"))

    def _create_session(self, user_name, password, current):
        server = self.server
        if time.monotonic() < server.ready_at:
            log.info("Login of %r refused: server is starting (%s)", user_name, rules.STARTING_REASON)
            raise Glacier2.PermissionDeniedException(rules.STARTING_REASON)
        session = server.sessions.get(user_name)
        if session is not None and password == user_name and not session.closed:
            log.info("Joined session %s of %r", session.uuid[:8], session.user_name)
        else:
            uid, stored_hash = server.store.password_hash(user_name)
            memberships = server.store.memberships(uid) if uid is not None else []
            try:
                rules.check_login(user_name, stored_hash, password, [m[0] for m in memberships])
            except rules.RuleError as refused:
                log.info("Login of %r refused: password check failed", user_name)
                raise Glacier2.PermissionDeniedException(refused.message) from None
            user = server.store.user(uid=uid)
            group_id = self._wanted_group(memberships, current.ctx.get("omero.group"))
            session = Session(user, group_id, current.ctx.get("omero.agent", ""))
            server.sessions[session.uuid] = session
            log.info("Login of %r succeeded: session %s (group %s)", user_name, session.uuid[:8], group_id)
        factory = ServiceFactoryI(server, session)
        category = current.ctx.get("omero.client.uuid") or str(uuid.uuid4())
        prx = current.adapter.add(factory, Ice.Identity(session.uuid, category))
        factory.identity = prx.ice_getIdentity()
        session.factories.add(factory)
        key = self._key(current)
        with self._lock:
            first = key not in self._by_connection
            self._by_connection.setdefault(key, []).append(factory)
        if first and current.con is not None:
            try:
                current.con.setCallback(_ConnectionClosed(self, key, current.adapter))
            except Ice.Exception:
                log.warning("cannot watch the connection of session %s", session.uuid[:8])
        return Glacier2.SessionPrx.uncheckedCast(prx)

    def connection_closed(self, key, adapter):
        """Glacier2 destroys a client's sessions when its connection goes away."""
        with self._lock:
            factories = self._by_connection.pop(key, [])
        for factory in factories:
            factory.destroy(_AdapterOnly(adapter))

    @staticmethod
    def _wanted_group(memberships, wanted):
        if wanted not in (None, "", "-1"):
            for gid, name, _owner in memberships:
                if wanted in (name, str(gid)):
                    return gid
        gid = rules.default_group([(m[0], m[1]) for m in memberships])
        return gid if gid is not None else memberships[0][0]

    @staticmethod
    def _key(current):
        return current.con.toString() if current.con is not None else ""

    def createSessionFromSecureConnection_async(self, cb, current=None):
        cb.ice_exception(Glacier2.PermissionDeniedException("not supported by the OMERO.server stand-in"))

    def refreshSession_async(self, cb, current=None):
        cb.ice_response()

    def destroySession(self, current=None):
        with self._lock:
            factories = self._by_connection.pop(self._key(current), [])
        if not factories:
            raise Glacier2.SessionNotExistException()
        for factory in factories:
            factory.destroy(current)


class _ConnectionClosed(Ice.ConnectionCallback):
    def __init__(self, router, key, adapter):
        self.router, self.key, self.adapter = router, key, adapter

    def heartbeat(self, con):
        pass

    def closed(self, con):
        self.router.connection_closed(self.key, self.adapter)


class _AdapterOnly:
    """The part of Ice.Current that ServiceFactoryI.destroy uses, outside a dispatch."""

    def __init__(self, adapter):
        self.adapter = adapter


# ------------------------------------------------------------------ ServiceFactory


class ServiceFactoryI(omero.api.ServiceFactory):
    def __init__(self, server, session):
        self.server = server
        self.session = session
        self.identity = None
        self.close_on_destroy = True
        self.services = {}

    def _service(self, name, factory, cast, current):
        if name not in self.services:
            ident = Ice.Identity("%s-%s" % (self.identity.name, name), self.identity.category)
            self.services[name] = current.adapter.add(factory(self.server, self.session), ident)
        return cast.uncheckedCast(self.services[name])

    def _alive(self):
        if self.session.closed:
            raise omero.RemovedSessionException(message="Session %s was closed" % self.session.uuid)

    def getAdminService(self, current=None):
        self._alive()
        return self._service("IAdmin", AdminI, omero.api.IAdminPrx, current)

    def getScriptService(self, current=None):
        self._alive()
        return self._service("IScript", ScriptI, omero.api.IScriptPrx, current)

    def getSessionService(self, current=None):
        self._alive()
        return self._service("ISession", SessionServiceI, omero.api.ISessionPrx, current)

    def getConfigService(self, current=None):
        self._alive()
        return self._service("IConfig", ConfigI, omero.api.IConfigPrx, current)

    def getSecurityContexts(self, current=None):
        store = self.server.store
        return [group_object(store.group(gid=m[0])) for m in store.memberships(self.session.user_id)]

    def setSecurityContext(self, obj, current=None):
        previous = group_object(self.server.store.group(gid=self.session.group_id))
        gid = object_id(obj, "Security context")
        if gid not in [m[0] for m in self.server.store.memberships(self.session.user_id)]:
            raise omero.SecurityViolation(message="Not a member of group %s" % gid)
        self.session.group_id = gid
        return previous

    def setCallback(self, callback, current=None):
        pass

    def keepAlive(self, proxy, current=None):
        return not self.session.closed

    def keepAllAlive(self, proxies, current=None):
        return 0

    def activeServices(self, current=None):
        return ["%s/%s" % (p.ice_getIdentity().category, p.ice_getIdentity().name) for p in self.services.values()]

    def closeOnDestroy(self, current=None):
        self.close_on_destroy = True

    def detachOnDestroy(self, current=None):
        self.close_on_destroy = False

    def destroy(self, current=None):
        for prx in list(self.services.values()) + ([None] if self.identity else []):
            ident = prx.ice_getIdentity() if prx is not None else self.identity
            try:
                current.adapter.remove(ident)
            except Ice.NotRegisteredException:
                pass
        self.services.clear()
        self.session.factories.discard(self)
        if self.close_on_destroy and not self.session.factories:
            self.server.close_session(self.session)

    def submit_async(self, cb, req, current=None):
        try:
            self._alive()
            rsp = commands.run_request(self.server, self.session, req)
            ident = Ice.Identity(str(uuid.uuid4()), self.identity.category)
            cb.ice_response(omero.cmd.HandlePrx.uncheckedCast(current.adapter.add(commands.HandleI(req, rsp), ident)))
        except Exception as exc:
            cb.ice_exception(self.server.translate(exc, "submit"))


# ------------------------------------------------------------------ services


class _Service:
    def __init__(self, server, session):
        self.server = server
        self.session = session

    @property
    def store(self):
        return self.server.store

    def _check_write(self, operation, self_target=False):
        """rules.check_write for one IAdmin/IScript write, named as in omero-py; the
        caller acts on itself when self_target (users may change themselves)."""
        uid = self.session.user_id
        is_admin = any(m[0] == rules.SYSTEM_GROUP_ID for m in self.store.memberships(uid))
        rules.check_write(operation, is_admin, self.store.privileges(uid), self_target=self_target)

    def _group(self, gid=None, name=None):
        g = self.store.group(name=name, gid=gid)
        if g is None:
            raise rules.no_such_group(name if name is not None else gid)
        return g

    def _user(self, uid=None, name=None):
        u = self.store.user(name=name, uid=uid)
        if u is None:
            raise rules.no_such_experimenter(name if name is not None else uid)
        return u


@amd_servant
class AdminI(_Service, omero.api.IAdmin):
    @amd
    def getEventContext(self, current=None):
        s = self.session
        memberships = self.store.memberships(s.user_id)
        group = self._group(gid=s.group_id)
        privileges = self.store.privileges(s.user_id)
        return omero.sys.EventContext(
            shareId=-1, sessionId=s.id, sessionUuid=s.uuid, userId=s.user_id, userName=s.user_name,
            groupId=group["id"], groupName=group["name"],
            isAdmin=any(m[0] == rules.SYSTEM_GROUP_ID for m in memberships),
            adminPrivileges=list(privileges), eventId=-1, eventType="User",
            memberOfGroups=[m[0] for m in memberships], leaderOfGroups=[m[0] for m in memberships if m[2]],
            groupPermissions=omero.model.PermissionsI(group["permissions"]),
        )  # fmt: skip

    @amd
    def getSecurityRoles(self, current=None):
        return omero.sys.Roles(
            rules.ROOT_ID, rules.ROOT_NAME, rules.SYSTEM_GROUP_ID, rules.SYSTEM_GROUP,
            rules.USER_GROUP_ID, rules.USER_GROUP, rules.GUEST_ID, rules.GUEST_NAME,
            rules.GUEST_GROUP_ID, rules.GUEST_GROUP,
        )  # fmt: skip

    # --- groups
    @amd
    def lookupGroup(self, name, current=None):
        return group_object(self._group(name=name))

    @amd
    def getGroup(self, gid, current=None):
        return group_object(self._group(gid=gid))

    @amd
    def lookupGroups(self, current=None):
        return [group_object(g) for g in self.store.groups()]

    @amd
    def createGroup(self, group, current=None):
        self._check_write("createGroup")
        details = group.getDetails()
        perms = details.getPermissions() if details is not None else None
        gid = self.store.create_group(
            unwrap(group.getName()), unwrap(group.getDescription()),
            str(perms) if perms is not None else "rw----", unwrap(group.getLdap()),
        )  # fmt: skip
        log.info("Created group: %s (id %d)", unwrap(group.getName()), gid)
        return gid

    @amd_void
    def updateGroup(self, group, current=None):
        self._check_write("updateGroup")
        gid = object_id(group, "Group")
        old = self._group(gid=gid)
        name = unwrap(group.getName()) if group.isLoaded() else None
        self.store.update_group(
            gid, name or old["name"], unwrap(group.getDescription()),
            unwrap(group.getLdap()) if group.getLdap() is not None else old["ldap"],
        )  # fmt: skip
        log.info("Updated group %d", gid)

    @amd
    def containedGroups(self, uid, current=None):
        self._user(uid=uid)
        return [group_object(self.store.group(gid=m[0])) for m in self.store.memberships(uid)]

    @amd
    def containedExperimenters(self, gid, current=None):
        self._group(gid=gid)
        return [user_object(u) for u in self.store.users()
                if gid in [m[0] for m in self.store.memberships(u["id"])]]  # fmt: skip

    @amd
    def getMemberOfGroupIds(self, exp, current=None):
        return [m[0] for m in self.store.memberships(object_id(exp, "Experimenter"))]

    @amd
    def getLeaderOfGroupIds(self, exp, current=None):
        return [m[0] for m in self.store.memberships(object_id(exp, "Experimenter")) if m[2]]

    @amd
    def getDefaultGroup(self, uid, current=None):
        gid = rules.default_group([(m[0], m[1]) for m in self.store.memberships(uid)])
        if gid is None:
            raise rules.no_default_group(uid)
        return group_object(self.store.group(gid=gid))

    @amd_void
    def setDefaultGroup(self, user, group, current=None):
        uid, gid = object_id(user, "User"), object_id(group, "Group argument to setDefaultGroup")
        self._check_write("setDefaultGroup", self_target=uid == self.session.user_id)
        self.store.set_default_group(uid, gid)
        log.info("Changing default group for %d to %d", uid, gid)

    @amd_void
    def addGroups(self, user, groups, current=None):
        self._check_write("addGroups")
        gids = [object_id(g, "Group") for g in groups or []]
        for gid in gids:
            self._group(gid=gid)
        self.store.add_groups(object_id(user, "User"), gids)
        log.info("Added user %s to groups %s", object_id(user, "User"), gids)

    @amd_void
    def removeGroups(self, user, groups, current=None):
        self._check_write("removeGroups")
        gids = [object_id(g, "Group") for g in groups or []]
        self.store.remove_groups(object_id(user, "User"), gids, self.session.user_id)
        log.info("Removed user %s from groups %s", object_id(user, "User"), gids)

    # --- experimenters
    @amd
    def lookupExperimenter(self, name, current=None):
        return user_object(self._user(name=name))

    @amd
    def getExperimenter(self, uid, current=None):
        return user_object(self._user(uid=uid))

    @amd
    def lookupExperimenters(self, current=None):
        return [user_object(u) for u in self.store.users()]

    @amd
    def createExperimenterWithPassword(self, user, password, defaultGroup, groups, current=None):
        self._check_write("createExperimenterWithPassword")
        gids = [object_id(defaultGroup, "Default group")] + [object_id(g, "Group") for g in groups or []]
        for gid in gids:
            self._group(gid=gid)
        uid = self.store.create_user(user_fields(user), unwrap(password) or "", gids)
        log.info("Created user with password: %s (id %d)", unwrap(user.getOmeName()), uid)
        return uid

    @amd
    def createExperimenter(self, user, defaultGroup, groups, current=None):
        return self.createExperimenterWithPassword(user, rstring(""), defaultGroup, groups, current=current)

    @amd
    def createRestrictedSystemUserWithPassword(self, user, privileges, password, current=None):
        self._check_write("createRestrictedSystemUserWithPassword")
        granted = rules.check_privileges([unwrap(p.getValue()) for p in privileges or []])
        denied = rules.denied_privileges(granted)
        uid = self.store.create_user(
            user_fields(user), unwrap(password) or "", [rules.SYSTEM_GROUP_ID, rules.USER_GROUP_ID], denied
        )
        log.info("Created restricted system user: %s (id %d, privileges %s)", unwrap(user.getOmeName()), uid, granted)
        return uid

    @amd
    def createRestrictedSystemUser(self, user, privileges, current=None):
        return self.createRestrictedSystemUserWithPassword(user, privileges, rstring(""), current=current)

    @amd_void
    def updateExperimenter(self, user, current=None):
        uid = object_id(user, "Experimenter")
        self._check_write("updateExperimenter", self_target=uid == self.session.user_id)
        self.store.update_user(uid, user_fields(user))
        log.info("Updated experimenter %d", uid)

    @amd
    def getAdminPrivileges(self, user, current=None):
        return privilege_objects(self.store.privileges(object_id(user, "User")))

    @amd
    def getCurrentAdminPrivileges(self, current=None):
        return privilege_objects(self.store.privileges(self.session.user_id))

    @amd_void
    def setAdminPrivileges(self, user, privileges, current=None):
        self._check_write("setAdminPrivileges")
        granted = rules.check_privileges([unwrap(p.getValue()) for p in privileges or []])
        self.store.set_denied_privileges(object_id(user, "User"), rules.denied_privileges(granted))
        log.info("Set admin privileges of %d: %s", object_id(user, "User"), granted)

    @amd_void
    def changeUserPassword(self, name, password, current=None):
        self._check_write("changeUserPassword", self_target=name == self.session.user_name)
        self.store.set_password(name, unwrap(password) or "")
        log.info("Changed password for user: %s", name)

    @amd_void
    def changePassword(self, password, current=None):
        self.store.set_password(self.session.user_name, unwrap(password) or "")
        log.info("Changed own password: %s", self.session.user_name)


@amd_servant
class ScriptI(_Service, omero.api.IScript):
    @property
    def repo(self):
        return self.server.scripts

    @amd
    def getScripts(self, current=None):
        return [script_object(p, r) for p, r in sorted(self.repo.listed().items(), key=lambda i: i[1]["id"])]

    @amd
    def getScriptsByMimetype(self, mimetype, current=None):
        return [script_object(p, r) for p, r in self.repo.listed().items() if r["mimetype"] == mimetype]

    @amd
    def getScriptID(self, path, current=None):
        row = self.repo.listed().get(rules.script_path(path))
        return row["id"] if row else -1

    @amd
    def getScriptText(self, sid, current=None):
        return self.repo.text(sid)

    @amd
    def uploadOfficialScript(self, path, text, current=None):
        self._check_write("uploadOfficialScript")
        sid = self.repo.upload(path, text)
        log.info("Uploaded official script %s (id %d)", rules.script_path(path), sid)
        return sid

    @amd
    def uploadScript(self, path, text, current=None):
        raise rules.RuleError("ApiUsageException", "user scripts are not supported by the OMERO.server stand-in")

    @amd_void
    def editScript(self, ofile, text, current=None):
        self._check_write("editScript")
        sid = object_id(ofile, "File")
        self.repo.edit(sid, text)
        log.info("Edited script %d", sid)

    @amd_void
    def deleteScript(self, sid, current=None):
        self._check_write("deleteScript")
        self.repo.delete(sid)
        log.info("Deleted script %d", sid)


@amd_servant
class SessionServiceI(_Service, omero.api.ISession):
    @amd
    def closeSession(self, sess, current=None):
        target = self.server.sessions.get(unwrap(sess.getUuid()))
        if target is None or target.closed:
            raise omero.RemovedSessionException(message="Session already closed")
        self.server.close_session(target)
        return 0

    @amd
    def getReferenceCount(self, uuid_, current=None):
        s = self.server.sessions.get(uuid_)
        return len(s.factories) if s is not None and not s.closed else 0


@amd_servant
class ConfigI(_Service, omero.api.IConfig):
    @amd
    def getVersion(self, current=None):
        return self.server.version

    @amd
    def getConfigValue(self, key, current=None):
        return self.server.config.get(key, "")

    @amd
    def getConfigValues(self, regex, current=None):
        import re

        return {k: v for k, v in self.server.config.items() if re.search(regex, k) and "pass" not in k}

    @amd
    def getDatabaseUuid(self, current=None):
        return self.server.database_uuid
