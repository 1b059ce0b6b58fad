"""Run the OMERO.server stand-in and its PostgreSQL for tests that connect from this machine.

    with standin_service.running() as server:   # {"host", "port", "user", "password", ...}
        ...                                      # omero.client(server["host"], server["port"])

Starts ``omero-stack-test/postgres:17`` (or $OMERO_STACK_TEST_POSTGRES_IMAGE) and the
stand-in image (build.sh here: built or reused, keyed) on a network of their own, the
stand-in's SSL router port 4064 published on 127.0.0.1 at a free port, waits until root
logs in over it, and removes both containers and the network on the way out, also after
a failure or an interrupt. Names are ``omero-standin-svc-<hex>`` (never clashing with the
Molecule scenarios' omero-stack-* containers nor with a second run), labelled
``org.omero-stack.standin-service=<name>``.

Used by tests/integration/images/test_omero_modules_on_standin.py (the live module suite of
tests/integration/omero against the stand-in). From a shell, for the live suite itself:

    python3 tests/images/omero-server/standin_service.py -- pytest -v tests/integration/omero

runs the command with OMERO_TEST_HOST/PORT/USER/PASSWORD naming the running stand-in.
Needs a Docker engine and omero-py in the running Python (the login check uses it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
LABEL = "org.omero-stack.standin-service"
ROUTER_PORT = 4064


class StandinError(RuntimeError):
    """The stand-in or its database did not come up; the message holds its last log lines."""


def docker(*args, check=True, timeout=300):
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise StandinError("docker %s failed (%d): %s" % (" ".join(args[:2]), proc.returncode, proc.stderr.strip()))
    return proc.stdout.strip()


def engine_problem():
    """None when a Docker engine answers, else why not (for a skip reason)."""
    try:
        proc = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError:
        return "no docker client on this machine"
    except subprocess.TimeoutExpired:
        return "docker info timed out"
    if proc.returncode != 0:
        return "no Docker engine answers (docker info: %s)" % proc.stderr.strip()[:200]
    return None


def images():
    """(stand-in image, PostgreSQL image), building what is missing (offline, keyed).

    $OMERO_STACK_STANDIN_IMAGE names a stand-in image to use as it is (no build.sh, which
    also moves the omero-stack-test/omero-server:5.6.17 alias to its result)."""
    pg_image = os.environ.get("OMERO_STACK_TEST_POSTGRES_IMAGE", "omero-stack-test/postgres:17")
    if subprocess.run(["docker", "image", "inspect", pg_image], capture_output=True, check=False).returncode != 0:
        subprocess.run([str(REPO_ROOT / "tests/images/services/build.sh"), "postgres"], check=True,
                       stdout=subprocess.DEVNULL, timeout=1800)  # fmt: skip
    if os.environ.get("OMERO_STACK_STANDIN_IMAGE"):
        return os.environ["OMERO_STACK_STANDIN_IMAGE"], pg_image
    built = subprocess.run([str(HERE / "build.sh")], capture_output=True, text=True, timeout=3600, check=False)
    if built.returncode != 0:
        raise StandinError("tests/images/omero-server/build.sh failed:\n" + built.stderr[-3000:])
    return built.stdout.strip().splitlines()[-1], pg_image


def _logs(container, lines=40):
    proc = subprocess.run(["docker", "logs", "--tail", str(lines), container], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    return (proc.stdout + proc.stderr).strip()


def _wait_database(db, user, name, tries=60):
    for _attempt in range(tries):
        if docker("exec", db, "pg_isready", "-h", "127.0.0.1", "-U", user, "-d", name, check=False).endswith(
            "accepting connections"
        ):
            return
        time.sleep(1)
    raise StandinError("PostgreSQL (%s) did not start:\n%s" % (db, _logs(db)))


def login_error(host, port, user, password, timeout=10):
    """None when user/password log in over the SSL router at host:port, else the error."""
    import omero
    import omero.clients

    client = omero.client(host=host, port=port, pmap={"Ice.Default.Timeout": str(timeout * 1000)})
    try:
        client.createSession(user, password)
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not yet"; the caller reports the last
        return "%s: %s" % (type(exc).__name__, getattr(exc, "reason", "") or exc)
    finally:
        with contextlib.suppress(Exception):
            client.__del__()


def _wait_login(server, host, port, password, timeout):
    deadline = time.monotonic() + timeout
    error = None
    while time.monotonic() < deadline:
        if docker("inspect", "-f", "{{.State.Running}}", server, check=False) != "true":
            raise StandinError("the stand-in exited:\n%s" % _logs(server))
        error = login_error(host, port, "root", password)
        if error is None:
            return
        time.sleep(1)
    raise StandinError("root did not log in within %d s (last: %s):\n%s" % (timeout, error, _logs(server)))


def _published_router(container):
    """(host, port) where the container's router port is published on 127.0.0.1."""
    for _attempt in range(30):
        published = docker("port", container, "%d/tcp" % ROUTER_PORT, check=False)
        if published:
            return "127.0.0.1", int(published.splitlines()[0].rsplit(":", 1)[1])
        time.sleep(0.5)
    raise StandinError("port %d of %s was not published:\n%s" % (ROUTER_PORT, container, _logs(container)))


def remove(run_id):
    """Remove every container labelled with run_id and the network run_id."""
    ids = docker("ps", "-aq", "--filter", "label=%s=%s" % (LABEL, run_id), check=False).split()
    if ids:
        docker("rm", "-f", "-v", *ids, check=False)
    docker("network", "rm", run_id, check=False)


@contextlib.contextmanager
def running(startup_seconds=2, login_timeout=180):
    """Start PostgreSQL and the stand-in; yield how to reach it; always remove both."""
    image, pg_image = images()
    run_id = "omero-standin-svc-" + secrets.token_hex(4)
    db, server = run_id + "-db", run_id + "-server"
    db_user, db_name, db_pass = "omero_live", "omero_live", "db-" + secrets.token_hex(8)
    root_password = "root-" + secrets.token_hex(8)
    label = "%s=%s" % (LABEL, run_id)
    started = time.monotonic()
    try:
        docker("network", "create", "--label", label, run_id)
        docker("run", "-d", "--name", db, "--label", label, "--network", run_id, "--network-alias", "database",
               "-e", "POSTGRES_USER=" + db_user, "-e", "POSTGRES_PASSWORD=" + db_pass, "-e", "POSTGRES_DB=" + db_name,
               pg_image)  # fmt: skip
        _wait_database(db, db_user, db_name)
        docker("run", "-d", "--name", server, "--label", label, "--network", run_id,
               "-p", "127.0.0.1::%d" % ROUTER_PORT,
               "-e", "CONFIG_omero_db_host=database", "-e", "CONFIG_omero_db_user=" + db_user,
               "-e", "CONFIG_omero_db_name=" + db_name, "-e", "CONFIG_omero_db_pass=" + db_pass,
               "-e", "ROOTPASS=" + root_password, "-e", "STANDIN_STARTUP_SECONDS=%d" % startup_seconds,
               image)  # fmt: skip
        host, port = _published_router(server)
        _wait_login(server, host, port, root_password, login_timeout)
        yield {
            "host": host, "port": port, "user": "root", "password": root_password,
            "container": server, "database": db, "run_id": run_id, "image": image,
            "startup_seconds": round(time.monotonic() - started, 1),
            "db": {"user": db_user, "name": db_name, "password": db_pass},
        }  # fmt: skip
    finally:
        remove(run_id)


def start_read_only(server, login_timeout=180):
    """A read-only stand-in beside ``server`` (what :func:`running` yields): same database,
    ``omero.cluster.read_only.db`` and ``.repo`` true (the CONFIG_* variables of the image);
    removed with the others. Returns ``{host, port, container}``."""
    name = server["run_id"] + "-ro"
    db = server["db"]
    docker("run", "-d", "--name", name, "--label", "%s=%s" % (LABEL, server["run_id"]), "--network", server["run_id"],
           "-p", "127.0.0.1::%d" % ROUTER_PORT,
           "-e", "CONFIG_omero_db_host=database", "-e", "CONFIG_omero_db_user=" + db["user"],
           "-e", "CONFIG_omero_db_name=" + db["name"], "-e", "CONFIG_omero_db_pass=" + db["password"],
           "-e", "CONFIG_omero_cluster_read__only_db=true", "-e", "CONFIG_omero_cluster_read__only_repo=true",
           "-e", "STANDIN_STARTUP_SECONDS=1", server["image"])  # fmt: skip
    host, port = _published_router(name)
    _wait_login(name, host, port, server["password"], login_timeout)
    return {"host": host, "port": port, "container": name}


def main(argv):
    """standin_service.py -- COMMAND...: run COMMAND with OMERO_TEST_* naming a stand-in."""
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    problem = engine_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    with running() as server:
        env = dict(os.environ, OMERO_TEST_HOST=server["host"], OMERO_TEST_PORT=str(server["port"]),
                   OMERO_TEST_USER=server["user"], OMERO_TEST_PASSWORD=server["password"])  # fmt: skip
        return subprocess.run(argv, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
