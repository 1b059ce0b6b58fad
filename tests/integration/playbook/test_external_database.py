"""The external_database role through ansible-playbook on this machine (local connection)
against a real PostgreSQL server (omero-stack-test/postgres:17 in this machine's engine,
reached at its container address, as a managed server would be): a site whose `database`
is that external server gets its login role, with the site's password, and its database
(UTF8, owned by the role) from community.postgresql; check mode creates nothing; a second
run changes nothing; no password is printed; external_database_create without the
administrator's password is refused before anything is created.

The modules run with this venv's Python, which has psycopg2 from requirements/run.txt (the
local inventory's case; a remote host gets Debian's python3-psycopg2). Needs root, a Docker
engine and the test image (skipped otherwise).
"""

from __future__ import annotations

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

psycopg2 = pytest.importorskip("psycopg2")
PG_IMAGE = os.environ.get("OMERO_STACK_TEST_POSTGRES_IMAGE", "omero-stack-test/postgres:17")
ADMIN_PASSWORD = "external-admin-password-for-the-test-0051"  # noqa: S105 - a test value
DB_PASSWORD = "external-db-password-for-the-test-0052"  # noqa: S105 - a test value

pytestmark = [pytest.mark.playbook, pytest.mark.docker,
              pytest.mark.skipif(os.geteuid() != 0 or shutil.which("docker") is None,
                                 reason="needs root and a docker client")]

PLAYBOOK = """\
- name: Site model
  ansible.builtin.import_playbook: omero_docker.stack.site_model

- name: External database
  hosts: omero
  gather_facts: false
  tasks:
    - ansible.builtin.import_role: {name: omero_docker.stack.external_database}
"""


def _docker(*args, check=True):
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError("docker %s: %s" % (" ".join(args[:3]), proc.stderr))
    return proc


@pytest.fixture
def server():
    """A PostgreSQL server (its address) with an administrator `postgres`."""
    if _docker("image", "inspect", PG_IMAGE, check=False).returncode != 0:
        pytest.skip("%s is not built (tests/images/services/build.sh)" % PG_IMAGE)
    name = "omero-stack-extdb-%s" % uuid.uuid4().hex[:8]
    _docker("run", "-d", "--name", name, "-e", "POSTGRES_PASSWORD=%s" % ADMIN_PASSWORD, PG_IMAGE)
    try:
        host = _docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name).stdout.strip()
        for _attempt in range(120):
            if _docker("exec", name, "pg_isready", "-h", host, "-U", "postgres", check=False).returncode == 0:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("PostgreSQL did not start: %s" % _docker("logs", name, check=False).stderr)
        yield host
    finally:
        _docker("rm", "-f", "-v", name, check=False)


def _run(tmp_path, host, *extra, admin_password=ADMIN_PASSWORD, create=None):
    playbook = tmp_path / "external.yml"
    playbook.write_text(PLAYBOOK)
    store = tmp_path / "secrets.yml"
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"omero": {"hosts": {"site": {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "omero_site_name": "extdb",
        "omero_site_base_dir": str(tmp_path / "site"),
        "omero_site_generate_secrets": True,
        "omero_site_secrets_store": str(store),
        # An external server's password is the operator's (a vault), never generated.
        "omero_secrets": {"omero_db_password": DB_PASSWORD},
        "omero_services": {"database": {"external": {"host": host}}},
        "external_database_admin_password": admin_password,
        "external_database_packages": [],
    }}}}))
    if create is not None:
        extra = (*extra, "-e", '{"external_database_create": %s}' % str(create).lower())
    return run_playbook(playbook, inventory, *extra, log=tmp_path / "last-run.log")


def _admin(host):
    return psycopg2.connect(host=host, user="postgres", password=ADMIN_PASSWORD, dbname="postgres")


def _query(host, sql):
    with _admin(host) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_the_role_and_database_are_created_once_with_the_site_password(tmp_path, server):
    refused = _run(tmp_path, server, admin_password="", create=True)
    assert refused.rc != 0
    assert "external_database_admin_password is empty" in refused.output
    assert _query(server, "SELECT rolname FROM pg_roles WHERE rolname = 'omero'") == []

    preview = _run(tmp_path, server, "--check")
    assert preview.rc == 0, preview.failures()
    assert preview.stats("site")["changed"] > 0
    assert _query(server, "SELECT rolname FROM pg_roles WHERE rolname = 'omero'") == []

    first = _run(tmp_path, server)
    assert first.rc == 0, first.failures()
    assert first.stats("site")["changed"] >= 2
    rows = _query(server, "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding) FROM pg_database "
                          "WHERE datname = 'omero'")
    assert rows == [("omero", "UTF8")]
    # The site's password logs in over TCP (password authentication), a wrong one is refused.
    with psycopg2.connect(host=server, user="omero", password=DB_PASSWORD, dbname="omero") as conn, \
            conn.cursor() as cur:
        cur.execute("SELECT current_user, current_database()")
        assert cur.fetchone() == ("omero", "omero")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(host=server, user="omero", password="not-" + DB_PASSWORD, dbname="omero")

    again = _run(tmp_path, server)
    assert again.rc == 0 and again.stats("site")["changed"] == 0, again.failures()
    for run in (refused, preview, first, again):
        assert ADMIN_PASSWORD not in run.output and DB_PASSWORD not in run.output
