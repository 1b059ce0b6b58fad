"""omero-py client checks for smoke.sh, run INSIDE the stand-in container with its venv:

    docker exec -i C /opt/omero/server/venv3/bin/python - COMMAND ARGS... < smoke_client.py

Connects exactly as the collection's modules do: omero.client(host=, port=, pmap=) with
the default router (ssl on 4064). Prints one JSON line. Commands:
  login USER PASSWORD            -> {"ok": true, "user": ..., "admin": ...} or {"ok": false, "reason": ...}
  admin PASSWORD                 -> exercises IAdmin rules as root, {"ok": true, "checks": [...]}
  upload PASSWORD PATH TEXT      -> {"id": N}  (uploadOfficialScript)
  scripts PASSWORD               -> {"scripts": {path: {"id", "sha1"}}}
  perms PASSWORD GROUP           -> "rw----" (the group's permission string)
  insecure PASSWORD              -> {"ok": true, "router": ...}: createClient(secure=False)
"""

import hashlib
import json
import sys

import omero
import omero.clients  # noqa: F401
import omero.model
from omero.rtypes import rbool, rstring

HOST, PORT = "127.0.0.1", 4064
PMAP = {"Ice.Override.ConnectTimeout": "10000", "Ice.RetryIntervals": "-1"}


def session(user, password):
    client = omero.client(host=HOST, port=PORT, pmap=PMAP)
    try:
        return client, client.createSession(user, password)
    except Exception:
        client.closeSession()
        raise


def login(user, password):
    try:
        client, sf = session(user, password)
    except Exception as exc:
        return {"ok": False, "type": type(exc).__name__, "reason": getattr(exc, "reason", str(exc))}
    try:
        ec = sf.getAdminService().getEventContext()
        router = client.getProperty("Ice.Default.Router")
        return {"ok": True, "user": ec.userName, "admin": ec.isAdmin, "group": ec.groupName, "router": router,
                "session": client.getSessionId() == ec.sessionUuid}  # fmt: skip
    finally:
        client.killSession()


def expect_error(checks, name, exc_type, text, fn):
    try:
        fn()
    except exc_type as exc:
        message = getattr(exc, "message", "") or str(exc)
        assert text in message, (name, message)
        checks.append("%s: %s" % (name, message))
        return
    raise AssertionError("%s: no %s" % (name, exc_type.__name__))


def admin(password):
    client, sf = session("root", password)
    checks = []
    try:
        a = sf.getAdminService()
        expect_error(checks, "lookupGroup missing", omero.ApiUsageException, "No such group",
                     lambda: a.lookupGroup("no-such-group"))  # fmt: skip
        g = omero.model.ExperimenterGroupI()
        g.setName(rstring("smoke-lab"))
        g.setLdap(rbool(False))
        g.getDetails().setPermissions(omero.model.PermissionsI("rwra--"))
        gid = a.createGroup(g)
        got = a.lookupGroup("smoke-lab")
        assert str(got.getDetails().getPermissions()) == "rwra--", str(got.getDetails().getPermissions())
        checks.append("createGroup smoke-lab id %d rwra--" % gid)
        user_group = a.lookupGroup("user")
        e = omero.model.ExperimenterI()
        e.setOmeName(rstring("smoke-user"))
        e.setFirstName(rstring("Smoke"))
        e.setLastName(rstring("User"))
        e.setLdap(rbool(False))
        uid = a.createExperimenterWithPassword(e, rstring("pw-1"), omero.model.ExperimenterGroupI(gid, False),
                                               [omero.model.ExperimenterGroupI(user_group.id.val, False)])  # fmt: skip
        exp = a.getExperimenter(uid)
        assert a.getDefaultGroup(uid).getName().val == "smoke-lab"
        assert sorted(x.getName().val for x in a.containedGroups(uid)) == ["smoke-lab", "user"]
        checks.append("createExperimenterWithPassword smoke-user id %d, default smoke-lab" % uid)
        expect_error(
            checks,
            "setDefaultGroup user",
            omero.ApiUsageException,
            "Cannot set default group to: user",
            lambda: a.setDefaultGroup(exp, omero.model.ExperimenterGroupI(user_group.id.val, False)),
        )
        expect_error(
            checks,
            "removeGroups leaving user",
            omero.ValidationException,
            "only the 'user' group",
            lambda: a.removeGroups(exp, [omero.model.ExperimenterGroupI(gid, False)]),
        )
        a.changeUserPassword("smoke-user", rstring("pw-2"))
        checks.append("changeUserPassword smoke-user")
        r = omero.model.ExperimenterI()
        r.setOmeName(rstring("smoke-admin"))
        r.setFirstName(rstring("Smoke"))
        r.setLastName(rstring("Admin"))
        r.setLdap(rbool(False))
        priv = omero.model.AdminPrivilegeI()
        priv.setValue(rstring("WriteScriptRepo"))
        rid = a.createRestrictedSystemUserWithPassword(r, [priv], rstring("pw-3"))
        got = sorted(p.getValue().val for p in a.getAdminPrivileges(a.getExperimenter(rid)))
        assert got == ["WriteScriptRepo"], got
        assert a.getDefaultGroup(rid).getName().val == "system"
        checks.append("createRestrictedSystemUserWithPassword smoke-admin privileges %s" % got)
    finally:
        client.killSession()
    return {"ok": True, "checks": checks}


def upload(password, path, text):
    client, sf = session("root", password)
    try:
        return {"id": sf.getScriptService().uploadOfficialScript(path, text)}
    except omero.ServerError as exc:
        return {"error": type(exc).__name__, "message": exc.message}
    finally:
        client.killSession()


def scripts(password):
    client, sf = session("root", password)
    try:
        out = {}
        svc = sf.getScriptService()
        for f in svc.getScripts():
            path = f.getPath().val + f.getName().val
            text = svc.getScriptText(f.getId().val)
            assert hashlib.sha1(text.encode()).hexdigest() == f.getHash().val, path  # noqa: S324
            assert f.getHasher().getValue().val == "SHA1-160"
            out[path] = {"id": f.getId().val, "sha1": f.getHash().val}
        return {"scripts": out}
    finally:
        client.killSession()


def insecure(password):
    """The modules' secure=false path: log in over ssl, continue over omero.router.insecure."""
    client, sf = session("root", password)
    joined = client.createClient(secure=False)
    try:
        sf.detachOnDestroy()
        client.closeSession()
        ec = joined.getSession().getAdminService().getEventContext()
        return {"ok": True, "router": joined.getProperty("Ice.Default.Router"), "user": ec.userName,
                "secure": joined.isSecure()}  # fmt: skip
    finally:
        joined.killSession()


def perms(password, group):
    client, sf = session("root", password)
    try:
        return str(sf.getAdminService().lookupGroup(group).getDetails().getPermissions())
    finally:
        client.killSession()


def main(argv):
    command, args = argv[0], argv[1:]
    commands = {
        "login": login,
        "admin": admin,
        "upload": upload,
        "scripts": scripts,
        "perms": perms,
        "insecure": insecure,
    }
    result = commands[command](*args)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
