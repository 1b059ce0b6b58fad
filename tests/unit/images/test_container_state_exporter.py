"""The container-state exporter (files/images/container-state-exporter/container_state_exporter.py).

Imported by path (it is installed as a script, not a module). A real HTTP server on a
Unix socket stands in for the Docker Engine API with answers shaped like recorded ones;
the exposition text is parsed back and served over a real socket.
"""

from __future__ import annotations

import calendar
import http.client
import json
import os
import re
import signal
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.helpers.exposition import free_port, get, load_program, parse

PROGRAM = Path(__file__).resolve().parents[3] / "files/images/container-state-exporter/container_state_exporter.py"
WEIRD = 'registry.example/we"ird\\image\nx'
EXPECTED = "omeroserver,omeroweb,database,redis,backup,init,worker,gone"


cse = load_program(PROGRAM, "container_state_exporter")


def unix_time(utc: str, nanoseconds: int = 0) -> float:
    return calendar.timegm(time.strptime(utc, "%Y-%m-%d %H:%M:%S")) + nanoseconds / 1e9


def container(cid, name, state, started, *, service=None, health=None, restarts=0, exit_code=0, image=None):
    """A (list entry, inspect answer) pair shaped like Docker 20.10+'s."""
    labels = {"com.docker.compose.project": "site", "com.docker.compose.oneoff": "False"}
    if service is not None:
        labels |= {"com.docker.compose.service": service, "com.docker.compose.container-number": "1"}
    image = image or f"omero-stack/{service or name}:1.0"
    listed = {
        "Id": cid,
        "Names": [f"/{name}"],
        "Image": image,
        "ImageID": "sha256:" + "ab" * 32,
        "Command": "/entrypoint",
        "Created": 1714560000,
        "State": state,
        "Status": "Up 2 hours" if state == "running" else "Exited (137) 5 minutes ago",
        "Labels": labels,
    }
    st = {
        "Status": state,
        "Running": state == "running",
        "Paused": False,
        "Restarting": False,
        "OOMKilled": False,
        "Dead": False,
        "Pid": 4242 if state == "running" else 0,
        "ExitCode": exit_code,
        "Error": "",
        "StartedAt": started,
        "FinishedAt": "0001-01-01T00:00:00Z",
    }
    if health is not None:
        st["Health"] = {"Status": health, "FailingStreak": 0, "Log": []}
    inspected = {
        "Id": cid,
        "Created": "2024-05-01T09:59:58.118212395Z",
        "Name": f"/{name}",
        "RestartCount": restarts,
        "State": st,
        "Config": {"Image": image, "Labels": labels},
    }
    return listed, inspected


CONTAINERS = [
    container("c01", "site-omeroserver-1", "running", "2024-05-01T12:00:00.123456789Z", service="omeroserver",
              health="healthy"),
    container("c02", "site-omeroweb-1", "running", "2024-05-01T12:05:00.5Z", service="omeroweb", health="unhealthy",
              restarts=1),
    container("c03", "site-database-1", "running", "2024-05-01T12:10:00Z", service="database", health="starting"),
    container("c04", "site-redis-1", "running", "2024-05-01T11:00:00.000000001Z", service="redis"),
    container("c05", "site-backup-1", "exited", "2024-05-01T10:00:00.25Z", service="backup", restarts=3,
              exit_code=137),
    container("c06", "site-init-1", "created", "0001-01-01T00:00:00Z", service="init"),
    container("c07", "site-worker-1", "running", "2024-05-01T09:00:00Z", service="worker", health="healthy",
              restarts=2),
    container("c08", "site-worker-2", "running", "2024-05-01T13:00:00.75Z", service="worker", health="starting",
              restarts=1),
    container("c09", "adhoc", "running", "2024-05-01T08:00:00Z", image=WEIRD),
]  # fmt: skip


class FakeDocker(socketserver.ThreadingUnixStreamServer):
    """The Docker Engine API on a Unix socket: list, inspect; ``mode`` makes it fail."""

    daemon_threads = True

    def __init__(self, path: str, containers=None) -> None:
        containers = CONTAINERS if containers is None else containers
        self.listing = [listed for listed, dummy in containers] + [{"Id": "c99-removed-since", "Labels": {}}]
        self.inspects = {inspected["Id"]: inspected for dummy, inspected in containers}
        self.requests: list[tuple[str, str]] = []
        self.mode = "ok"
        self.delay = 0.0
        self.in_flight = self.max_in_flight = 0
        self.counter_lock = threading.Lock()
        super().__init__(path, FakeDockerHandler)


class FakeDockerHandler(BaseHTTPRequestHandler):
    server: FakeDocker
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - http.server API
        srv = self.server
        srv.requests.append(("GET", self.path))
        with srv.counter_lock:
            srv.in_flight += 1
            srv.max_in_flight = max(srv.max_in_flight, srv.in_flight)
        try:
            time.sleep(srv.delay)
            answer = self.route(urllib.parse.urlsplit(self.path).path)
        finally:
            # Before the answer leaves: once the client has it, its next request may come
            # in on another thread before this one would get here.
            with srv.counter_lock:
                srv.in_flight -= 1
        self.answer(*answer)

    def route(self, path: str) -> tuple[int, bytes]:
        srv = self.server
        if srv.mode == "500":
            return 500, b'{"message":"internal error"}'
        if srv.mode == "badjson":
            return 200, b"<html>not json"
        if path == "/v1.41/containers/json":
            return 200, json.dumps(srv.listing).encode()
        m = re.fullmatch(r"/v1\.41/containers/([^/]+)/json", path)
        if m and m[1] in srv.inspects:
            return 200, json.dumps(srv.inspects[m[1]]).encode()
        return 404, json.dumps({"message": f"No such container: {path}"}).encode()

    def answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - http.server API
        pass


@pytest.fixture
def docker(tmp_path):
    server = FakeDocker(str(tmp_path / "docker.sock"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def config_for(socket_path, services=EXPECTED, project="site", timeout=5):
    return cse.load_config({
        "CONTAINER_STATE_PROJECT": project,
        "CONTAINER_STATE_SERVICES": services,
        "CONTAINER_STATE_DOCKER_HOST": f"unix://{socket_path}",
        "CONTAINER_STATE_TIMEOUT": str(timeout),
    })  # fmt: skip


def svc(name):
    return (("service", name),)


def expected_samples(errors_total=0) -> dict:
    health = {"omeroserver": "healthy", "omeroweb": "unhealthy", "database": "starting", "redis": "none",
              "backup": "none", "init": "none", "worker": "starting", "gone": "none", "adhoc": "none"}  # fmt: skip
    up = {"omeroserver": 1, "omeroweb": 1, "database": 1, "redis": 1, "backup": 0, "init": 0, "worker": 1,
          "gone": 0, "adhoc": 1}  # fmt: skip
    restarts = {"omeroserver": 0, "omeroweb": 1, "database": 0, "redis": 0, "backup": 3, "init": 0, "worker": 3,
                "adhoc": 0}  # fmt: skip
    started = {
        "omeroserver": unix_time("2024-05-01 12:00:00", 123456789),
        "omeroweb": unix_time("2024-05-01 12:05:00", 500000000),
        "database": unix_time("2024-05-01 12:10:00"),
        "redis": unix_time("2024-05-01 11:00:00", 1),
        "backup": unix_time("2024-05-01 10:00:00", 250000000),
        "worker": unix_time("2024-05-01 13:00:00", 750000000),  # the latest of the two
        "adhoc": unix_time("2024-05-01 08:00:00"),
    }
    info = [
        ("omeroserver", "site-omeroserver-1", "running"),
        ("omeroweb", "site-omeroweb-1", "running"),
        ("database", "site-database-1", "running"),
        ("redis", "site-redis-1", "running"),
        ("backup", "site-backup-1", "exited"),
        ("init", "site-init-1", "created"),
        ("worker", "site-worker-1", "running"),
        ("worker", "site-worker-2", "running"),
    ]
    p = "omero_stack_container"
    samples = {(f"{p}_state_up", ()): 1, (f"{p}_state_errors_total", ()): errors_total}
    samples |= {(f"{p}_up", svc(s)): v for s, v in up.items()}
    samples |= {
        (f"{p}_health_status", (("service", s), ("status", st))): int(st == h)
        for s, h in health.items()
        for st in ("healthy", "unhealthy", "starting", "none")
    }
    samples |= {(f"{p}_restart_count", svc(s)): v for s, v in restarts.items()}
    samples |= {(f"{p}_start_time_seconds", svc(s)): v for s, v in started.items()}
    samples |= {(f"{p}_exit_code", svc("backup")): 137, (f"{p}_exit_code", svc("init")): 0}
    samples |= {
        (f"{p}_info", (("service", s), ("container", c), ("image", f"omero-stack/{s}:1.0"), ("state", st))): 1
        for s, c, st in info
    }
    samples[(f"{p}_info", (("service", "adhoc"), ("container", "adhoc"), ("image", WEIRD), ("state", "running")))] = 1
    return samples


def test_scrape_renders_exact_samples(docker):
    exporter = cse.Exporter(config_for(docker.server_address))
    assert parse(exporter.scrape()) == expected_samples()


def test_scrape_text_format(docker):
    text = cse.Exporter(config_for(docker.server_address)).scrape()
    assert text.startswith(
        "# HELP omero_stack_container_state_up 1 when the Docker API answered this scrape, else 0.\n"
        "# TYPE omero_stack_container_state_up gauge\n"
        "omero_stack_container_state_up 1\n"
    )
    assert '\nomero_stack_container_start_time_seconds{service="omeroserver"} 1714564800.1234567\n' in text
    assert '\nomero_stack_container_health_status{service="gone",status="none"} 1\n' in text
    assert '\nomero_stack_container_up{service="gone"} 0\n' in text
    assert '{service="gone"}' not in text.split("omero_stack_container_restart_count", 1)[1]  # no container
    assert 'image="registry.example/we\\"ird\\\\image\\nx"' in text


def test_requests_sent_are_gets_with_the_project_filter(docker):
    cse.Exporter(config_for(docker.server_address, project="my-site_2")).scrape()
    method, first = docker.requests[0]
    url = urllib.parse.urlsplit(first)
    assert (method, url.path) == ("GET", "/v1.41/containers/json")
    query = urllib.parse.parse_qs(url.query, strict_parsing=True)
    assert query["all"] == ["1"]
    assert json.loads(query["filters"][0]) == {"label": ["com.docker.compose.project=my-site_2"]}
    inspected = [path for dummy, path in docker.requests[1:]]
    assert inspected == [f"/v1.41/containers/{c['Id']}/json" for c in docker.listing]


def test_no_container_and_no_expected_service(docker):
    docker.listing = []
    samples = parse(cse.Exporter(config_for(docker.server_address, services="")).scrape())
    assert samples == {("omero_stack_container_state_up", ()): 1, ("omero_stack_container_state_errors_total", ()): 0}


@pytest.mark.parametrize("mode", ["missing socket", "500", "badjson", "not a list"])
def test_api_failure_serves_only_state_up_0_and_counts(docker, tmp_path, mode, capsys):
    socket_path = tmp_path / "missing.sock" if mode == "missing socket" else docker.server_address
    if mode == "not a list":
        docker.listing = {"message": "page not found"}
    else:
        docker.mode = mode
    exporter = cse.Exporter(config_for(socket_path))
    for count in (1, 2):
        assert parse(exporter.scrape()) == {
            ("omero_stack_container_state_up", ()): 0,
            ("omero_stack_container_state_errors_total", ()): count,
        }
    err = capsys.readouterr().err
    assert err.count("container-state-exporter: collection failed: ") == 2
    reason = {"missing socket": "FileNotFoundError", "500": "answered 500", "badjson": "invalid JSON",
              "not a list": "not a JSON array"}[mode]  # fmt: skip
    assert reason in err
    docker.mode, docker.listing = "ok", [c for c, dummy in CONTAINERS]
    if mode != "missing socket":  # recovers; the counter stays
        assert parse(exporter.scrape()) == expected_samples(errors_total=2)


def test_api_timeout(docker, capsys):
    docker.delay = 1.5
    exporter = cse.Exporter(config_for(docker.server_address, timeout=1))
    assert "omero_stack_container_state_up 0\n" in exporter.scrape()
    assert "timed out" in capsys.readouterr().err


def test_concurrent_scrapes_collect_one_at_a_time(docker):
    docker.delay = 0.05
    exporter = cse.Exporter(config_for(docker.server_address))
    results = []
    threads = [threading.Thread(target=lambda: results.append(exporter.scrape())) for dummy in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [parse(r) for r in results] == [expected_samples()] * 2
    assert sum(1 for dummy, path in docker.requests if path.startswith("/v1.41/containers/json?")) == 2
    assert docker.max_in_flight == 1


def test_parse_time():
    assert cse.parse_time("2024-05-01T12:00:00.123456789Z") == unix_time("2024-05-01 12:00:00", 123456789)
    assert cse.parse_time("2024-05-01T12:00:00Z") == 1714564800
    assert cse.parse_time("2024-05-01T14:00:00.5+02:00") == 1714564800.5
    assert cse.parse_time("0001-01-01T00:00:00Z") is None
    assert cse.parse_time("") is None
    with pytest.raises(ValueError, match="bad timestamp"):
        cse.parse_time("yesterday")


def test_label_escaping():
    assert cse.escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert cse.escape_help("x\\y\nz") == "x\\\\y\\nz"
    assert cse.labels(service='s"', status="none") == '{service="s\\"",status="none"}'


def test_worst_health_of_a_scaled_service():
    def c(health, state="running"):
        return cse.Container("s", "n", "i", state, health, 0, None, 0)

    assert cse.Service("s", [c("healthy"), c("unhealthy"), c("starting")]).health == "unhealthy"
    assert cse.Service("s", [c("none"), c("healthy")]).health == "healthy"
    assert cse.Service("s", []).health == "none"
    assert cse.Service("s", [c("none", "exited"), c("none", "running")]).exit_code is None


@pytest.fixture
def serve():
    servers = []

    def start(config):
        server = cse.make_server(cse.Exporter(config), 0, "127.0.0.1")
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_http_server_and_check(docker, serve, tmp_path, capsys):
    port = serve(config_for(docker.server_address))
    status, ctype, body = get(port, "/metrics")
    assert (status, ctype) == (200, "text/plain; version=0.0.4; charset=utf-8")
    assert parse(body) == expected_samples()
    for path in ("/", "/other", "/metrics/x"):
        assert get(port, path)[0] == 404
    assert cse.check(port) == 0
    down = serve(config_for(tmp_path / "missing.sock"))
    assert get(down, "/metrics")[0] == 200
    assert cse.check(down) == 1
    assert "unhealthy: the Docker API does not answer" in capsys.readouterr().out


def test_check_fails_without_server(capsys):
    assert cse.check(free_port(), timeout=2) == 1
    assert "unhealthy" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "CONTAINER_STATE_PROJECT"),
        ({"CONTAINER_STATE_PROJECT": "My Site"}, "CONTAINER_STATE_PROJECT"),
        ({"CONTAINER_STATE_SERVICES": "web,bad name"}, "CONTAINER_STATE_SERVICES"),
        ({"CONTAINER_STATE_PORT": "http"}, "CONTAINER_STATE_PORT"),
        ({"CONTAINER_STATE_PORT": "65536"}, "CONTAINER_STATE_PORT"),
        ({"CONTAINER_STATE_DOCKER_HOST": "tcp://127.0.0.1:2375"}, "CONTAINER_STATE_DOCKER_HOST"),
        ({"CONTAINER_STATE_DOCKER_HOST": "unix://docker.sock"}, "CONTAINER_STATE_DOCKER_HOST"),
        ({"CONTAINER_STATE_TIMEOUT": "0"}, "CONTAINER_STATE_TIMEOUT"),
        ({"CONTAINER_STATE_TIMEOUT": "5s"}, "CONTAINER_STATE_TIMEOUT"),
    ],
)
def test_bad_environment_exits_2(env, variable, capsys):
    env = {"CONTAINER_STATE_PROJECT": "site", **env} if variable != "CONTAINER_STATE_PROJECT" else env
    assert cse.main([], env) == 2
    assert cse.main(["--check"], env) == 2
    assert f"configuration error: {variable} " in capsys.readouterr().err


def test_config_defaults_and_values(capsys):
    assert cse.load_config({"CONTAINER_STATE_PROJECT": "site"}) == cse.Config(
        project="site", services=(), port=9112, socket_path="/var/run/docker.sock", timeout=5
    )
    assert cse.load_config({
        "CONTAINER_STATE_PROJECT": "site", "CONTAINER_STATE_SERVICES": " web , omeroserver,,",
        "CONTAINER_STATE_PORT": "8000", "CONTAINER_STATE_DOCKER_HOST": "unix:///run/d.sock",
        "CONTAINER_STATE_TIMEOUT": "2",
    }) == cse.Config("site", ("web", "omeroserver"), 8000, "/run/d.sock", 2)  # fmt: skip
    assert cse.main(["--bogus"], {}) == 2
    assert cse.main(["--help"], {}) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: container-state-exporter [--check | --help]\n")
    assert "cAdvisor" in out and "CONTAINER_STATE_TIMEOUT" in out


def test_program_end_to_end(docker):
    """The script itself: serves, answers --check, stops on SIGTERM with status 0."""
    port = free_port()
    env = {
        **os.environ,
        "CONTAINER_STATE_PROJECT": "site",
        "CONTAINER_STATE_SERVICES": EXPECTED,
        "CONTAINER_STATE_PORT": str(port),
        "CONTAINER_STATE_DOCKER_HOST": f"unix://{docker.server_address}",
    }
    proc = subprocess.Popen([sys.executable, str(PROGRAM)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        body = ""
        while time.monotonic() < deadline:
            try:
                body = get(port, "/metrics")[2]
                break
            except OSError:
                time.sleep(0.1)
        assert parse(body) == expected_samples()
        check = subprocess.run([sys.executable, str(PROGRAM), "--check"], env=env, check=False, timeout=20)
        assert check.returncode == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert f"serving /metrics on port {port}; project site" in proc.stderr.read()
    check = subprocess.run([sys.executable, str(PROGRAM), "--check"], env=env, check=False, timeout=20)
    assert check.returncode == 1


def docker_engine_answers(path="/var/run/docker.sock") -> bool:
    conn = cse.UnixHTTPConnection(path, 2)
    try:
        conn.request("GET", "/_ping")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


@pytest.mark.skipif(not docker_engine_answers(), reason="no Docker engine answers on /var/run/docker.sock")
def test_real_docker_engine_with_a_project_of_no_container():
    """Read-only against the real engine: the filter matches nothing, the API answers."""
    project = f"no-such-project-{os.getpid()}-{time.monotonic_ns()}"
    config = config_for("/var/run/docker.sock", services="web,db", project=project)
    samples = parse(cse.Exporter(config).scrape())
    p = "omero_stack_container"
    assert samples == {
        (f"{p}_state_up", ()): 1,
        (f"{p}_state_errors_total", ()): 0,
        (f"{p}_up", svc("db")): 0,
        (f"{p}_up", svc("web")): 0,
        **{
            (f"{p}_health_status", (("service", s), ("status", st))): int(st == "none")
            for s in ("db", "web")
            for st in ("healthy", "unhealthy", "starting", "none")
        },
    }
