"""Main program of the OMERO.server stand-in (startup step 99, run in the foreground).

Reads the effective OMERO configuration ($OMERODIR/etc/grid/config.xml, written by
`omero config` in the earlier startup steps), reconciles the script repository with the
database, then serves the Glacier2 router on `ssl -p 4064` and `tcp -p 4063`. Logins
answer "internal server error" for the first STANDIN_STARTUP_SECONDS, as Glacier2 does
while Blitz is still starting. Logs go to stdout and OMERO.server/var/log/Blitz-0.log.
"""

import logging
import os
import signal
import subprocess
import sys
import time

import Ice
import omero
import omero.clients  # noqa: F401 - registers omero's generated classes
import omero.rtypes
from omero.config import ConfigXml

from . import rules
from .scriptrepo import ScriptRepo
from .servants import RouterI
from .store import Store

OMERODIR = os.environ.get("OMERODIR", "/opt/omero/server/OMERO.server").rstrip("/")
VERSION = "5.6.17-ice36-standin"
# Holds a number of seconds: the startup phase of the next start only (then removed).
STARTUP_ONCE_FILE = "/tmp/standin-startup-seconds"
log = logging.getLogger("omero.standin")


def setup_logging():
    fmt = logging.Formatter("%(asctime)s %(levelname)-5s [%(name)28s] (%(threadName)-10s) %(message)s")
    handlers = [logging.StreamHandler(sys.stdout)]
    logdir = os.path.join(OMERODIR, "var", "log")
    try:
        os.makedirs(logdir, exist_ok=True)
        handlers.append(logging.FileHandler(os.path.join(logdir, "Blitz-0.log")))
    except OSError as err:
        print("cannot write %s/Blitz-0.log: %s" % (logdir, err), file=sys.stderr)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)


def effective_config():
    path = os.path.join(OMERODIR, "etc", "grid", "config.xml")
    if not os.path.exists(path):
        return {}
    cfg = ConfigXml(path, exclusive=False, read_only=True)
    try:
        return dict(cfg.as_map())
    finally:
        cfg.close()


def read_only(config, resource):
    """omero.cluster.read_only.<resource> (db, repo), or the deprecated omero.cluster.read_only."""
    return "true" in (config.get("omero.cluster.read_only"), config.get("omero.cluster.read_only." + resource))


def db_params(config):
    return {
        "host": config.get("omero.db.host", "localhost"),
        "port": config.get("omero.db.port", "5432"),
        "name": config.get("omero.db.name", "omero"),
        "user": config.get("omero.db.user", "omero"),
        "password": config.get("omero.db.pass", "omero"),
        "read_only": read_only(config, "db"),
    }


def ensure_certificate(config):
    """A self-signed server certificate, made once where omero-certificates puts it.

    Honours omero.glacier2.IceSSL.DefaultDir (/OMERO/certs), .CertFile (server.p12) and
    .Password (secret): PKCS#12 with the key, plus server.pem and server.key.
    """
    certdir = config.get("omero.glacier2.IceSSL.DefaultDir", "/OMERO/certs")
    p12 = os.path.join(certdir, config.get("omero.glacier2.IceSSL.CertFile", "server.p12"))
    password = config.get("omero.glacier2.IceSSL.Password", "secret")
    if not os.path.exists(p12):
        os.makedirs(certdir, mode=0o700, exist_ok=True)
        pem, key = os.path.join(certdir, "server.pem"), os.path.join(certdir, "server.key")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
             "-subj", "/CN=omero-server-standin", "-keyout", key, "-out", pem],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        subprocess.run(
            ["openssl", "pkcs12", "-export", "-in", pem, "-inkey", key, "-out", p12,
             "-name", "server", "-passout", "env:STANDIN_P12_PASSWORD"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=dict(os.environ, STANDIN_P12_PASSWORD=password),
        )  # fmt: skip
        for f in (key, p12):
            os.chmod(f, 0o600)
        log.info("Created a self-signed server certificate in %s", certdir)
    return certdir, p12, password


class StandinServer:
    """State shared by the servants: store, script repository, sessions, configuration."""

    def __init__(self, config, store, scripts, startup_seconds):
        self.config = config
        self.store = store
        self.scripts = scripts
        self.sessions = {}
        self.version = VERSION
        self.database_uuid = "standin-" + config.get("omero.db.name", "omero")
        self.ready_at = time.monotonic() + startup_seconds

    def close_session(self, session):
        if session.closed:
            return
        session.closed = True
        self.sessions.pop(session.uuid, None)
        log.info("Closed session %s of %r", session.uuid[:8], session.user_name)

    def translate(self, exc, operation):
        """The Ice exception a client receives for a failure inside an operation."""
        if isinstance(exc, rules.RuleError):
            log.info("%s refused: %s: %s", operation, exc.kind, exc.message)
            return getattr(omero, exc.kind)(serverExceptionClass="ome.conditions." + exc.kind, message=exc.message)
        if isinstance(exc, (Ice.UserException, Ice.LocalException)):
            return exc
        log.exception("%s failed", operation)
        return omero.InternalException(serverExceptionClass=type(exc).__name__, message=str(exc))


def communicator(certdir, cert, password):
    init = Ice.InitializationData()
    init.properties = Ice.createProperties()
    props = {
        "Ice.Plugin.IceSSL": "IceSSL:createIceSSL",
        "IceSSL.DefaultDir": certdir,
        "IceSSL.CertFile": cert,
        "IceSSL.Password": password,
        "IceSSL.VerifyPeer": "0",
        "Ice.ThreadPool.Server.Size": "2",
        "Ice.ThreadPool.Server.SizeMax": "16",
        "Ice.MessageSizeMax": "65536",
        "Ice.ACM.Server.Timeout": "0",
        "Ice.Warn.Connections": "0",
    }
    for name, value in props.items():
        init.properties.setProperty(name, value)
    ic = Ice.initialize(init)
    try:
        from omero import ObjectFactoryRegistrar as ofr
    except ImportError:  # pragma: no cover - older layouts
        import ObjectFactoryRegistrar as ofr
    ofr.registerObjectFactory(ic, None)
    for factory in omero.rtypes.ObjectFactories.values():
        factory.register(ic)
    return ic


def main():
    setup_logging()
    config = effective_config()
    params = db_params(config)
    startup = float(os.environ.get("STANDIN_STARTUP_SECONDS", "20"))
    # A test can make the next start's phase longer, once (survives `docker restart`).
    if os.path.exists(STARTUP_ONCE_FILE):
        with open(STARTUP_ONCE_FILE, encoding="ascii") as handle:
            startup = float(handle.read().strip() or startup)
        try:
            os.remove(STARTUP_ONCE_FILE)
        except OSError as err:
            log.warning("cannot remove %s: %s", STARTUP_ONCE_FILE, err)
    log.info("OMERO.server stand-in %s starting (no Blitz; see tests/images/omero-server/README.md)", VERSION)
    log.info(
        "Database: host=%s port=%s name=%s user=%s", params["host"], params["port"], params["name"], params["user"]
    )
    store = Store(params)
    scripts = ScriptRepo(os.path.join(OMERODIR, "lib", "scripts"), store)
    if params["read_only"] or read_only(config, "repo"):
        # A read-only server registers nothing (no writes) and runs no scripts.
        log.info("Read-only server: database %s, repository %s (omero.cluster.read_only.*); scripts not synchronised",
                 "read-only" if params["read_only"] else "read-write", "read-only" if read_only(config, "repo")
                 else "read-write")
    else:
        gone, added = scripts.synchronise()
        log.info("Script repository: %d unregistered, %d registered at startup", len(gone), len(added))
    certdir, cert, password = ensure_certificate(config)
    ic = communicator(certdir, cert, password)
    server = StandinServer(config, store, scripts, startup)
    ssl_port = os.environ.get("STANDIN_SSL_PORT", "4064")
    tcp_port = os.environ.get("STANDIN_TCP_PORT", "4063")
    adapter = ic.createObjectAdapterWithEndpoints("OMERO.Glacier2", "ssl -p %s:tcp -p %s" % (ssl_port, tcp_port))
    adapter.add(RouterI(server), Ice.Identity("router", "OMERO.Glacier2"))
    adapter.activate()
    log.info("Glacier2 router listening: OMERO.Glacier2/router:ssl -p %s, tcp -p %s", ssl_port, tcp_port)
    log.info("Logins answer '%s' for the first %.0f s (Blitz starting)", rules.STARTING_REASON, startup)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append("SIGTERM"))
    signal.signal(signal.SIGINT, lambda *_: stop.append("SIGINT"))
    announced = False
    while not stop:
        if not announced and time.monotonic() >= server.ready_at:
            log.info("Server ready: logins accepted")
            announced = True
        time.sleep(0.2)
    log.info("Received %s: shutting down", stop[0])
    ic.destroy()
    log.info("OMERO.server stand-in stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
