"""The layout never re-owns or re-modes a directory the site did not create (issue 12).

Rule (module_utils/site_files.py, option ``record``): the site_layout role keeps a record
of the directories it created, with their inodes, in ``<base>/.omero-docker-stack-
directories.json``. Only those get their owner and mode set again; a directory that existed
before the site (or was replaced since, e.g. by a mount) keeps its owner and mode, with a
warning when they differ from the site's, and the run still converges.
``site_layout_adopt_existing: true`` hands such directories to the site.

- converge() against a temp tree: a pre-existing 1777 directory and one owned by another
  uid are used as site directories;
- the site_layout role through ansible-playbook (playbooks/site.yml --tags layout, no
  Docker) with omero_site_paths pointing at such directories: they keep owner and mode,
  the site's own directories get theirs, a second run changes nothing, and adopting
  gives them the site's.

Needs root (chown to other uids).
"""

# ruff: noqa: S103 - the test makes world-writable directories on purpose (a shared /data of mode 1777)

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
import yaml
from ansible_collections.omero_docker.stack.plugins.module_utils import site_files as sf

from tests.helpers import playbook
from tests.helpers.sites import base_site, merged

REPO_ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown to other uids)")
OTHER = 4242
RECORD = ".omero-docker-stack-directories.json"


def attrs(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def existing(tmp_path):
    """A shared directory of mode 1777 and one of another uid, both there before the site."""
    shared, foreign = tmp_path / "shared", tmp_path / "foreign"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    foreign.mkdir()
    os.chown(foreign, OTHER, OTHER)
    os.chmod(foreign, 0o700)
    return shared, foreign


def test_converge_keeps_directories_it_did_not_create(tmp_path):
    shared, foreign = existing(tmp_path)
    base = tmp_path / "site"
    record = str(base / RECORD)
    dirs = [{"path": str(base), "owner": 0, "group": 0, "mode": "0755"},
            {"path": str(base / "logs"), "owner": 1000, "group": 1000, "mode": "0750"},
            {"path": str(shared), "owner": 1000, "group": 1000, "mode": "0750"},
            {"path": str(foreign), "owner": 999, "group": 999, "mode": "0700"}]
    result = sf.converge(dirs, record=record)
    assert attrs(shared) == (0, 0, 0o1777)
    assert attrs(foreign) == (OTHER, OTHER, 0o700)
    assert attrs(base / "logs") == (1000, 1000, 0o750)
    assert sorted(result["kept_paths"]) == sorted([str(shared), str(foreign)])
    assert len(result["warnings"]) == 2 and all("existed before the site" in w for w in result["warnings"])
    recorded = json.loads(Path(record).read_text())["directories"]
    assert set(recorded) == {str(base), str(base / "logs")}
    assert recorded[str(base / "logs")] == os.stat(base / "logs").st_ino
    # Converges: a second run changes nothing, and fixes what drifted in the site's own directories.
    assert sf.converge(dirs, record=record)["changed"] is False
    os.chmod(base / "logs", 0o777)
    assert sf.converge(dirs, record=record)["changed_paths"] == [str(base / "logs")]
    assert attrs(base / "logs") == (1000, 1000, 0o750)
    # A site directory replaced by another one (e.g. a mount) is not the site's any more.
    (base / "logs-new").mkdir()  # made while the old one exists: another inode
    os.chmod(base / "logs-new", 0o1777)
    os.rmdir(base / "logs")
    os.rename(base / "logs-new", base / "logs")
    assert set(sf.converge(dirs, record=record)["kept_paths"]) == {str(shared), str(foreign), str(base / "logs")}
    assert attrs(base / "logs")[2] == 0o1777
    # Check mode of an adoption reports, changes nothing.
    before = Path(record).read_text()
    result = sf.converge(dirs, record=record, adopt=True, check_mode=True)
    assert result["changed"] and attrs(shared) == (0, 0, 0o1777) and Path(record).read_text() == before
    # Adopting hands them to the site, once.
    result = sf.converge(dirs, record=record, adopt=True)
    assert attrs(shared) == (1000, 1000, 0o750) and attrs(foreign) == (999, 999, 0o700)
    assert sf.converge(dirs, record=record)["changed"] is False


def test_without_record_every_directory_is_converged(tmp_path):
    shared, dummy = existing(tmp_path)
    sf.converge([{"path": str(shared), "owner": 1000, "group": 1000, "mode": "0750"}])
    assert attrs(shared) == (1000, 1000, 0o750)


def test_unreadable_record_fails_before_any_change(tmp_path):
    shared, dummy = existing(tmp_path)
    record = tmp_path / RECORD
    record.write_text("not json")
    with pytest.raises(sf.SiteFilesError, match="cannot be read"):
        sf.converge([{"path": str(shared), "owner": 1000, "group": 1000, "mode": "0750"}], record=str(record))
    assert attrs(shared) == (0, 0, 0o1777)


def _run(tmp_path, inventory, *args):
    run = playbook.run_playbook(
        REPO_ROOT / "playbooks" / "site.yml", inventory, "--tags", "layout", *args, cwd=str(tmp_path),
        env={"ANSIBLE_LOCALHOST_WARNING": "false", "XDG_DATA_HOME": str(tmp_path / "controller-data"),
             "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp")})
    assert run.data, run.output[-4000:]
    assert run.rc == 0, "\n".join(run.failures()) or run.output[-4000:]
    return run


def _inventory(tmp_path, shared, foreign, **extra):
    base = tmp_path / "site"
    host = merged(base_site(str(base)), {"omero_site_paths": {"omero_data": str(shared), "backups": str(foreign)}},
                  str(base))
    host.update({"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 "site_layout_read_image_users": False}, **extra)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"omero": {"hosts": {"localhost": host}}}))
    return base, inventory


@pytest.mark.playbook
@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="needs ansible-playbook")
def test_layout_role_keeps_existing_directories_and_converges(tmp_path):
    shared, foreign = existing(tmp_path)
    base, inventory = _inventory(tmp_path, shared, foreign)
    run = _run(tmp_path, inventory)
    assert attrs(shared) == (0, 0, 0o1777)
    assert attrs(foreign) == (OTHER, OTHER, 0o700)
    assert attrs(base / "data" / "database") == (999, 999, 0o700)
    assert attrs(base / "logs" / "omeroserver")[0] == 1000
    assert str(shared) in run.output and "existed before the site" in run.output
    record = json.loads((base / RECORD).read_text())["directories"]
    assert str(shared) not in record and str(base / "data" / "database") in record
    again = _run(tmp_path, inventory)
    assert again.stats("localhost")["changed"] == 0
    # Adopting hands them to the site (the server's uid for its data, pg-maintenance's for backups).
    base, inventory = _inventory(tmp_path, shared, foreign, site_layout_adopt_existing=True)
    _run(tmp_path, inventory)
    assert attrs(shared) == (1000, 1000, 0o750)
    assert attrs(foreign)[0] != OTHER
