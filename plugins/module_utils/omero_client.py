# -*- coding: utf-8 -*-
# Copyright: omero_docker.stack developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Shared connection code of the omero_* modules (omero-py).

The modules run wherever omero-py is importable: in this collection, inside the
omeroserver container with its venv Python. The controller never needs zeroc-ice.

Expected failures (server unreachable, server not ready, wrong credentials, missing
omero-py) end in ``fail_json`` with a clear message and an ``error_kind``; they never
show a Python traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import traceback

from ansible.module_utils.basic import missing_required_lib

OMERO_IMPORT_ERROR = None
try:
    import Ice
    import omero
    import omero.clients  # noqa: F401 - defines omero.client
    import omero.cmd
    import omero.constants
    import omero.model
    from omero.rtypes import rlong, rstring
except ImportError:
    HAS_OMERO = False
    OMERO_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_OMERO = True


def omero_argument_spec():
    """Connection options shared by every omero_* module (see the omero_connection doc fragment)."""
    return dict(
        host=dict(type="str", default="localhost"),
        port=dict(type="int", default=4064),
        user=dict(type="str", default="root"),
        password=dict(type="str", required=True, no_log=True),
        secure=dict(type="bool", default=True),
        group=dict(type="str"),
        connect_timeout=dict(type="int", default=30),
        invocation_timeout=dict(type="int", default=300),
        session_timeout=dict(type="int"),
    )


class OmeroStillRunning(Exception):
    """A server-side command (omero.cmd request) did not finish within the wait; it goes on."""


class OmeroConnectionError(Exception):
    """A connection failure with a kind: unreachable, not_ready, bad_credentials, error."""

    def __init__(self, kind, message):
        super(OmeroConnectionError, self).__init__(message)
        self.kind = kind
        self.message = message


# Exception class names (Ice and Glacier2 raise these) -> kind of failure. Names, not
# classes, so the mapping is readable and testable without omero-py.
_UNREACHABLE = (
    "ConnectionRefusedException",
    "ConnectFailedException",
    "ConnectTimeoutException",
    "DNSException",
    "SocketException",
    "ConnectionLostException",
    "TimeoutException",
    "SecurityException",
)
_NOT_READY = (
    "CannotCreateSessionException",
    "WrappedCreateSessionException",
    "ObjectNotExistException",
    "NoEndpointException",
    "RemovedSessionException",
)
_BAD_CREDENTIALS = ("SecurityViolation",)
# Glacier2 answers every login with PermissionDeniedException while the server starts:
# its reason is "internal server error" until Blitz is up (the permissions verifier is
# not reachable yet). Only OMERO's own verifier says the password was wrong, with a
# reason starting with this text (omero-blitz PermissionsVerifierI).
_PASSWORD_CHECK_FAILED = "Password check failed"  # noqa: S105 - a message prefix, not a password


def classify_exception(exc):
    """Return the kind of a connection failure from the exception's class hierarchy."""
    names = [cls.__name__ for cls in type(exc).__mro__]
    for name in names:
        if name == "PermissionDeniedException":
            reason = str(getattr(exc, "reason", "") or "")
            return "bad_credentials" if reason.startswith(_PASSWORD_CHECK_FAILED) else "not_ready"
        if name in _BAD_CREDENTIALS:
            return "bad_credentials"
        if name == "InvocationTimeoutException":
            return "timeout"
        if name in _NOT_READY:
            return "not_ready"
        if name in _UNREACHABLE:
            return "unreachable"
    return "error"


def describe_exception(exc):
    """Short text of an Ice/OMERO exception (their details are attributes, not str())."""
    details = []
    for attr in ("reason", "message", "serverExceptionClass", "host", "error"):
        value = getattr(exc, attr, None)
        if value in (None, "", 0):
            continue
        if attr == "error" and isinstance(value, int) and value > 0:
            details.append("%s (errno %d)" % (os.strerror(value), value))
        elif attr == "host":
            details.append("host=%s" % value)
        else:
            details.append(str(value))
    if not details:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        details = lines[-1:] if len(lines) > 1 else []
    return type(exc).__name__ + (": " + ", ".join(details) if details else "")


def _message(kind, params, exc):
    where = "%s:%s" % (params["host"], params["port"])
    detail = describe_exception(exc)
    if kind == "unreachable":
        return (
            "cannot reach OMERO.server at %s (%s); check host, port, that the server is running "
            "and that nothing blocks the port" % (where, detail)
        )
    if kind == "not_ready":
        return "OMERO.server at %s answers but does not accept logins yet (%s); retry later" % (where, detail)
    if kind == "timeout":
        return "OMERO.server at %s did not answer within invocation_timeout (%s s) (%s)" % (
            where,
            params.get("invocation_timeout"),
            detail,
        )
    if kind == "bad_credentials":
        return "OMERO.server at %s refused the login of user %r: wrong user name or password (%s)" % (
            where,
            params["user"],
            detail,
        )
    return "OMERO error while connecting to %s as %r: %s" % (where, params["user"], detail)


class OmeroSession:
    """One logged-in session: the client and the services the modules use."""

    def __init__(self, client, session):
        self.client = client
        self.session = session
        self._admin = None
        self._script = None

    @property
    def admin(self):
        if self._admin is None:
            self._admin = self.session.getAdminService()
        return self._admin

    @property
    def scripts(self):
        if self._script is None:
            self._script = self.session.getScriptService()
        return self._script

    def submit(self, request, seconds=120):
        """Run an omero.cmd request to completion and return its response.

        Raises omero.CmdError when the server reports a failure, and OmeroStillRunning
        when the request has not finished after ``seconds``: the handle is then left
        open, so the server carries on with it (closing it could cancel it).
        """
        callback = self.client.submit(request, loops=max(1, int(seconds) * 2), ms=500, failontimeout=False)
        response = callback.getResponse()
        if response is None:
            try:
                callback.close(False)
            except Exception:  # noqa: S110 - the report below matters, not the local callback
                pass
            raise OmeroStillRunning(
                "%s still running on the server after %s s" % (type(request).__name__, seconds)
            )
        callback.close(True)
        return response

    def close(self):
        """End the server-side session and the client's communicator."""
        try:
            self.client.killSession()
        except Exception:  # noqa: S110 - closing a session must never mask the result
            pass


def _client_properties(params):
    timeout_ms = str(max(1, params.get("connect_timeout") or 30) * 1000)
    properties = {
        "Ice.Override.ConnectTimeout": timeout_ms,
        "Ice.RetryIntervals": "-1",
    }
    # Every remote call waits at most this long for its answer (0: no limit), so a
    # wedged server cannot block a run. Long server-side work (Chmod2) is polled with
    # short calls and bounded by its own option.
    invocation = params.get("invocation_timeout")
    if invocation is None:
        invocation = 300
    properties["Ice.Default.InvocationTimeout"] = str(int(invocation) * 1000 if int(invocation) > 0 else -1)
    return properties


def open_session(params, user=None, password=None):
    """Log in and return an OmeroSession; raise OmeroConnectionError on failure."""
    if not HAS_OMERO:
        raise OmeroConnectionError("missing_library", missing_required_lib("omero-py"))
    user = user or params["user"]
    password = password if password is not None else params["password"]
    client = None
    try:
        client = omero.client(host=params["host"], port=params["port"], pmap=_client_properties(params))
        if params.get("group"):
            client.getImplicitContext().put(omero.constants.GROUP, params["group"])
        session = client.createSession(user, password)
        if not params.get("secure", True):
            # Like BlitzGateway.setSecure(False): join the session over the server's
            # insecure router, then let the first client go without ending the session.
            insecure = client.createClient(secure=False)
            if params.get("group"):
                # createClient copies the properties, not the implicit context.
                insecure.getImplicitContext().put(omero.constants.GROUP, params["group"])
            session.detachOnDestroy()
            client.closeSession()
            client = insecure
            session = client.getSession()
        if params.get("session_timeout"):
            request = omero.cmd.UpdateSessionTimeoutRequest(
                session=client.getSessionId(),
                timeToIdle=rlong(int(params["session_timeout"]) * 1000),
            )
            client.submit(request, loops=60, ms=500)
    except Exception as exc:
        if client is not None:
            try:
                client.closeSession()
            except Exception:  # noqa: S110 - cleanup after a failure already reported
                pass
        kind = classify_exception(exc)
        conn_params = dict(params, user=user)
        raise OmeroConnectionError(kind, _message(kind, conn_params, exc)) from exc
    return OmeroSession(client, session)


def connect(module):
    """open_session() for an AnsibleModule: fail_json (no traceback) on expected failures."""
    if not HAS_OMERO:
        module.fail_json(
            msg=missing_required_lib("omero-py"),
            exception=OMERO_IMPORT_ERROR,
            error_kind="missing_library",
        )
    try:
        return open_session(module.params)
    except OmeroConnectionError as err:
        module.fail_json(msg=err.message, error_kind=err.kind)


def password_works(params, user, password):
    """True when user/password can log in (used by update_password=always)."""
    try:
        session = open_session(params, user=user, password=password)
    except OmeroConnectionError as err:
        if err.kind == "bad_credentials":
            return False
        raise
    session.close()
    return True


def server_error_text(exc):
    """Readable text of an omero.ServerError / CmdError for fail_json."""
    err = getattr(exc, "err", None)
    if err is not None:
        parts = [getattr(err, "name", ""), getattr(err, "category", "")]
        params = getattr(err, "parameters", None) or {}
        if params.get("message"):
            parts.append(params["message"])
        return "%s: %s" % (type(exc).__name__, " ".join(p for p in parts if p))
    return describe_exception(exc)


def fail_server_error(module, what, err):
    """fail_json for an OMERO failure during a module's work (after the login).

    A call that got no answer within invocation_timeout is a timeout, anything else the
    server's refusal, with its reason.
    """
    if classify_exception(err) == "timeout":
        module.fail_json(
            msg="OMERO.server did not answer a call within invocation_timeout (%s s) during a %s: %s"
            % (module.params.get("invocation_timeout"), what, describe_exception(err)),
            error_kind="timeout",
        )
    module.fail_json(msg="OMERO refused a %s: %s" % (what, server_error_text(err)), error_kind="error")


def ice_error_types():
    """Exception classes modules treat as expected OMERO failures (ServerError, Ice errors)."""
    if not HAS_OMERO:
        return (Exception,)
    return (omero.ServerError, omero.CmdError, Ice.Exception)


def rstr(value):
    return rstring(value) if value is not None else None


def unwrap(value):
    """Value of an omero.rtypes wrapper (or the value itself)."""
    if value is None:
        return None
    return getattr(value, "val", value)
