"""The pg_scram_verifier / pg_verifier_matches filters against a real PostgreSQL container.

A verifier computed here is stored as given by ALTER ROLE and accepts a real password login;
PostgreSQL's own verifier of the same password matches. Skipped when no Docker engine answers
or the PostgreSQL test image is missing (tests/images/services/build.sh postgres builds it).
The offline half (recorded verifiers) is tests/unit/plugins/filter/test_pg_password.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import pytest
from ansible_collections.omero_docker.stack.plugins.filter.pg_password import FilterModule

FILTERS = FilterModule().filters()
matches = FILTERS["pg_verifier_matches"]
scram_verifier = FILTERS["pg_scram_verifier"]
PG_IMAGE = os.environ.get("OMERO_STACK_TEST_POSTGRES_IMAGE", "omero-stack-test/postgres:17")
pytestmark = pytest.mark.docker


def _docker(*args, stdin=None, env=None, check=True):
    proc = subprocess.run(["docker", *args], input=stdin, capture_output=True, text=True, check=False,
                          env=env, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError("docker %s: %s" % (" ".join(args[:2]), proc.stderr))
    return proc


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    if shutil.which("docker") is None or _docker("info", check=False).returncode != 0:
        pytest.skip("no Docker engine answers")
    if _docker("image", "inspect", PG_IMAGE, check=False).returncode != 0:
        pytest.skip("%s is missing: run tests/images/services/build.sh postgres" % PG_IMAGE)
    pwfile = tmp_path_factory.mktemp("pg") / "pw"
    pwfile.write_text("initial-password\n")
    pwfile.chmod(0o644)
    name = "omero-stack-unit-scram-%s" % uuid.uuid4().hex[:8]
    _docker("run", "-d", "--name", name, "-e", "POSTGRES_USER=omero", "-e", "POSTGRES_PASSWORD_FILE=/run/pw",
            "-v", "%s:/run/pw:ro" % pwfile, PG_IMAGE)
    try:
        deadline = time.monotonic() + 60
        while _docker("exec", name, "pg_isready", "-h", "127.0.0.1", "-U", "omero", check=False).returncode != 0:
            assert time.monotonic() < deadline, _docker("logs", name, check=False).stderr
            time.sleep(0.5)
        yield name
    finally:
        _docker("rm", "-f", "-v", name, check=False)


def _psql(container, sql):
    return _docker("exec", "-i", container, "psql", "-X", "-q", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1",
                   "-h", "/var/run/postgresql", "-U", "omero", "-d", "postgres", stdin=sql).stdout.strip()


def _login(container, password):
    # over the container's own address: pg_hba.conf trusts the socket and loopback only
    address = _docker("exec", container, "hostname", "-i").stdout.split()[0]
    proc = _docker("exec", "-e", "PGPASSWORD", container, "psql", "-X", "-A", "-t", "-w", "-h", address,
                   "-U", "omero", "-d", "postgres", "-c", "SELECT 'ok'", check=False,
                   env=dict(os.environ, PGPASSWORD=password))
    return proc.returncode == 0 and proc.stdout.strip() == "ok"


@pytest.mark.parametrize("password", ["correct horse battery staple", "\ufb01\u00a0caf\u00e9\u00ad!", "it's \"x\""])
def test_computed_verifier_accepts_a_real_login(postgres, password):
    verifier = scram_verifier(password)
    _psql(postgres, "ALTER ROLE omero PASSWORD '%s';" % verifier)
    stored = _psql(postgres, "SELECT rolpassword FROM pg_authid WHERE rolname = 'omero';")
    assert stored == verifier  # stored as given: the plain password never reached the server
    assert _login(postgres, password) is True
    assert _login(postgres, password + "x") is False
    # and PostgreSQL's own verifier of the same password matches here
    _psql(postgres, "ALTER ROLE omero PASSWORD '%s';" % password.replace("'", "''"))
    assert matches(_psql(postgres, "SELECT rolpassword FROM pg_authid WHERE rolname = 'omero';"), password) is True


def _deploy_statements():
    """The deploy role's psql argv and the stdin of its read and ALTER ROLE tasks, as the role has them."""
    import yaml

    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "deploy")
    with open(os.path.join(root, "vars", "main.yml")) as handle:
        psql = yaml.safe_load(handle)["_deploy_psql"]
    with open(os.path.join(root, "tasks", "databases.yml")) as handle:
        tasks = dict((t["name"], t) for t in yaml.safe_load(handle))
    read = tasks["Read each role's password verifier (psql over the container's local socket)"]
    alter = tasks["Set the changed passwords (ALTER ROLE with a SCRAM verifier computed on the controller, on stdin)"]
    return psql, read["community.docker.docker_container_exec"]["stdin"], \
        alter["community.docker.docker_container_exec"]["stdin"]


def test_deploy_statements_quote_a_hyphenated_role_on_the_reference_port(tmp_path):
    """The reference stack's plugin database (issue 17): role and database `omero-plugin`,
    PostgreSQL on 5433. The deploy's own statements read and set its password."""
    if shutil.which("docker") is None or _docker("info", check=False).returncode != 0:
        pytest.skip("no Docker engine answers")
    if _docker("image", "inspect", PG_IMAGE, check=False).returncode != 0:
        pytest.skip("%s is missing: run tests/images/services/build.sh postgres" % PG_IMAGE)
    psql, read_sql, alter_template = _deploy_statements()
    role = "omero-plugin"
    name = "omero-stack-unit-quoted-%s" % uuid.uuid4().hex[:8]
    _docker("run", "-d", "--name", name, "-e", "POSTGRES_USER=" + role, "-e", "POSTGRES_DB=" + role,
            "-e", "POSTGRES_PASSWORD=initial-password", "-e", "PGPORT=5433", PG_IMAGE)
    try:
        deadline = time.monotonic() + 60
        while _docker("exec", name, "pg_isready", "-h", "127.0.0.1", "-p", "5433", "-U", role,
                      check=False).returncode != 0:
            assert time.monotonic() < deadline, _docker("logs", name, check=False).stderr
            time.sleep(0.5)
        argv = list(psql) + ["-U", role, "-v", "role=" + role]
        before = _docker("exec", "-i", name, *argv, stdin=read_sql).stdout.strip()
        assert matches(before, "initial-password", role) is True
        verifier = scram_verifier("new password")
        alter_sql = alter_template.split("'{{")[0] + "'%s';" % verifier
        assert alter_sql.startswith('ALTER ROLE :"role" PASSWORD')
        _docker("exec", "-i", name, *argv, stdin=alter_sql)
        assert _docker("exec", "-i", name, *argv, stdin=read_sql).stdout.strip() == verifier
        address = _docker("exec", name, "hostname", "-i").stdout.split()[0]
        login = _docker("exec", "-e", "PGPASSWORD", name, "psql", "-X", "-A", "-t", "-w", "-h", address, "-p", "5433",
                        "-U", role, "-d", role, "-c", "SELECT current_database()", check=False,
                        env=dict(os.environ, PGPASSWORD="new password"))
        assert login.stdout.strip() == role, login.stderr
    finally:
        _docker("rm", "-f", "-v", name, check=False)
