#!/usr/bin/env python
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""path-usage-exporter: Prometheus exporter of the disk usage of the site's data directories.

Installed as /usr/local/bin/path-usage-exporter in the path-usage-exporter image (runs
as root, directories mounted read-only under PATH_USAGE_ROOT). Standard library only.

Environment:
  PATH_USAGE_ROOT      directory whose direct subdirectories are measured (default /data);
                       each one is a ``path`` label
  PATH_USAGE_PORT      TCP port of the HTTP server on 0.0.0.0 (default 9110)
  PATH_USAGE_INTERVAL  seconds between scans (default 300)
A bad value exits 2 naming the variable.

Usage:
  path-usage-exporter           scan every INTERVAL in a thread, serve GET /metrics
                                (Prometheus text format 0.0.4; 404 elsewhere)
  path-usage-exporter --check   healthcheck: GET http://127.0.0.1:PORT/metrics, exit 0 on
                                HTTP 200, else 1

A scan walks each path with os.scandir without following symlinks and counts regular
files (hard links once): allocated bytes (st_blocks * 512), apparent bytes (st_size) and
their number; statvfs gives the size, free and available bytes of the path's
filesystem. Unreadable entries are counted in omero_stack_path_usage_errors_total and
logged once per scan and path; they never stop a scan. Until the first scan ends only
omero_stack_path_usage_scans_total 0 is served.
"""

from __future__ import annotations

import http.client
import os
import signal
import stat
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROG = "path-usage-exporter"
PREFIX = "omero_stack_path"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ConfigError(Exception):
    """A bad setting: the message names the environment variable."""


@dataclass(frozen=True)
class Config:
    root: str = "/data"
    port: int = 9110
    interval: float = 300


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
    """Read and validate PATH_USAGE_* (raises ConfigError naming the variable)."""
    environ = os.environ if environ is None else environ
    root = environ.get("PATH_USAGE_ROOT", "") or Config.root
    if not os.path.isabs(root):
        raise ConfigError(f"PATH_USAGE_ROOT must be an absolute path, got {root!r}")
    port = _int_env(environ, "PATH_USAGE_PORT", Config.port, 1, 65535)
    interval = _int_env(environ, "PATH_USAGE_INTERVAL", int(Config.interval), 1, 366 * 86400)
    return Config(root=root, port=port, interval=interval)


@dataclass
class PathUsage:
    """Measures of one direct subdirectory of the root."""

    path: str
    usage_bytes: int = 0
    apparent_bytes: int = 0
    files: int = 0
    errors: int = 0
    first_error: str = ""
    filesystem: dict[str, int] = field(default_factory=dict)  # size, free, avail

    def error(self, exc: OSError) -> None:
        self.errors += 1
        if not self.first_error:
            self.first_error = str(exc)


def scan_path(path: str, label: str | None = None) -> PathUsage:
    """Walk ``path`` (no symlinks followed) and measure its regular files."""
    usage = PathUsage(path=label if label is not None else path)
    seen: set[tuple[int, int]] = set()  # (dev, inode) of files with several links
    stack = [path]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                            continue
                        if not entry.is_file(follow_symlinks=False):
                            continue  # symlinks, sockets, fifos, devices
                        st = entry.stat(follow_symlinks=False)
                    except OSError as exc:
                        usage.error(exc)
                        continue
                    if not stat.S_ISREG(st.st_mode):
                        continue
                    if st.st_nlink > 1:
                        key = (st.st_dev, st.st_ino)
                        if key in seen:
                            continue
                        seen.add(key)
                    usage.files += 1
                    usage.apparent_bytes += st.st_size
                    usage.usage_bytes += st.st_blocks * 512
        except OSError as exc:
            usage.error(exc)
    try:
        vfs = os.statvfs(path)
    except OSError as exc:
        usage.error(exc)
    else:
        usage.filesystem = {
            "size": vfs.f_frsize * vfs.f_blocks,
            "free": vfs.f_frsize * vfs.f_bfree,
            "avail": vfs.f_frsize * vfs.f_bavail,
        }
    return usage


def list_paths(root: str) -> list[str]:
    """Names of the direct subdirectories of ``root`` (symlinks excluded), sorted."""
    with os.scandir(root) as entries:
        return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))


def label_text(name: str) -> str:
    """A directory name as valid UTF-8 text (undecodable bytes become U+FFFD)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


class State:
    """What the HTTP handler serves; updated by the scanner thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scans = 0
        self.paths: list[PathUsage] = []
        self.errors_total: dict[str, int] = {}
        self.scan_seconds = 0.0
        self.last_success = 0.0

    def record(self, paths: list[PathUsage], seconds: float, finished: float) -> None:
        with self.lock:
            for p in paths:
                self.errors_total[p.path] = self.errors_total.get(p.path, 0) + p.errors
            self.paths = paths
            self.scan_seconds = seconds
            self.last_success = finished
            self.scans += 1


def scan_root(root: str, state: State, clock=time.time) -> list[PathUsage]:
    """One scan of every path under ``root``, recorded in ``state``; logs its errors."""
    started = time.monotonic()
    results = []
    for name in list_paths(root):
        usage = scan_path(os.path.join(root, name), label_text(name))
        if usage.errors:
            log(f"path {usage.path!r}: {usage.errors} unreadable entries (first: {usage.first_error})")
        results.append(usage)
    state.record(results, time.monotonic() - started, clock())
    return results


PATH_METRICS = [
    ("usage_bytes", "gauge", "Disk space allocated to the regular files under the path (st_blocks * 512).",
     lambda p: p.usage_bytes),
    ("apparent_bytes", "gauge", "Apparent size (st_size) of the regular files under the path.",
     lambda p: p.apparent_bytes),
    ("files", "gauge", "Number of regular files under the path (hard links counted once).", lambda p: p.files),
    ("filesystem_size_bytes", "gauge", "Size of the filesystem holding the path.",
     lambda p: p.filesystem.get("size")),
    ("filesystem_free_bytes", "gauge", "Free bytes of the filesystem holding the path.",
     lambda p: p.filesystem.get("free")),
    ("filesystem_avail_bytes", "gauge", "Bytes of the filesystem holding the path available to unprivileged users.",
     lambda p: p.filesystem.get("avail")),
]  # fmt: skip


def render(state: State) -> str:
    """The metrics in Prometheus text exposition format 0.0.4."""
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {escape_help(help_text)}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {format_value(value)}" for labels, value in samples)

    with state.lock:
        family(f"{PREFIX}_usage_scans_total", "counter", "Scans of the data directories completed.",
               [("", state.scans)])  # fmt: skip
        if state.scans == 0:
            return "\n".join(lines) + "\n"
        for suffix, kind, help_text, getter in PATH_METRICS:
            samples = [
                (f'{{path="{escape_label(p.path)}"}}', getter(p)) for p in state.paths if getter(p) is not None
            ]
            family(f"{PREFIX}_{suffix}", kind, help_text, samples)
        family(
            f"{PREFIX}_usage_errors_total", "counter", "Entries that could not be read while scanning the path.",
            [(f'{{path="{escape_label(p.path)}"}}', state.errors_total.get(p.path, 0)) for p in state.paths],
        )  # fmt: skip
        family(f"{PREFIX}_usage_scan_seconds", "gauge", "Duration of the last scan.", [("", state.scan_seconds)])
        family(f"{PREFIX}_usage_last_success_timestamp_seconds", "gauge",
               "Unix time at which the last scan completed.", [("", state.last_success)])  # fmt: skip
    return "\n".join(lines) + "\n"


class MetricsHandler(BaseHTTPRequestHandler):
    server_version = PROG
    state: State  # set by make_server

    def do_GET(self):  # noqa: N802 - http.server API
        if self.path.split("?", 1)[0] != "/metrics":
            self.send_error(404, "Not Found: only /metrics is served")
            return
        body = render(self.state).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - http.server API
        pass  # no access log


def make_server(state: State, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:  # noqa: S104 - a container
    handler = type("Handler", (MetricsHandler,), {"state": state})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def scanner(root: str, interval: float, state: State, stop: threading.Event) -> None:
    """Scan at once, then every ``interval`` seconds until ``stop`` is set; never raises."""
    while not stop.is_set():
        try:
            scan_root(root, state)
        except Exception as exc:  # noqa: BLE001 - keep serving; the stale timestamp tells
            log(f"scan of {root} failed: {exc}")
        stop.wait(interval)


def check(port: int, timeout: float = 5) -> int:
    """Healthcheck: 0 when GET /metrics on 127.0.0.1:port answers 200, else 1."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/metrics")
        status = conn.getresponse().status
    except OSError as exc:
        print(f"{PROG}: unhealthy: GET /metrics on port {port}: {exc}")
        return 1
    finally:
        conn.close()
    if status != 200:
        print(f"{PROG}: unhealthy: GET /metrics on port {port} answered {status}")
        return 1
    return 0


def main(argv=None, environ=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv not in ([], ["--check"]):
        print(f"usage: {PROG} [--check]", file=sys.stderr)
        return 2
    try:
        config = load_config(environ)
    except ConfigError as exc:
        log(f"configuration error: {exc}")
        return 2
    if argv == ["--check"]:
        return check(config.port)
    if not os.path.isdir(config.root):
        log(f"configuration error: PATH_USAGE_ROOT {config.root} is not a directory")
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    state = State()
    stop = threading.Event()
    server = make_server(state, config.port)
    threading.Thread(target=scanner, args=(config.root, config.interval, state, stop), daemon=True).start()
    log(f"serving /metrics on port {config.port}; scanning {config.root} every {config.interval}s")
    try:
        server.serve_forever()
    finally:
        stop.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
