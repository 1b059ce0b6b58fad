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
        session_timeout=dict(type="int"),
    )


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
_BAD_CREDENTIALS = ("PermissionDeniedException", "SecurityViolation")


def classify_exception(exc):
    """Return the kind of a connection failure from the exception's class hierarchy."""
    names = [cls.__name__ for cls in type(exc).__mro__]
    for name in names:
        if name in _BAD_CREDENTIALS:
            return "bad_credentials"
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
        """Run an omero.cmd request to completion (raises omero.CmdError on failure)."""
        return self.client.submit(request, loops=max(1, seconds * 2), ms=500)

    def close(self):
        """End the server-side session and the client's communicator."""
        try:
            self.client.killSession()
        except Exception:  # noqa: S110 - closing a session must never mask the result
            pass


def _client_properties(params):
    timeout_ms = str(max(1, params.get("connect_timeout") or 30) * 1000)
    return {
        "Ice.Override.ConnectTimeout": timeout_ms,
        "Ice.RetryIntervals": "-1",
    }


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
