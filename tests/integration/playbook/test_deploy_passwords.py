"""The deploy role applies changed passwords for real (issue 11, defect 9) and prints no
secret (defect 11), run through ansible-playbook on this machine's Docker engine.

- tasks/databases.yml against two real PostgreSQL containers (omero-stack-test/postgres:17)
  labelled as the services `database` and `database_plugin` of a compose project: a
  changed omero_db_password is applied with ALTER ROLE (the new password logs in over
  TCP, the old one is refused; the plugin database, whose secret did not change, keeps
  its verifier untouched); check mode reports it and changes nothing; a second run
  changes nothing; the output at -v holds no secret value and no verifier.
- the whole role (tasks/main.yml) with Docker Compose on a two-database stand-in of the
  manifest: a first deploy, a rotation while the database runs, a rotation while it was
  stopped by hand (started alone first, then rotated, before compose up), each followed
  by a run that changes nothing.
- tasks/grafana.yml against a stand-in container whose `grafana` command records what
  `grafana cli ... admin reset-admin-password --password-from-stdin` receives (Grafana
  itself cannot run here): the reset runs only when the root-only record of the applied
  password differs, the record holds a verifier (never the value), and a failing reset
  shows its message with the password blanked out.

Only the whole-role test needs Compose (the cached Compose v2 binary of
tests/images/compose/extract.sh, as a CLI plugin in a DOCKER_CONFIG of the test's own):
the task files find containers by compose labels, and the Grafana part reads the
containers compose reported (given here as `_deploy_up`). Needs root, a Docker engine and
the test images (skipped otherwise).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT))
from tests.helpers.playbook import run_playbook  # noqa: E402

PG_IMAGE = os.environ.get("OMERO_STACK_TEST_POSTGRES_IMAGE", "omero-stack-test/postgres:17")
BASE_IMAGE = os.environ.get("OMERO_STACK_TEST_DEBIAN_IMAGE", "omero-stack-test/debian:trixie")

SECRETS = {
    "omero_db_password": "unit-deploy-db-old-0001",
    "omero_root_password": "unit-deploy-root-0002",
    "omero_job_service_password": "unit-deploy-job-0003",
    "omero_web_secret_key": "unit-deploy-web-key-0004",
    "plugin_db_password": "unit-deploy-plugin-db-0005",
    "grafana_admin_password": "unit-deploy-grafana-0006",
}
NEW_SECRETS = {"db": "unit-deploy-db-new-0007 it's \"quoted\"", "grafana": "unit-deploy-grafana-new-0008"}
NEW_DB_PASSWORD = NEW_SECRETS["db"]
NEW_GRAFANA_PASSWORD = NEW_SECRETS["grafana"]

pytestmark = [pytest.mark.playbook, pytest.mark.docker,
              pytest.mark.skipif(os.geteuid() != 0 or shutil.which("docker") is None,
                                 reason="needs root and a docker client")]


def docker(*args, stdin=None, env=None, check=True):
    proc = subprocess.run(["docker", *args], input=stdin, capture_output=True, text=True, check=False,
                          env=env, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError("docker %s: %s" % (" ".join(args[:3]), proc.stderr))
    return proc


def require_images(*images):
    if docker("info", check=False).returncode != 0:
        pytest.skip("no Docker engine answers")
    for image in images:
        if docker("image", "inspect", image, check=False).returncode != 0:
            pytest.skip("%s is missing (tests/images/build.sh, tests/images/services/build.sh postgres)" % image)


def collections_path(tmp_path):
    """This checkout as omero_docker.stack, then whatever the caller had (community.docker
    comes from the ansible package either way)."""
    tree = tmp_path / "collections"
    (tree / "ansible_collections" / "omero_docker").mkdir(parents=True)
    (tree / "ansible_collections" / "omero_docker" / "stack").symlink_to(REPO_ROOT)
    return os.pathsep.join([str(tree)] + [p for p in [os.environ.get("ANSIBLE_COLLECTIONS_PATH")] if p])


class Site:
    """A site description on localhost, and a playbook that runs one task file of the role."""

    def __init__(self, tmp_path, tasks_from, pre_tasks=()):
        self.tmp = tmp_path
        self.name = "unit-pw-%s" % uuid.uuid4().hex[:8]
        self.base = tmp_path / "site"
        self.secrets = dict(SECRETS)
        self.env = {}
        self.playbook = tmp_path / "play.yml"
        self.playbook.write_text(yaml.safe_dump([{
            "name": "Deploy role, %s only" % tasks_from,
            "hosts": "omero",
            "gather_facts": False,
            "tasks": [
                {"name": "Compute the site model", "omero_docker.stack.site_model": None},
                {"name": "Read the secret values", "omero_docker.stack.site_model": {"return_secret_values": True},
                 "register": "_deploy_secrets", "no_log": True},
                *pre_tasks,
                {"name": "The task file", "ansible.builtin.include_role": {
                    "name": "omero_docker.stack.deploy", "tasks_from": tasks_from}},
            ],
        }], sort_keys=False))

    def run(self, *args):
        inventory = self.tmp / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"omero": {"hosts": {"site": {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "omero_site_name": self.name,
            "omero_site_base_dir": str(self.base),
            "omero_secrets": self.secrets,
        }}}}))
        env = {"ANSIBLE_COLLECTIONS_PATH": collections_path_cached(self.tmp),
               "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
               "ANSIBLE_LOCAL_TEMP": str(self.tmp / "ansible-tmp"), "ANSIBLE_LOCALHOST_WARNING": "false",
               **self.env}
        result = run_playbook(self.playbook, inventory, *args, env=env, log=self.tmp / "last-run.log")
        if not result.data and "\n{" in result.output:
            # at -v, ansible-playbook prints "No config file found..." before the JSON
            start = result.output.index("\n{") + 1
            result.data = json.JSONDecoder().raw_decode(result.output[start:])[0]
        assert result.data, result.output[-3000:]
        return result


_PATHS = {}


def collections_path_cached(tmp_path):
    if tmp_path not in _PATHS:
        _PATHS[tmp_path] = collections_path(tmp_path)
    return _PATHS[tmp_path]


def start_postgres(project, service, user, password, tmp_path):
    pwfile = tmp_path / ("%s.pw" % service)
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o644)
    name = "%s-%s-1" % (project, service)
    docker("run", "-d", "--name", name, "--label", "com.docker.compose.project=%s" % project,
           "--label", "com.docker.compose.service=%s" % service, "--label", "com.docker.compose.oneoff=False",
           "-e", "POSTGRES_USER=%s" % user, "-e", "POSTGRES_PASSWORD_FILE=/run/pw",
           "-v", "%s:/run/pw:ro" % pwfile, PG_IMAGE)
    deadline = time.monotonic() + 60
    while docker("exec", name, "pg_isready", "-h", "127.0.0.1", "-U", user, check=False).returncode != 0:
        assert time.monotonic() < deadline, docker("logs", name, check=False).stderr
        time.sleep(0.5)
    # ready on loopback means the init server is gone and the real one listens
    return name


def verifier(container, user):
    return docker("exec", "-i", container, "psql", "-X", "-q", "-A", "-t", "-w", "-h", "/var/run/postgresql",
                  "-U", user, "-d", "postgres", "-v", "role=" + user,
                  stdin="SELECT rolpassword FROM pg_authid WHERE rolname = :'role';").stdout.strip()


def login(container, user, password):
    """A password login over TCP to the container's address (socket and loopback are trusted)."""
    address = docker("exec", container, "hostname", "-i").stdout.split()[0]
    proc = docker("exec", "-e", "PGPASSWORD", container, "psql", "-X", "-A", "-t", "-w", "-h", address,
                  "-U", user, "-d", "postgres", "-c", "SELECT 'ok'", check=False,
                  env=dict(os.environ, PGPASSWORD=password))
    return proc.returncode == 0 and proc.stdout.strip() == "ok"


def task_result(result, name):
    """The result on host `site` of the task whose name ends with NAME (last one run)."""
    found = None
    for play in result.data.get("plays", []):
        for task in play["tasks"]:
            if task["task"]["name"].endswith(name) and "site" in task["hosts"]:
                found = task["hosts"]["site"]
    assert found is not None, name
    return found


def assert_no_secret(result, *values):
    for value in values:
        assert value not in result.output, "a secret value is in the output"


@pytest.fixture
def databases(tmp_path):
    require_images(PG_IMAGE)
    site = Site(tmp_path, "databases.yml")
    names = []
    try:
        names.append(start_postgres(site.name, "database", "omero", SECRETS["omero_db_password"], tmp_path))
        names.append(start_postgres(site.name, "database_plugin", "omero_plugin", SECRETS["plugin_db_password"],
                                    tmp_path))
        yield site, names[0], names[1]
    finally:
        for name in names:
            docker("rm", "-f", "-v", name, check=False)


def test_changed_database_password_is_applied_once_and_never_printed(databases):
    site, db, plugin_db = databases
    old = SECRETS["omero_db_password"]
    assert login(db, "omero", old)
    plugin_verifier = verifier(plugin_db, "omero_plugin")

    # Unchanged secrets: nothing to do.
    run = site.run("-v")
    assert run.rc == 0, run.failures()
    assert run.stats("site")["changed"] == 0

    site.secrets["omero_db_password"] = NEW_DB_PASSWORD
    before = verifier(db, "omero")

    # Check mode reports the change and makes none.
    run = site.run("--check", "-v")
    assert run.rc == 0, run.failures()
    assert run.stats("site")["changed"] == 1
    assert "the password of role omero differs from omero_db_password" in run.output
    assert verifier(db, "omero") == before

    # A real run applies it, on the OMERO database only.
    run = site.run("-v", "--diff")
    assert run.rc == 0, run.failures()
    assert run.stats("site")["changed"] == 1
    after = verifier(db, "omero")
    assert after != before and after.startswith("SCRAM-SHA-256$4096:")
    assert login(db, "omero", NEW_DB_PASSWORD)
    assert not login(db, "omero", old)
    assert verifier(plugin_db, "omero_plugin") == plugin_verifier
    assert_no_secret(run, NEW_DB_PASSWORD, old, SECRETS["plugin_db_password"], after, plugin_verifier)

    # Idempotent.
    run = site.run("-v")
    assert run.rc == 0, run.failures()
    assert run.stats("site")["changed"] == 0
    assert verifier(db, "omero") == after
    assert_no_secret(run, NEW_DB_PASSWORD, after, plugin_verifier)


def test_an_unreadable_verifier_stops_the_run_with_psql_s_reason(databases):
    site, db, _plugin_db = databases
    # The role the model names does not exist in this database: psql cannot connect as it.
    site.secrets["omero_db_password"] = NEW_DB_PASSWORD
    docker("exec", "-i", db, "psql", "-X", "-q", "-w", "-h", "/var/run/postgresql", "-U", "omero", "-d", "postgres",
           stdin="CREATE ROLE admin2 SUPERUSER LOGIN; ALTER DATABASE omero OWNER TO admin2;")
    docker("exec", "-i", db, "psql", "-X", "-q", "-w", "-h", "/var/run/postgresql", "-U", "admin2", "-d", "postgres",
           stdin="ALTER ROLE omero RENAME TO omero_old;")
    run = site.run("-v")
    assert run.rc != 0
    failures = "\n".join(run.failures())
    assert "psql as role omero exited 2" in failures, failures
    assert 'role "omero" does not exist' in failures
    assert_no_secret(run, NEW_DB_PASSWORD, SECRETS["omero_db_password"])


# --- the whole role, with Docker Compose ---------------------------------------------

COMPOSE = Path(os.environ.get("DOCKER_COMPOSE_BINARY")
               or Path(os.environ.get("OMERO_STACK_CACHE", Path.home() / ".cache" / "omero_docker_stack"))
               / "bin" / "docker-compose")


def write_compose(site, passwords):
    """A two-database stand-in for the manifest site_config renders, and the secret files
    (what site_config writes before the deploy runs)."""
    services, secrets = {}, {}
    for service, user, secret in (("database", "omero", "omero_db_password"),
                                  ("database_plugin", "omero_plugin", "plugin_db_password")):
        path = site.base / "secrets" / service / secret
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(passwords[secret])
        path.chmod(0o644)  # the test image reads it as uid 999
        secrets[service + "_" + secret] = {"file": str(path)}
        services[service] = {
            "image": PG_IMAGE,
            "environment": {"POSTGRES_USER": user, "POSTGRES_PASSWORD_FILE": "/run/secrets/" + secret},
            "secrets": [{"source": service + "_" + secret, "target": secret}],
            "healthcheck": {"test": ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", user],
                            "interval": "1s", "timeout": "5s", "retries": 60},
        }
    (site.base / "docker-compose.yml").write_text(yaml.safe_dump(
        {"name": site.name, "services": services, "secrets": secrets}))


@pytest.fixture
def compose_site(tmp_path):
    require_images(PG_IMAGE)
    if not os.access(COMPOSE, os.X_OK):
        pytest.skip("no Docker Compose v2 binary (tests/images/compose/extract.sh)")
    plugins = tmp_path / "docker-config" / "cli-plugins"
    plugins.mkdir(parents=True)
    (plugins / "docker-compose").symlink_to(COMPOSE)
    site = Site(tmp_path, "main.yml")
    site.env["DOCKER_CONFIG"] = str(plugins.parent)
    site.base.mkdir()
    try:
        yield site
    finally:
        ids = docker("ps", "-aq", "--filter", "label=com.docker.compose.project=%s" % site.name).stdout.split()
        if ids:
            docker("rm", "-f", "-v", *ids, check=False)
        docker("network", "rm", "%s_default" % site.name, check=False)


def test_whole_role_rotates_before_compose_up_also_a_stopped_database(compose_site):
    site = compose_site
    db = "%s-database-1" % site.name
    write_compose(site, site.secrets)
    run = site.run("-v")  # first deploy: no container yet, initdb applies the files
    assert run.rc == 0, run.failures()
    assert login(db, "omero", SECRETS["omero_db_password"])
    run = site.run("-v")
    assert run.rc == 0 and run.stats("site")["changed"] == 0, run.failures()

    # Rotated while running.
    site.secrets["omero_db_password"] = NEW_DB_PASSWORD
    write_compose(site, site.secrets)
    run = site.run("-v", "--diff")
    assert run.rc == 0, run.failures()
    assert task_result(run, "Docker compose up of the stopped database services only").get("skipped")
    assert login(db, "omero", NEW_DB_PASSWORD) and not login(db, "omero", SECRETS["omero_db_password"])

    # Rotated while the database was stopped by hand: started, then rotated.
    docker("stop", db)
    newest = NEW_DB_PASSWORD + " again"
    site.secrets["omero_db_password"] = newest
    write_compose(site, site.secrets)
    run = site.run("-v")
    assert run.rc == 0, run.failures()
    assert not task_result(run, "Docker compose up of the stopped database services only").get("skipped")
    assert task_result(run, "Set the changed passwords (ALTER ROLE with a SCRAM verifier computed on the controller,"
                            " on stdin)")["changed"] is True
    assert login(db, "omero", newest) and not login(db, "omero", NEW_DB_PASSWORD)
    assert_no_secret(run, newest, NEW_DB_PASSWORD, SECRETS["plugin_db_password"])

    run = site.run("-v")
    assert run.rc == 0 and run.stats("site")["changed"] == 0, run.failures()


# --- Grafana, with a stand-in for its CLI ---------------------------------------------

FAKE_GRAFANA = r"""#!/bin/sh
# Stand-in for the grafana binary: accepts exactly the reset the deploy role runs.
expected="cli --homepath /usr/share/grafana --config /etc/grafana/grafana.ini"
expected="$expected admin reset-admin-password --password-from-stdin"
[ "$*" = "$expected" ] || { echo "unexpected arguments: $*" >&2; exit 64; }
IFS= read -r password
if [ -e /state/fail ]; then
  echo "failed to reset the password to $password" >&2
  exit 1
fi
printf '%s\n' "$password" >> /state/resets
echo "Admin password changed successfully"
"""


@pytest.fixture
def grafana(tmp_path):
    require_images(BASE_IMAGE)
    state = tmp_path / "grafana-state"
    state.mkdir()
    script = tmp_path / "grafana"
    script.write_text(FAKE_GRAFANA)
    script.chmod(0o755)
    name = "unit-pw-grafana-%s" % uuid.uuid4().hex[:8]
    docker("run", "-d", "--name", name, "-v", "%s:/usr/local/bin/grafana:ro" % script, "-v", "%s:/state" % state,
           BASE_IMAGE, "sleep", "infinity")
    cid = docker("inspect", "-f", "{{.Id}}", name).stdout.strip()
    compose_result = {"containers": [{"ID": cid, "Name": name, "Service": "grafana", "State": "running"}]}
    site = Site(tmp_path, "grafana.yml", pre_tasks=[
        {"name": "What compose up reported", "ansible.builtin.set_fact": {"_deploy_up": compose_result}}])
    try:
        yield site, state
    finally:
        docker("rm", "-f", "-v", name, check=False)


def resets(state):
    path = state / "resets"
    return path.read_text().splitlines() if path.exists() else []


def test_grafana_admin_password_reset_only_when_it_changed(grafana):
    site, state = grafana
    record = site.base / "secrets" / ".applied" / "grafana_admin_password"
    (site.base / "secrets").mkdir(parents=True)

    # No record yet (first deploy, or a site deployed before this): reset once, record it.
    run = site.run("-v")
    assert run.rc == 0, run.failures()
    assert resets(state) == [SECRETS["grafana_admin_password"]]
    assert oct(record.stat().st_mode & 0o777) == "0o600"
    assert oct(record.parent.stat().st_mode & 0o777) == "0o700"
    text = record.read_text()
    assert text.startswith("SCRAM-SHA-256$") and SECRETS["grafana_admin_password"] not in text
    assert_no_secret(run, SECRETS["grafana_admin_password"], text.strip())

    # Same secret: nothing runs.
    run = site.run("-v")
    assert run.rc == 0, run.failures()
    assert run.stats("site")["changed"] == 0
    assert len(resets(state)) == 1

    # Changed secret, check mode: reported, not applied.
    site.secrets["grafana_admin_password"] = NEW_GRAFANA_PASSWORD
    run = site.run("--check", "-v")
    assert run.rc == 0, run.failures()
    assert run.stats("site")["changed"] == 1
    assert len(resets(state)) == 1 and record.read_text() == text

    # A failing reset: the message is shown with the password blanked out; the record stays.
    (state / "fail").touch()
    run = site.run("-v")
    assert run.rc != 0
    failures = "\n".join(run.failures())
    assert "failed to reset the password to ********" in failures, failures
    assert_no_secret(run, NEW_GRAFANA_PASSWORD)
    assert record.read_text() == text
    (state / "fail").unlink()

    # Applied, then idempotent.
    run = site.run("-v", "--diff")
    assert run.rc == 0, run.failures()
    assert resets(state)[-1] == NEW_GRAFANA_PASSWORD
    assert record.read_text() != text
    assert_no_secret(run, NEW_GRAFANA_PASSWORD, SECRETS["grafana_admin_password"])
    run = site.run("-v")
    assert run.rc == 0 and run.stats("site")["changed"] == 0
    assert len(resets(state)) == 2
    json.dumps(run.data)  # parsed
