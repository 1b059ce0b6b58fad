"""omero.cmd requests submitted through ServiceFactory.submit (omero.cmd.Session).

Each request runs at once, in the dispatch thread; the client gets a Handle whose
response is already there (omero-py's CmdCallbackI polls it, so no callback to the
client is needed). Supported: Chmod2 on groups, UpdateSessionTimeoutRequest. Anything
else answers an ERR response naming the request, so clients see a clear CmdError.
"""

import logging
import time

import omero
import omero.all  # noqa: F401 - every omero.cmd class
import omero.cmd

from . import rules

log = logging.getLogger("omero.standin.cmd")


def _err(req, name, message):
    return omero.cmd.ERR(category="::" + type(req).__name__, name=name, parameters={"message": message})


def run_request(server, session, req):
    """The Response for one request (never raises)."""
    kind = type(req).__name__
    try:
        if isinstance(req, omero.cmd.Chmod2):
            return _chmod(server, session, req)
        if kind == "UpdateSessionTimeoutRequest":
            log.info("Session timeout request for %s accepted (the stand-in has no timeouts)", req.session)
            return omero.cmd.OK()
    except rules.RuleError as err:
        log.info("%s refused: %s: %s", kind, err.kind, err.message)
        return _err(req, err.kind, err.message)
    except Exception as exc:  # an internal fault becomes an ERR, like the server's
        log.exception("%s failed", kind)
        return _err(req, "internal-error", str(exc))
    return _err(req, "not-supported", "%s is not supported by the OMERO.server stand-in" % kind)


def _chmod(server, session, req):
    store = server.store
    targets = req.targetObjects or {}
    memberships = store.memberships(session.user_id)
    is_admin = any(m[0] == rules.SYSTEM_GROUP_ID for m in memberships)
    changed = []
    for gid in [i for ids in targets.values() for i in ids]:
        group = store.group(gid=gid)
        if group is None:
            raise rules.no_such_group(gid)
        owns = any(m[0] == gid and m[2] for m in memberships)
        perm = rules.check_chmod_group(targets.keys(), is_admin, owns, gid, req.permissions)
        if not req.dryRun:
            store.set_group_permissions(gid, perm)
            log.info("Chmod2: group %s (%d) %s -> %s", group["name"], gid, group["permissions"], perm)
        changed.append(gid)
    return omero.cmd.Chmod2Response(includedObjects={"omero.model.ExperimenterGroup": changed}, deletedObjects={})


class HandleI(omero.cmd.Handle):
    """A finished command: request, response and status are fixed at creation."""

    def __init__(self, req, rsp):
        self.req = req
        self.rsp = rsp
        now = int(time.time() * 1000)
        failed = isinstance(rsp, omero.cmd.ERR)
        flags = [omero.cmd.State.FAILURE] if failed else [omero.cmd.State.SUCCESS]
        self.status = omero.cmd.Status(
            category=type(req).__name__, name="", flags=flags, parameters={}, currentStep=1, steps=1,
            startTime=now, stepStartTimes=[now], stepStopTimes=[now], stopTime=now,
        )  # fmt: skip

    def addCallback(self, cb, current=None):
        pass

    def removeCallback(self, cb, current=None):
        pass

    def getRequest(self, current=None):
        return self.req

    def getResponse(self, current=None):
        return self.rsp

    def getStatus(self, current=None):
        return self.status

    def cancel(self, current=None):
        return False

    def close(self, current=None):
        try:
            current.adapter.remove(current.id)
        except Exception:  # noqa: S110 - already gone
            pass
