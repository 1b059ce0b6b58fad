#!/usr/bin/env python
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""container-state-exporter: Prometheus exporter of the state of the site's Docker containers.

Why our own: no official or Debian-packaged exporter reports Docker's per-container
health status and restart count; cAdvisor needs a privileged container and reports
neither health nor restarts. This one reads the Docker Engine API (GET requests only)
over the Unix socket, mounted read-only.

Installed as /usr/local/bin/container-state-exporter in the container-state-exporter
image (runs as root to read the socket). Standard library only.

Environment:
  CONTAINER_STATE_PROJECT      compose project whose containers are reported (label
                               com.docker.compose.project); required
  CONTAINER_STATE_SERVICES     comma-separated services expected to run (may be empty);
                               one without a container is reported as not up
  CONTAINER_STATE_PORT         TCP port of the HTTP server on 0.0.0.0 (default 9112)
  CONTAINER_STATE_DOCKER_HOST  Docker socket, unix:// only (default unix:///var/run/docker.sock)
  CONTAINER_STATE_TIMEOUT      seconds for one Docker API call (default 5)
A bad value exits 2 naming the variable.

Usage:
  container-state-exporter           serve GET /metrics (Prometheus text format 0.0.4;
                                     404 elsewhere), collecting at each scrape
  container-state-exporter --check   healthcheck: GET http://127.0.0.1:PORT/metrics, exit 0
                                     on HTTP 200 with omero_stack_container_state_up 1, else 1
  container-state-exporter --help    print this text

A scrape lists the project's containers (GET /v1.41/containers/json, API of Docker
20.10+) and inspects each one; scrapes run one at a time. Samples are per compose
service (label com.docker.compose.service, else the container name); several
containers of a service are aggregated: up if any runs, restart counts summed, the
worst health (unhealthy > starting > healthy > none), the latest start time, the
highest exit code when none runs. When the API fails only
omero_stack_container_state_up 0 and the error counter are served (an unreachable
socket must not look like every service down) and the reason is logged.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import re
import signal
import socket
import sys
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROG = "container-state-exporter"
PREFIX = "omero_stack_container"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
API = "/v1.41"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
HEALTH_STATUSES = ("healthy", "unhealthy", "starting", "none")
HEALTH_RANK = {"none": 0, "healthy": 1, "starting": 2, "unhealthy": 3}  # worst wins
ZERO_TIME = "0001-01-01T00:00:00Z"  # Docker's StartedAt of a container never started
TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")
PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
SERVICE_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


class ConfigError(Exception):
    """A bad setting: the message names the environment variable."""


class ApiError(Exception):
    """The Docker API did not answer as expected."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Config:
    project: str
    services: tuple[str, ...] = ()
    port: int = 9112
    socket_path: str = "/var/run/docker.sock"
    timeout: int = 5


def log(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def _int_env(environ, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = environ.get(name, "")
    if raw.strip() == "":
        return default
    try:
        value = int(raw.strip(), 10)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def load_config(environ=None) -> Config:
    """Read and validate CONTAINER_STATE_* (raises ConfigError naming the variable)."""
    environ = os.environ if environ is None else environ
    project = environ.get("CONTAINER_STATE_PROJECT", "").strip()
    if not PROJECT_NAME.fullmatch(project):
        raise ConfigError(f"CONTAINER_STATE_PROJECT must be a compose project name, got {project!r}")
    services = tuple(s.strip() for s in environ.get("CONTAINER_STATE_SERVICES", "").split(",") if s.strip())
    for service in services:
        if not SERVICE_NAME.fullmatch(service):
            raise ConfigError(f"CONTAINER_STATE_SERVICES holds a bad service name {service!r}")
    host = environ.get("CONTAINER_STATE_DOCKER_HOST", "") or "unix:///var/run/docker.sock"
    if not host.startswith("unix:///"):
        raise ConfigError(f"CONTAINER_STATE_DOCKER_HOST must be unix:///absolute/path, got {host!r}")
    port = _int_env(environ, "CONTAINER_STATE_PORT", Config.port, 1, 65535)
    timeout = _int_env(environ, "CONTAINER_STATE_TIMEOUT", Config.timeout, 1, 300)
    return Config(project, services, port, host.removeprefix("unix://"), timeout)


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over an AF_UNIX stream socket (the Docker Engine API)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def api_get(socket_path: str, path: str, timeout: float):
    """GET ``path`` from the Docker API; the decoded JSON body (ApiError unless HTTP 200)."""
    conn = UnixHTTPConnection(socket_path, timeout)
    try:
        conn.request("GET", API + path)
        resp = conn.getresponse()
        body = resp.read()
    except (OSError, http.client.HTTPException) as exc:
        raise ApiError(f"GET {API}{path} on {socket_path}: {exc!r}") from None
    finally:
        conn.close()
    if resp.status != 200:
        raise ApiError(f"GET {API}{path} answered {resp.status}: {body[:200]!r}", resp.status)
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ApiError(f"GET {API}{path}: invalid JSON: {exc}") from None


def parse_time(value: str) -> float | None:
    """Docker's RFC 3339 timestamp (nanoseconds, Z) as Unix time; None for the zero time."""
    m = TIMESTAMP.fullmatch(value or ZERO_TIME)
    if not m:
        raise ValueError(f"bad timestamp {value!r}")
    if value == ZERO_TIME or m[1].startswith("0001-"):
        return None
    offset = "+00:00" if m[3] == "Z" else m[3]
    seconds = int(datetime.datetime.fromisoformat(m[1] + offset).timestamp())
    return seconds + int((m[2] or "0").ljust(9, "0")) / 1e9


@dataclass
class Container:
    service: str
    name: str
    image: str
    state: str  # State.Status: running, exited, restarting, created, paused, dead
    health: str  # one of HEALTH_STATUSES
    restart_count: int
    started: float | None  # Unix time, None when never started
    exit_code: int

    @property
    def running(self) -> bool:
        return self.state == "running"


def container_from(listed: dict, inspected: dict) -> Container:
    state = inspected["State"]
    name = inspected.get("Name", "").lstrip("/") or listed["Id"][:12]
    health = (state.get("Health") or {}).get("Status", "none")
    return Container(
        service=(listed.get("Labels") or {}).get(SERVICE_LABEL) or name,
        name=name,
        image=str(listed.get("Image", "")),
        state=str(state.get("Status", "")),
        health=health if health in HEALTH_RANK else "none",
        restart_count=int(inspected.get("RestartCount", 0)),
        started=parse_time(state.get("StartedAt", "")),
        exit_code=int(state.get("ExitCode", 0)),
    )


def collect(config: Config) -> list[Container]:
    """The project's containers, listed then inspected (raises ApiError, ValueError...)."""
    filters = json.dumps({"label": [f"{PROJECT_LABEL}={config.project}"]})
    listing = api_get(config.socket_path, f"/containers/json?all=1&filters={urllib.parse.quote(filters)}",
                      config.timeout)  # fmt: skip
    if not isinstance(listing, list):
        raise ApiError(f"container list is not a JSON array: {type(listing).__name__}")
    containers = []
    for listed in listing:
        try:
            inspected = api_get(config.socket_path, f"/containers/{urllib.parse.quote(listed['Id'])}/json",
                                config.timeout)  # fmt: skip
        except ApiError as exc:
            if exc.status == 404:
                continue  # removed since the listing
            raise
        containers.append(container_from(listed, inspected))
    return containers


@dataclass
class Service:
    """The containers of one compose service, aggregated."""

    name: str
    containers: list[Container] = field(default_factory=list)

    @property
    def up(self) -> int:
        return int(any(c.running for c in self.containers))

    @property
    def health(self) -> str:
        return max((c.health for c in self.containers), key=HEALTH_RANK.__getitem__, default="none")

    @property
    def start_time(self) -> float | None:
        return max((c.started for c in self.containers if c.started is not None), default=None)

    @property
    def exit_code(self) -> int | None:
        if not self.containers or self.up:
            return None
        return max(c.exit_code for c in self.containers)


def services_of(containers: list[Container], expected: tuple[str, ...]) -> list[Service]:
    by_name = {name: Service(name) for name in expected}
    for c in containers:
        by_name.setdefault(c.service, Service(c.service)).containers.append(c)
    return [by_name[name] for name in sorted(by_name)]


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def labels(**pairs: str) -> str:
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in pairs.items()) + "}"


def render(services: list[Service] | None, errors_total: int) -> str:
    """The metrics in Prometheus text exposition format 0.0.4 (``services`` None: API failed)."""
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {PREFIX}_{name} {escape_help(help_text)}")
        lines.append(f"# TYPE {PREFIX}_{name} {kind}")
        lines.extend(f"{PREFIX}_{name}{lbl} {format_value(value)}" for lbl, value in samples)

    family("state_up", "gauge", "1 when the Docker API answered this scrape, else 0.",
           [("", int(services is not None))])  # fmt: skip
    family("state_errors_total", "counter", "Collections from the Docker API that failed.", [("", errors_total)])
    if services is None:
        return "\n".join(lines) + "\n"
    svc = [(s, labels(service=s.name)) for s in services]
    family("up", "gauge", "1 when a container of the service is running, else 0 (also without a container).",
           [(lb, s.up) for s, lb in svc])  # fmt: skip
    health = [(labels(service=s.name, status=st), int(s.health == st)) for s in services for st in HEALTH_STATUSES]
    family("health_status", "gauge", "Docker health status of the service (worst of its containers), one-hot.", health)
    family("restart_count", "gauge", "Restarts by the restart policy (Docker RestartCount; reset on recreation).",
           [(lb, sum(c.restart_count for c in s.containers)) for s, lb in svc if s.containers])  # fmt: skip
    family("start_time_seconds", "gauge", "Unix time at which the service's latest container started.",
           [(lb, s.start_time) for s, lb in svc if s.start_time is not None])  # fmt: skip
    family("exit_code", "gauge", "Exit code of the service's containers when none is running (highest).",
           [(lb, s.exit_code) for s, lb in svc if s.exit_code is not None])  # fmt: skip
    family("info", "gauge", "One per container: its service, name, image and Docker state.",
           [(labels(service=s.name, container=c.name, image=c.image, state=c.state), 1)
            for s in services for c in s.containers])  # fmt: skip
    return "\n".join(lines) + "\n"


class Exporter:
    """Collects at each scrape, one scrape at a time."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.errors_total = 0

    def scrape(self) -> str:
        with self.lock:
            try:
                services = services_of(collect(self.config), self.config.services)
            except (ApiError, ValueError, LookupError, TypeError, AttributeError) as exc:
                self.errors_total += 1
                log(f"collection failed: {exc}")
                services = None
            return render(services, self.errors_total)


class MetricsHandler(BaseHTTPRequestHandler):
    server_version = PROG
    exporter: Exporter  # set by make_server

    def do_GET(self):  # noqa: N802 - http.server API
        if self.path.split("?", 1)[0] != "/metrics":
            self.send_error(404, "Not Found: only /metrics is served")
            return
        body = self.exporter.scrape().encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - http.server API
        pass  # no access log


def make_server(exporter: Exporter, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:  # noqa: S104 - a container
    handler = type("Handler", (MetricsHandler,), {"exporter": exporter})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def check(port: int, timeout: float = 10) -> int:
    """Healthcheck: 0 when GET /metrics on 127.0.0.1:port answers 200 with state_up 1, else 1."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        status, body = resp.status, resp.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        print(f"{PROG}: unhealthy: GET /metrics on port {port}: {exc}")
        return 1
    finally:
        conn.close()
    if status != 200:
        print(f"{PROG}: unhealthy: GET /metrics on port {port} answered {status}")
        return 1
    if f"{PREFIX}_state_up 1" not in body.splitlines():
        print(f"{PROG}: unhealthy: the Docker API does not answer (see the exporter's log)")
        return 1
    return 0


def main(argv=None, environ=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv in (["--help"], ["-h"]):
        print(f"usage: {PROG} [--check | --help]\n\n{__doc__}")
        return 0
    if argv not in ([], ["--check"]):
        print(f"usage: {PROG} [--check | --help]", file=sys.stderr)
        return 2
    try:
        config = load_config(environ)
    except ConfigError as exc:
        log(f"configuration error: {exc}")
        return 2
    if argv == ["--check"]:
        return check(config.port, config.timeout * 2)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = make_server(Exporter(config), config.port)
    log(f"serving /metrics on port {config.port}; project {config.project} via {config.socket_path}")
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
