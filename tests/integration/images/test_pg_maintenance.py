"""The pg-maintenance image (files/images/pg-maintenance) against a real PostgreSQL.

Builds the image on the local test image omero-stack-test/postgres:17 (tagged
omero-stack-test/pg-maintenance-unit:<hash of the directory and base>), starts a
PostgreSQL container on a network of its own, and runs pg-maintenance with a short
interval and a host directory mounted at /backups. The password reaches it as a file
(PGPASSWORD_FILE, the compose secret in production), never in its environment. Skipped
when no Docker engine
answers or the PostgreSQL test image is missing (tests/images/services/build.sh
postgres builds it).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.docker
CONTEXT = REPO_ROOT / "files" / "images" / "pg-maintenance"
PG_IMAGE = os.environ.get("OMERO_STACK_TEST_POSTGRES_IMAGE", "omero-stack-test/postgres:17")
DB, USER, PASSWORD = "omero", "omero", "unit-secret"
DUMP_NAME = re.compile(rf"^{DB}-\d{{8}}T\d{{6}}Z\.dump$")


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(scope="module")
def image() -> str:
    if shutil.which("docker") is None:
        pytest.skip("no docker client")
    try:
        info = docker("info", check=False, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.skip("docker info timed out")
    if info.returncode != 0:
        pytest.skip(f"no Docker engine answers (docker info: {info.stderr.strip()[:200]})")
    base = docker("image", "inspect", "-f", "{{.Id}}", PG_IMAGE, check=False)
    if base.returncode != 0:
        pytest.skip(f"{PG_IMAGE} is missing: run tests/images/services/build.sh postgres")
    digest = hashlib.sha256(base.stdout.strip().encode())
    for f in sorted(p for p in CONTEXT.rglob("*") if p.is_file()):
        digest.update(f"\n{f.relative_to(CONTEXT)} {f.stat().st_mode:o}\n".encode())
        digest.update(f.read_bytes())
    tag = f"omero-stack-test/pg-maintenance-unit:{digest.hexdigest()[:12]}"
    if docker("image", "inspect", tag, check=False).returncode != 0:
        proc = subprocess.run(
            ["docker", "build", "--pull=false", "-q", "--build-arg", f"BASE_IMAGE={PG_IMAGE}", "-t", tag, str(CONTEXT)],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
            check=False,
        )
        assert proc.returncode == 0, f"docker build failed:\n{proc.stdout}\n{proc.stderr}"
        # older builds of this test image (other hashes) are untagged
        repo = tag.split(":", 1)[0]
        for old in docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repo).stdout.split():
            if old != tag:
                docker("rmi", old, check=False)
    return tag


@pytest.fixture(scope="module")
def containers():
    """Names of containers to remove at the end of the module."""
    names: list[str] = []
    yield names
    for name in names:
        docker("rm", "-f", "-v", name, check=False)


@pytest.fixture(scope="module")
def server(image, containers):
    """A PostgreSQL server (network alias ``db``) holding table t with one row."""
    network = f"pgm-unit-{uuid.uuid4().hex[:8]}"
    docker("network", "create", network)
    name = f"{network}-db"
    containers.append(name)
    try:
        docker(
            "run", "-d", "--name", name, "--network", network, "--network-alias", "db",
            "-e", f"POSTGRES_USER={USER}", "-e", f"POSTGRES_PASSWORD={PASSWORD}", "-e", f"POSTGRES_DB={DB}",
            PG_IMAGE,
        )  # fmt: skip
        wait_for(
            lambda: docker("exec", name, "pg_isready", "-h", "127.0.0.1", "-U", USER, "-d", DB, check=False).returncode
            == 0,
            60,
            "PostgreSQL to accept TCP connections",
        )
        psql(name, "CREATE TABLE t (x text); INSERT INTO t VALUES ('unit-row-42');")
        yield {"network": network, "name": name, "image": image, "containers": containers}
    finally:
        for c in list(containers):
            docker("rm", "-f", "-v", c, check=False)
        containers.clear()
        docker("network", "rm", network, check=False)


def psql(container: str, sql: str) -> str:
    return docker(
        "exec", "-e", f"PGPASSWORD={PASSWORD}", container,
        "psql", "-h", "127.0.0.1", "-U", USER, "-d", DB, "-v", "ON_ERROR_STOP=1", "-tAc", sql,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def backups(tmp_path) -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the backup directory to uid 999")
    d = tmp_path / "backups"
    d.mkdir(mode=0o750)
    os.chown(d, 999, 999)
    d.chmod(0o750)
    return d


SECRET_TARGET = "/run/secrets/omero_db_password"  # noqa: S105 - a path, not a password


def secret_file(backups: Path, value: str = PASSWORD, name: str = "omero_db_password") -> Path:
    """The password file as site_config writes it: no newline, 0600, owned by uid 999."""
    f = backups.parent / "secrets" / name
    f.parent.mkdir(exist_ok=True)
    f.write_text(value)
    os.chown(f, 999, 999)
    f.chmod(0o600)
    return f


def run_maintenance(server, backups, *env: str, secret: Path | None = None, volumes: tuple = ()) -> str:
    """Start pg-maintenance (detached) against ``server``; ``env`` overrides the defaults.
    The password is a file mounted read-only at SECRET_TARGET (``secret``, by default
    the right password)."""
    name = f"{server['network']}-m{uuid.uuid4().hex[:6]}"
    server["containers"].append(name)
    secret = secret or secret_file(backups)
    env_args = []
    defaults = {
        "PGHOST": "db",
        "PGUSER": USER,
        "PGDATABASE": DB,
        "PGPASSWORD_FILE": SECRET_TARGET,
        "PG_MAINTENANCE_INTERVAL": "3",
        "PG_MAINTENANCE_KEEP": "2",
        "PG_MAINTENANCE_RETRY_DELAY": "1",
        "PG_MAINTENANCE_RETRIES": "2",
    }
    given = dict(e.split("=", 1) for e in env)
    for key, value in {**defaults, **given}.items():
        env_args += ["-e", f"{key}={value}"]
    docker(
        "run", "-d", "--name", name, "--network", server["network"],
        "-v", f"{backups}:/backups", "-v", f"{secret}:{SECRET_TARGET}:ro",
        *[arg for volume in volumes for arg in ("-v", volume)], *env_args, server["image"],
    )  # fmt: skip
    return name


def logs(name: str) -> str:
    proc = docker("logs", name)
    return proc.stdout + proc.stderr


def status(backups: Path) -> str:
    f = backups / ".pg-maintenance-status"
    return f.read_text().strip() if f.exists() else ""


def exit_code(name: str, timeout: float) -> int:
    def stopped():
        return docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "false"

    wait_for(stopped, timeout, f"{name} to exit")
    return int(docker("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip())


def test_dumps_keep_vacuum_status_and_stop(image, server, backups):
    # not ours: never touched; an old dump of the database: pruned as the oldest
    (backups / "notes.txt").write_text("keep me\n")
    (backups / "other-20200101T000000Z.dump").write_text("another database\n")
    (backups / f"{DB}-20200101T000000Z.dump").write_text("old dump\n")
    (backups / f"{DB}-20200101T000001Z.dump.partial").write_text("left by a killed run\n")
    name = run_maintenance(server, backups)

    wait_for(lambda: len(re.findall(r"dump /backups/\S+ \(\d+ bytes\) ok", logs(name))) >= 3, 45, "three dumps")
    wait_for(lambda: status(backups).startswith("ok "), 10, "status ok")
    text = logs(name)
    assert "vacuum analyze of omero ok" in text
    assert re.search(rf"pg-maintenance: dump /backups/{DB}-\d{{8}}T\d{{6}}Z\.dump \(\d+ bytes\) ok", text)

    dumps = sorted(p.name for p in backups.iterdir() if DUMP_NAME.match(p.name))
    assert len(dumps) == 2, (dumps, text)
    assert f"{DB}-20200101T000000Z.dump" not in dumps
    assert (backups / "notes.txt").read_text() == "keep me\n"
    assert (backups / "other-20200101T000000Z.dump").exists()
    assert not [p for p in backups.iterdir() if p.name.endswith(".partial")]
    assert f"removed stale /backups/{DB}-20200101T000001Z.dump.partial" in text
    assert oct(backups.joinpath(dumps[-1]).stat().st_mode & 0o777) == "0o640"

    fields = status(backups).split()
    assert fields[0] == "ok" and abs(int(fields[1]) - time.time()) < 60
    assert fields[2].startswith(f"/backups/{DB}-")

    health = docker("exec", name, "/usr/local/bin/pg-maintenance-healthcheck", check=False)
    assert health.returncode == 0, health.stdout + health.stderr

    # The password is in no environment: neither the container's (docker inspect) nor
    # its processes'; libpq reads it from a private pgpass file.
    assert PASSWORD not in docker("inspect", name).stdout
    environ = docker("exec", name, "sh", "-c", "cat /proc/[0-9]*/environ | tr '\\0' '\\n'").stdout
    assert PASSWORD not in environ and "PGPASSFILE=" in environ

    # the newest dump is a valid custom-format archive holding the row
    listing = docker(
        "run", "--rm", "--entrypoint", "pg_restore", "-v", f"{backups}:/b:ro", image, "--list", f"/b/{dumps[-1]}"
    ).stdout
    assert "TABLE DATA public t " in listing
    data = docker(
        "run", "--rm", "--entrypoint", "pg_restore", "-v", f"{backups}:/b:ro", image,
        "--data-only", "-f", "-", f"/b/{dumps[-1]}",
    ).stdout  # fmt: skip
    assert "unit-row-42" in data
    assert psql(server["name"], "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 't'") == "t"

    started = time.monotonic()
    docker("stop", "-t", "20", name)
    assert time.monotonic() - started < 5, "SIGTERM did not stop pg-maintenance promptly"
    assert exit_code(name, 5) == 0
    assert "SIGTERM: stopping" in logs(name)


def test_sigterm_during_dump_removes_the_partial_file(server, backups):
    # an open transaction holding an exclusive lock on t blocks pg_dump mid-dump
    locker = docker(
        "exec", "-d", "-e", f"PGPASSWORD={PASSWORD}", server["name"], "psql", "-h", "127.0.0.1", "-U", USER, "-d", DB,
        "-c", "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);",
    )  # fmt: skip
    assert locker.returncode == 0
    try:
        wait_for(
            lambda: psql(server["name"], "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted")
            != "0",
            10,
            "the lock",
        )
        name = run_maintenance(server, backups)
        wait_for(lambda: [p for p in backups.iterdir() if p.name.endswith(".dump.partial")], 20, "a .partial dump")
        time.sleep(1)  # pg_dump is now waiting for the lock
        started = time.monotonic()
        docker("stop", "-t", "20", name)
        assert time.monotonic() - started < 5
        assert exit_code(name, 5) == 0
        assert not [p.name for p in backups.iterdir() if p.name.startswith(f"{DB}-")]
        assert "removed unfinished /backups/omero-" in logs(name)
        assert status(backups) == "starting"
    finally:
        psql(server["name"], "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%'"
             " AND pid <> pg_backend_pid()")  # fmt: skip


def test_wrong_password_retries_then_exits_1(image, server, backups):
    name = run_maintenance(server, backups, "PG_MAINTENANCE_RETRIES=2", secret=secret_file(backups, "wrong"))
    assert exit_code(name, 40) == 1
    text = logs(name)
    assert text.count("pg_dump of omero failed") == 3, text
    assert "password authentication failed" in text
    assert "retry 2 of 2" in text
    assert "cycle failed 3 times in a row" in text
    fields = status(backups).split(" ", 2)
    assert fields[0] == "failed" and "pg_dump of omero failed" in fields[2]
    assert not [p.name for p in backups.iterdir() if p.name.startswith(f"{DB}-")]
    health = docker(
        "run", "--rm", "--entrypoint", "/usr/local/bin/pg-maintenance-healthcheck",
        "-v", f"{backups}:/backups:ro", image,
        check=False,
    )  # fmt: skip
    assert health.returncode == 1 and health.stdout.startswith("unhealthy: last cycle failed: pg_dump")


def test_password_with_pgpass_special_characters(server, backups):
    """A password holding ':' and '\\' (the pgpass file's separators) still works."""
    special = "p:a\\ss:w\\:rd"
    psql(server["name"], f"ALTER ROLE {USER} PASSWORD '{special}'")
    try:
        name = run_maintenance(server, backups, "PG_MAINTENANCE_INTERVAL=600", secret=secret_file(backups, special))
        wait_for(lambda: status(backups).startswith(("ok ", "failed ")), 30, "a first cycle")
        assert status(backups).startswith("ok "), logs(name)
    finally:
        docker("exec", server["name"], "psql", "-U", USER, "-d", DB, "-c", f"ALTER ROLE {USER} PASSWORD '{PASSWORD}'")


@pytest.mark.parametrize(
    ("env", "secret_value", "message"),
    [
        (("PGPASSWORD_FILE=/run/secrets/missing",), None,
         "PGPASSWORD_FILE /run/secrets/missing is not a readable file"),
        ((), "", "holds no password"),
        (("PGPASSWORD=also-given",), None, "set PGPASSWORD_FILE or PGPASSWORD, not both"),
    ],
)
def test_bad_password_file_exits_2(server, backups, env, secret_value, message):
    secret = secret_file(backups, secret_value) if secret_value is not None else None
    name = run_maintenance(server, backups, *env, secret=secret)
    assert exit_code(name, 20) == 2
    text = logs(name)
    assert "configuration error: " in text and message in text, text


def test_unreachable_server_fails(server, backups):
    name = run_maintenance(
        server, backups, "PGHOST=no-such-host", "PG_MAINTENANCE_READY_TIMEOUT=1", "PG_MAINTENANCE_RETRIES=0"
    )
    assert exit_code(name, 30) == 1
    assert "no-such-host:5432 not ready after 1s" in logs(name)
    assert status(backups).startswith("failed ")


def _metrics_dir(backups: Path) -> Path:
    """The host path ``metrics`` as site_layout makes it: pg-maintenance's uid, 0755."""
    d = backups.parent / "metrics"
    d.mkdir(mode=0o755)
    os.chown(d, 999, 999)
    d.chmod(0o755)
    return d


def _textfile(metrics: Path) -> dict[str, float]:
    """The samples of pg-maintenance.prom by metric name (one series each), checking the labels."""
    samples = {}
    for line in (metrics / "pg-maintenance.prom").read_text().splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r'(\w+)\{task="pg-maintenance",database="omero"\} (\d+)', line)
        assert match, line
        samples[match[1]] = float(match[2])
    return samples


def test_status_for_prometheus_in_the_textfile_collector_directory(server, backups):
    metrics = _metrics_dir(backups)
    name = run_maintenance(server, backups, "PG_MAINTENANCE_METRICS_DIR=/metrics", "PG_MAINTENANCE_INTERVAL=30",
                           volumes=(f"{metrics}:/metrics",))
    wait_for((metrics / "pg-maintenance.prom").exists, 45, "the textfile")
    done = _textfile(metrics)
    assert done["omero_stack_maintenance_last_run_ok"] == 1
    assert done["omero_stack_maintenance_interval_seconds"] == 30
    assert abs(done["omero_stack_maintenance_last_success_timestamp_seconds"] - time.time()) < 60
    assert done["omero_stack_maintenance_last_run_timestamp_seconds"] >= done[
        "omero_stack_maintenance_last_success_timestamp_seconds"]
    assert done["omero_stack_maintenance_last_dump_bytes"] > 0
    # node-exporter (nobody) reads it; no temporary file is left
    assert oct((metrics / "pg-maintenance.prom").stat().st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in metrics.iterdir()) == ["pg-maintenance.prom"]
    docker("stop", "-t", "20", name)

    # A failing run (the server unreachable) says so, and keeps the last success it read back.
    failing = run_maintenance(server, backups, "PG_MAINTENANCE_METRICS_DIR=/metrics", "PGHOST=no-such-host",
                              "PG_MAINTENANCE_READY_TIMEOUT=1", "PG_MAINTENANCE_RETRIES=0",
                              volumes=(f"{metrics}:/metrics",))
    assert exit_code(failing, 30) == 1
    failed = _textfile(metrics)
    assert failed["omero_stack_maintenance_last_run_ok"] == 0
    assert failed["omero_stack_maintenance_last_success_timestamp_seconds"] == done[
        "omero_stack_maintenance_last_success_timestamp_seconds"]
    assert failed["omero_stack_maintenance_last_dump_bytes"] == done["omero_stack_maintenance_last_dump_bytes"]
    assert failed["omero_stack_maintenance_last_run_timestamp_seconds"] >= done[
        "omero_stack_maintenance_last_run_timestamp_seconds"]


def test_an_unwritable_metrics_directory_exits_2(server, backups):
    name = run_maintenance(server, backups, "PG_MAINTENANCE_METRICS_DIR=/nowhere")
    assert exit_code(name, 30) == 2
    assert "PG_MAINTENANCE_METRICS_DIR /nowhere is not a writable directory" in logs(name)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ("PG_MAINTENANCE_KEEP=0", "PG_MAINTENANCE_KEEP"),
        ("PG_MAINTENANCE_KEEP=seven", "PG_MAINTENANCE_KEEP"),
        ("PG_MAINTENANCE_INTERVAL=-5", "PG_MAINTENANCE_INTERVAL"),
        ("PG_MAINTENANCE_VACUUM=maybe", "PG_MAINTENANCE_VACUUM"),
        ("PG_MAINTENANCE_RETRIES=1.5", "PG_MAINTENANCE_RETRIES"),
        ("PG_MAINTENANCE_RETRY_DELAY=", None),  # empty: the default
        ("PGDATABASE=", "PGDATABASE"),
        ("PGPORT=70000", "PGPORT"),
    ],
)
def test_bad_settings_exit_2(server, backups, env, variable):
    name = run_maintenance(server, backups, "PG_MAINTENANCE_INTERVAL=600", env)
    if variable is None:
        wait_for(lambda: status(backups).startswith("ok "), 30, "a first cycle")
        return
    assert exit_code(name, 20) == 2
    text = logs(name)
    assert f"configuration error: {variable} " in text, text
    assert not (backups / ".pg-maintenance-status").exists()


@pytest.mark.parametrize(
    "case",
    [
        ("starting", 0, 0, "starting"),
        ("ok {epoch} /backups/omero-x.dump", 60, 0, "ok: last dump"),
        ("ok {epoch} /backups/omero-x.dump", 2 * 600 + 3600 + 120, 1, "unhealthy: last successful cycle"),
        ("failed {epoch} pg_dump failed", 0, 1, "unhealthy: last cycle failed: pg_dump failed"),
        ("garbage", 0, 1, "unhealthy: bad status line"),
        (None, 0, 1, "unhealthy: no status"),
    ],
)
def test_healthcheck(image, backups, case):
    line, age, rc, message = case
    if line is not None:
        f = backups / ".pg-maintenance-status"
        f.write_text(line.format(epoch=int(time.time()) - age) + "\n")
        f.chmod(0o644)
    proc = docker(
        "run", "--rm", "--entrypoint", "/usr/local/bin/pg-maintenance-healthcheck", "-e", "PG_MAINTENANCE_INTERVAL=600",
        "-v", f"{backups}:/backups:ro", image,
        check=False,
    )  # fmt: skip
    assert proc.returncode == rc, proc.stdout + proc.stderr
    assert proc.stdout.startswith(message)
    assert len(proc.stdout.strip().splitlines()) == 1
