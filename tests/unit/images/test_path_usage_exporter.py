"""The path-usage exporter (files/images/path-usage-exporter/path_usage_exporter.py).

Imported by path (it is installed as a script, not a module). Scans real temporary
trees, parses the exposition text back, and serves it over a real socket.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.helpers.exposition import free_port, get, load_program, parse

PROGRAM = Path(__file__).resolve().parents[3] / "files" / "images" / "path-usage-exporter" / "path_usage_exporter.py"
WEIRD = 'we"ird\\name\nline'


pue = load_program(PROGRAM, "path_usage_exporter")


def allocated(*paths: Path) -> int:
    return sum(p.lstat().st_blocks * 512 for p in paths)


@pytest.fixture
def tree(tmp_path):
    """ROOT with paths a (files, nested dirs, hard link, symlinks, a loop), b (sparse file),
    an empty one, and a weirdly named one; plus entries of ROOT that are not paths."""
    root = tmp_path / "root"
    a = root / "a"
    (a / "sub" / "deep").mkdir(parents=True)
    (a / "one").write_bytes(b"1" * 1000)
    (a / "sub" / "two").write_bytes(b"2" * 5000)
    (a / "sub" / "deep" / "three").write_bytes(b"")
    os.link(a / "one", a / "sub" / "hard-one")  # counted once
    (a / "sub" / "loop").symlink_to("..")  # never followed
    (a / "passwd").symlink_to("/etc/passwd")  # not a regular file
    os.mkfifo(a / "fifo")
    b = root / "b"
    b.mkdir()
    with open(b / "sparse", "wb") as f:
        f.truncate(10 * 1024 * 1024)
    (root / "empty").mkdir()
    (root / WEIRD).mkdir()
    (root / WEIRD / "f").write_bytes(b"x" * 3)
    (root / "file-at-root").write_text("not a path\n")
    (root / "link-to-a").symlink_to("a")
    return root


def test_scan_path_counts_regular_files_once_and_follows_no_symlink(tree):
    a = tree / "a"
    usage = pue.scan_path(str(a), "a")
    assert usage.path == "a"
    assert usage.files == 3
    assert usage.apparent_bytes == 6000
    assert usage.usage_bytes == allocated(a / "one", a / "sub" / "two", a / "sub" / "deep" / "three")
    assert usage.usage_bytes >= 6000 - 4096  # really allocated (not zero)
    assert usage.errors == 0
    vfs = os.statvfs(a)
    assert usage.filesystem["size"] == vfs.f_frsize * vfs.f_blocks > 0
    assert 0 <= usage.filesystem["avail"] <= usage.filesystem["free"] <= usage.filesystem["size"]


def test_scan_path_sparse_file(tree):
    usage = pue.scan_path(str(tree / "b"), "b")
    assert usage.files == 1
    assert usage.apparent_bytes == 10 * 1024 * 1024
    assert usage.usage_bytes == allocated(tree / "b" / "sparse") < 10 * 1024 * 1024


def test_list_paths_only_direct_subdirectories(tree):
    assert pue.list_paths(str(tree)) == sorted(["a", "b", "empty", WEIRD])


def test_unreadable_entries_are_counted_not_fatal(tree, monkeypatch, capsys):
    """Simulated (works as root too): listing a/sub and statting a/one fail."""
    real_scandir = os.scandir
    denied = str(tree / "a" / "sub")

    class Entry:
        def __init__(self, entry):
            self._entry, self.name, self.path = entry, entry.name, entry.path

        def is_dir(self, follow_symlinks=True):
            return self._entry.is_dir(follow_symlinks=follow_symlinks)

        def is_file(self, follow_symlinks=True):
            return self._entry.is_file(follow_symlinks=follow_symlinks)

        def stat(self, follow_symlinks=True):
            if self.name == "one":
                raise PermissionError(errno.EACCES, "Permission denied", self.path)
            return self._entry.stat(follow_symlinks=follow_symlinks)

    class Listing:
        def __init__(self, path):
            if str(path) == denied:
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            self._it = real_scandir(path)

        def __enter__(self):
            return (Entry(e) for e in self._it)

        def __exit__(self, *exc):
            self._it.close()

    monkeypatch.setattr(pue.os, "scandir", Listing)
    state = pue.State()
    pue.scan_root(str(tree), state)
    pue.scan_root(str(tree), state)
    a = next(p for p in state.paths if p.path == "a")
    assert (a.files, a.apparent_bytes, a.errors) == (0, 0, 2)
    assert state.errors_total["a"] == 4  # a counter: two scans
    assert state.errors_total["b"] == 0
    err = capsys.readouterr().err
    assert err.count("path 'a': 2 unreadable entries (first: [Errno 13] Permission denied") == 2
    samples = parse(pue.render(state))
    assert samples[("omero_stack_path_usage_errors_total", (("path", "a"),))] == 4
    assert samples[("omero_stack_path_usage_scans_total", ())] == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a mode-0 directory anyway (simulated test above)")
def test_unreadable_directory_for_real(tree):
    locked = tree / "a" / "sub"
    locked.chmod(0)
    try:
        usage = pue.scan_path(str(tree / "a"), "a")
    finally:
        locked.chmod(0o755)
    assert (usage.files, usage.apparent_bytes, usage.errors) == (1, 1000, 1)


def test_render_before_first_scan():
    assert pue.render(pue.State()) == (
        "# HELP omero_stack_path_usage_scans_total Scans of the data directories completed.\n"
        "# TYPE omero_stack_path_usage_scans_total counter\n"
        "omero_stack_path_usage_scans_total 0\n"
    )


def test_render_after_scan_parses_back(tree):
    state = pue.State()
    before = time.time()
    pue.scan_root(str(tree), state)
    samples = parse(pue.render(state))

    def value(metric, path=None):
        return samples[(f"omero_stack_path_{metric}", (("path", path),) if path is not None else ())]

    assert value("usage_scans_total") == 1
    assert value("files", "a") == 3
    assert value("apparent_bytes", "a") == 6000
    assert value("usage_bytes", "a") == allocated(tree / "a" / "one", tree / "a" / "sub" / "two")
    assert value("apparent_bytes", "b") == 10 * 1024 * 1024
    assert value("files", "empty") == 0 and value("usage_bytes", "empty") == 0
    assert value("files", WEIRD) == 1 and value("apparent_bytes", WEIRD) == 3  # escaped, parsed back
    assert value("filesystem_size_bytes", "a") > 0
    assert value("filesystem_avail_bytes", "b") <= value("filesystem_free_bytes", "b")
    assert value("usage_errors_total", "a") == 0
    assert 0 <= value("usage_scan_seconds") < 30
    assert before <= value("usage_last_success_timestamp_seconds") <= time.time()
    labels = {dict(k[1]).get("path") for k in samples if k[1]}
    assert labels == {"a", "b", "empty", WEIRD}


def test_label_escaping():
    assert pue.escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert pue.escape_help("x\\y\nz") == "x\\\\y\\nz"
    assert pue.label_text(os.fsdecode(b"bad\xff")) == "bad\ufffd"


def test_scanner_thread_survives_a_vanished_root(tmp_path, capsys):
    (tmp_path / "p").mkdir()
    state, stop = pue.State(), threading.Event()
    thread = threading.Thread(target=pue.scanner, args=(str(tmp_path), 0.05, state, stop), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while state.scans < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert state.scans >= 2
    (tmp_path / "p").rmdir()
    tmp_path.rename(tmp_path.with_name(tmp_path.name + "-gone"))
    time.sleep(0.3)
    assert thread.is_alive()
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert "scan of" in capsys.readouterr().err


@pytest.fixture
def served(tree):
    state = pue.State()
    pue.scan_root(str(tree), state)
    server = pue.make_server(state, 0, "127.0.0.1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_server(served):
    status, ctype, body = get(served, "/metrics")
    assert status == 200
    assert ctype == "text/plain; version=0.0.4; charset=utf-8"
    assert parse(body)[("omero_stack_path_files", (("path", "a"),))] == 3
    assert get(served, "/metrics?x=1")[0] == 200
    for path in ("/", "/other", "/metrics/x"):
        assert get(served, path)[0] == 404
    assert pue.check(served) == 0


def test_check_fails_without_server(capsys):
    assert pue.check(free_port(), timeout=2) == 1
    assert "unhealthy" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PATH_USAGE_PORT": "http"}, "PATH_USAGE_PORT"),
        ({"PATH_USAGE_PORT": "0"}, "PATH_USAGE_PORT"),
        ({"PATH_USAGE_PORT": "65536"}, "PATH_USAGE_PORT"),
        ({"PATH_USAGE_INTERVAL": "5m"}, "PATH_USAGE_INTERVAL"),
        ({"PATH_USAGE_INTERVAL": "0"}, "PATH_USAGE_INTERVAL"),
        ({"PATH_USAGE_ROOT": "relative/dir"}, "PATH_USAGE_ROOT"),
        ({"PATH_USAGE_ROOT": "/no/such/dir"}, "PATH_USAGE_ROOT"),
    ],
)
def test_bad_environment_exits_2(env, variable, capsys):
    assert pue.main([], env) == 2
    err = capsys.readouterr().err
    assert f"configuration error: {variable} " in err


def test_config_defaults_and_values():
    assert pue.load_config({}) == pue.Config(root="/data", port=9110, interval=300)
    assert pue.load_config({"PATH_USAGE_ROOT": "/x", "PATH_USAGE_PORT": "8000", "PATH_USAGE_INTERVAL": "60"}) == (
        pue.Config(root="/x", port=8000, interval=60)
    )
    assert pue.main(["--bogus"], {}) == 2


def test_program_end_to_end(tree):
    """The script itself: serves, answers --check, stops on SIGTERM with status 0."""
    port = free_port()
    env = {**os.environ, "PATH_USAGE_ROOT": str(tree), "PATH_USAGE_PORT": str(port), "PATH_USAGE_INTERVAL": "1"}
    proc = subprocess.Popen([sys.executable, str(PROGRAM)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        samples = {}
        while time.monotonic() < deadline:
            try:
                samples = parse(get(port, "/metrics")[2])
                if samples.get(("omero_stack_path_usage_scans_total", ()), 0) >= 2:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        assert samples[("omero_stack_path_usage_scans_total", ())] >= 2
        assert samples[("omero_stack_path_apparent_bytes", (("path", "a"),))] == 6000
        check = subprocess.run([sys.executable, str(PROGRAM), "--check"], env=env, check=False, timeout=10)
        assert check.returncode == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert f"serving /metrics on port {port}" in proc.stderr.read()
    check = subprocess.run([sys.executable, str(PROGRAM), "--check"], env=env, check=False, timeout=10)
    assert check.returncode == 1
