"""Shared connection code: unreachable server, bad credentials, not ready, options."""

from __future__ import annotations

import socket
import threading
import time

import Glacier2
import Ice
import omero
import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils import omero_client
from ansible_collections.omero_docker.stack.plugins.modules import omero_group, omero_script, omero_user

from tests.helpers.omero_test_helpers import ModuleFail

MODULE_ARGS = [
    (omero_group, {"groups": [{"name": "lab"}]}),
    (omero_user, {"users": [{"name": "u", "password": "pw"}]}),
    (omero_script, {"scripts": [{"path": "/site/A.py", "content": "a"}]}),
]


def test_omero_py_is_importable_here():
    """The test command installs omero-py (tools/omero-py.sh); these tests must not skip."""
    assert omero_client.HAS_OMERO, omero_client.OMERO_IMPORT_ERROR


@pytest.mark.parametrize(("module", "args"), MODULE_ARGS)
def test_unreachable_server(server, run_module, module, args):
    server.reachable = False
    with pytest.raises(ModuleFail) as failed:
        run_module(module, dict(args, host="omero.invalid", port=4064))
    result = failed.value.result
    assert result["error_kind"] == "unreachable"
    assert "cannot reach OMERO.server at omero.invalid:4064" in result["msg"]
    assert "exception" not in result and "Traceback" not in result["msg"]
    assert server.writes == []


@pytest.mark.parametrize(("module", "args"), MODULE_ARGS)
def test_bad_credentials(server, run_module, module, args):
    with pytest.raises(ModuleFail) as failed:
        run_module(module, dict(args, password="wrong-password"))  # noqa: S106 - the wrong one on purpose
    result = failed.value.result
    assert result["error_kind"] == "bad_credentials"
    assert "refused the login of user 'root'" in result["msg"]
    assert "wrong-password" not in str(result)
    assert "exception" not in result
    assert server.writes == []


def test_server_not_ready(server, run_module):
    server.accepting_logins = False
    with pytest.raises(ModuleFail) as failed:
        run_module(omero_group, {"groups": [{"name": "lab"}]})
    assert failed.value.result["error_kind"] == "not_ready"


def test_client_options_and_session_end(server, run_module):
    run_module(omero_group, {"groups": [{"name": "lab"}], "host": "omero.example.org", "port": 14064,
                             "connect_timeout": 7, "session_timeout": 600, "group": "system"})
    server.client_class.assert_called_once()
    kwargs = server.client_class.call_args.kwargs
    assert kwargs["host"] == "omero.example.org"
    assert kwargs["port"] == 14064
    assert kwargs["pmap"]["Ice.Override.ConnectTimeout"] == "7000"
    client = server.clients[0]
    client.getImplicitContext.return_value.put.assert_called_once_with(omero.constants.GROUP, "system")
    assert client.fake_state["time_to_idle_ms"] == 600000
    client.killSession.assert_called_once_with()


def test_insecure_switches_to_the_insecure_router(server, run_module):
    run_module(omero_group, {"groups": [{"name": "lab"}], "secure": False})
    first, second = server.clients
    first.createClient.assert_called_once_with(secure=False)
    first.closeSession.assert_called_once_with()
    assert second.fake_state["secure"] is False
    second.killSession.assert_called_once_with()


def test_missing_omero_py_is_a_clear_failure(monkeypatch, run_module):
    monkeypatch.setattr(omero_client, "HAS_OMERO", False)
    monkeypatch.setattr(omero_client, "OMERO_IMPORT_ERROR", "ImportError: No module named 'omero'")
    with pytest.raises(ModuleFail) as failed:
        run_module(omero_group, {"groups": [{"name": "lab"}]})
    assert failed.value.result["error_kind"] == "missing_library"
    assert "omero-py" in failed.value.result["msg"]


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (Ice.ConnectionRefusedException(), "unreachable"),
        (Ice.DNSException(), "unreachable"),
        (Ice.ConnectTimeoutException(), "unreachable"),
        (Glacier2.PermissionDeniedException(reason="Password check failed for 'root'"), "bad_credentials"),
        (Glacier2.PermissionDeniedException(reason="internal server error"), "not_ready"),
        (Glacier2.CannotCreateSessionException(), "not_ready"),
        (omero.WrappedCreateSessionException(), "not_ready"),
        (omero.ClientError("x"), "error"),
    ],
)
def test_classify_real_omero_py_exceptions(exc, kind):
    assert omero_client.classify_exception(exc) == kind


def test_password_is_no_log_in_every_module():
    spec = omero_client.omero_argument_spec()
    assert spec["password"]["no_log"] is True


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_with_the_real_omero_py_client(run_module):
    """No fake here: the real omero.client and Ice fail to connect to a closed port."""
    port = _closed_port()
    with pytest.raises(ModuleFail) as failed:
        run_module(omero_group, {"groups": [], "host": "127.0.0.1", "port": port, "connect_timeout": 5})
    result = failed.value.result
    assert result["error_kind"] == "unreachable"
    expected = "cannot reach OMERO.server at 127.0.0.1:%d (ConnectionRefusedException: Connection refused (errno 111))"
    assert expected % port in result["msg"]


def test_server_that_hangs_up_is_unreachable_with_the_real_client(run_module):
    """A TCP peer that is not an OMERO router (it hangs up) fails with a message, no traceback."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def hang_up():
        while True:
            try:
                conn = listener.accept()[0]
            except OSError:
                return
            conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        with pytest.raises(ModuleFail) as failed:
            run_module(omero_group, {"groups": [], "host": "127.0.0.1", "port": port, "connect_timeout": 5})
    finally:
        listener.close()
    result = failed.value.result
    assert result["error_kind"] == "error"
    assert "OMERO error while connecting to 127.0.0.1:%d as 'root': ProtocolException" % port in result["msg"]
    assert "Traceback" not in result["msg"]


# ---------------------------------------------------------------- server start-up (Glacier2 before Blitz)


def test_glacier2_internal_server_error_is_not_ready():
    """Until Blitz is up, Glacier2 refuses every login with reason "internal server error";
    only OMERO's own password check ("Password check failed ...") means wrong credentials."""
    starting = Glacier2.PermissionDeniedException(reason="internal server error")
    assert omero_client.classify_exception(starting) == "not_ready"
    wrong = Glacier2.PermissionDeniedException(reason="Password check failed for 'root': [id=0]")
    assert omero_client.classify_exception(wrong) == "bad_credentials"
    fault = Glacier2.PermissionDeniedException(reason="Internal error. Please contact your administrator")
    assert omero_client.classify_exception(fault) == "not_ready"


@pytest.mark.parametrize(("module", "args"), MODULE_ARGS)
def test_login_while_blitz_starts_is_not_ready(server, run_module, module, args):
    server.blitz_starting = True
    with pytest.raises(ModuleFail) as failed:
        run_module(module, args)
    result = failed.value.result
    assert result["error_kind"] == "not_ready"
    assert "does not accept logins yet" in result["msg"] and "internal server error" in result["msg"]
    assert server.writes == []


# ---------------------------------------------------------------- invocation timeout


def test_invocation_timeout_in_the_client_properties(server, run_module):
    run_module(omero_group, {"groups": []})
    assert server.client_class.call_args.kwargs["pmap"]["Ice.Default.InvocationTimeout"] == "300000"
    run_module(omero_group, {"groups": [], "invocation_timeout": 45})
    assert server.client_class.call_args.kwargs["pmap"]["Ice.Default.InvocationTimeout"] == "45000"
    run_module(omero_group, {"groups": [], "invocation_timeout": 0})
    assert server.client_class.call_args.kwargs["pmap"]["Ice.Default.InvocationTimeout"] == "-1"


def test_invocation_timeout_is_its_own_error_kind():
    assert omero_client.classify_exception(Ice.InvocationTimeoutException()) == "timeout"


class _WedgedRouter(Glacier2.Router):
    """A Glacier2 router that accepts the connection and every call but never answers a
    login (createSession is AMD here and its callback is never called): a wedged server."""

    def __init__(self):
        self.pending = []

    def getClientProxy(self, current=None):  # noqa: N802 - Ice API
        return current.adapter.createProxy(Ice.stringToIdentity("client")), False

    def getServerProxy(self, current=None):  # noqa: N802 - Ice API
        return current.adapter.createProxy(Ice.stringToIdentity("server"))

    def addProxies(self, proxies, current=None):  # noqa: N802 - Ice API
        return []

    def getCategoryForClient(self, current=None):  # noqa: N802 - Ice API
        return "wedged"

    def createSession_async(self, cb, userId, password, current=None):  # noqa: N802, N803 - Ice API
        self.pending.append(cb)


@pytest.fixture
def wedged_router(monkeypatch):
    """Real Ice on both sides: a local router over tcp that never answers a login; the
    modules' omero.client is pointed at it (tcp instead of ssl, nothing else changed)."""
    communicator = Ice.initialize(["--Ice.Warn.Connections=0"])
    adapter = communicator.createObjectAdapterWithEndpoints("Wedged", "tcp -h 127.0.0.1")
    router = _WedgedRouter()
    adapter.add(router, Ice.stringToIdentity("OMERO.Glacier2/router"))
    adapter.activate()
    port = adapter.getEndpoints()[0].getInfo().port
    real = omero_client._client_properties

    def tcp_router(params):
        props = real(params)
        props["Ice.Default.Router"] = "OMERO.Glacier2/router:tcp -p @omero.port@ -h @omero.host@"
        return props

    monkeypatch.setattr(omero_client, "_client_properties", tcp_router)
    yield port, router
    for callback in router.pending:  # end the dispatches, or destroy() waits for them
        callback.ice_exception(Glacier2.CannotCreateSessionException(reason="test over"))
    communicator.destroy()


def test_a_wedged_login_ends_at_the_invocation_timeout(run_module, wedged_router):
    """No fake: the real omero.client waits at most invocation_timeout for an answer."""
    port, router = wedged_router
    started = time.monotonic()
    with pytest.raises(ModuleFail) as failed:
        run_module(omero_group, {"groups": [], "host": "127.0.0.1", "port": port, "invocation_timeout": 2})
    elapsed = time.monotonic() - started
    result = failed.value.result
    assert router.pending, "the login reached the router"
    assert result["error_kind"] == "timeout", result
    assert "did not answer within invocation_timeout (2 s)" in result["msg"]
    assert elapsed < 20


def test_insecure_session_keeps_the_group_context(server, run_module):
    """createClient(secure=False) copies properties, not the implicit context: the group
    must be set again on the insecure client, or the session runs in the default group."""
    run_module(omero_group, {"groups": [], "secure": False, "group": "system"})
    first, second = server.clients
    first.getImplicitContext.return_value.put.assert_called_once_with(omero.constants.GROUP, "system")
    second.getImplicitContext.return_value.put.assert_called_once_with(omero.constants.GROUP, "system")
