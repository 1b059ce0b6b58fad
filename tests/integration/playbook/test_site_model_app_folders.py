"""Plugins given as folders (omero_web_plugins[].src, issue 17) through the site_model action
plugin on the controller: a plain app folder found like `copy: src=` and a folder of a git
repository at a commit are packaged as wheels in the controller's cache, a folder that is a
Python project is built (pip and setuptools of the controller's Python), and the model
installs those wheels in the web image with their pinned requirements."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import zipfile

import pytest
import yaml

from tests.helpers import playbook
from tests.helpers.plugin_project import project
from tests.helpers.sites import base_site

pytestmark = [pytest.mark.playbook,
              pytest.mark.skipif(shutil.which("ansible-playbook") is None or shutil.which("git") is None,
                                 reason="needs ansible-playbook and git")]

PLAY = """
- hosts: omero
  gather_facts: false
  tasks:
    - omero_docker.stack.site_model:
      register: model
    - ansible.builtin.copy:
        content: "{{ {'copies': omero_site_model.images.omeroweb.copies,
                      'requirements': omero_site_model.images.omeroweb.files
                                      | selectattr('path', 'eq', 'requirements.txt') | map(attribute='content') | first,
                      'plugins': omero_site_model.web_registration.plugins} | to_json }}"
        dest: "{{ out }}"
      delegate_to: localhost
"""


def _folder(root, views="x = 1\n"):
    root.mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "urls.py").write_text("urlpatterns = []\n")
    (root / "views.py").write_text(views)
    (root / "requirements.txt").write_text("redis==6.4.0\n")
    return root


def _git(*args, cwd):
    return subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()


def _run(tmp_path, plugins, name="out.json"):
    site = base_site(str(tmp_path / "site"))
    site.update({"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 "omero_web_plugins": plugins, "out": str(tmp_path / name)})
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"omero": {"hosts": {"site": site}}}))
    (tmp_path / "play.yml").write_text(PLAY)
    run = playbook.run_playbook(tmp_path / "play.yml", inventory, cwd=str(tmp_path),
                                env={"XDG_CACHE_HOME": str(tmp_path / "cache"), "ANSIBLE_LOCALHOST_WARNING": "false"})
    return run, (json.loads((tmp_path / name).read_text()) if run.rc == 0 else None)


def test_folders_and_git_subdirectories_are_packaged_on_the_controller(tmp_path):
    folder = _folder(tmp_path / "src" / "omeroweb_upload")
    repo = tmp_path / "repo"
    _folder(repo / "plugins" / "omp_plugin", views="old = 1\n")
    _git("init", "-q", cwd=tmp_path / "repo")
    _git("add", ".", cwd=repo)
    _git("commit", "-qm", "one", cwd=repo)
    commit = _git("rev-parse", "HEAD", cwd=repo)
    (repo / "plugins" / "omp_plugin" / "views.py").write_text("new = 1\n")
    _git("commit", "-qam", "two", cwd=repo)
    plugins = [
        {"name": "omeroweb-upload", "app": "omeroweb_upload", "src": str(folder)},
        {"name": "omp-plugin", "app": "omp_plugin",
         "src": {"git": "file://%s" % repo, "commit": commit, "path": "plugins/omp_plugin"}},
    ]
    run, out = _run(tmp_path, plugins)
    assert run.rc == 0, "\n".join(run.failures()) or run.output[-4000:]
    wheels = [c["src"] for c in out["copies"]]
    cache = str(tmp_path / "cache" / "omero-docker-stack" / "app-wheels")
    assert [os.path.dirname(os.path.dirname(w)) for w in wheels] == [cache, cache]
    lines = out["requirements"].splitlines()
    assert lines[:4] == ["redis==6.4.0", "/opt/omero-stack/wheels/" + os.path.basename(wheels[0]),
                         "redis==6.4.0", "/opt/omero-stack/wheels/" + os.path.basename(wheels[1])]
    assert [p["pip"] for p in out["plugins"][:2]] == ["/opt/omero-stack/wheels/" + os.path.basename(w)
                                                      for w in wheels]
    with zipfile.ZipFile(wheels[1]) as archive:  # the commit named, not the newest
        assert archive.read("omp_plugin/views.py") == b"old = 1\n"
    # an unchanged folder: the same wheel; a changed one: another
    run, again = _run(tmp_path, plugins, "again.json")
    assert [c["src"] for c in again["copies"]] == wheels
    (folder / "views.py").write_text("y = 2\n")
    run, changed = _run(tmp_path, plugins, "changed.json")
    assert changed["copies"][0]["sha256"] != out["copies"][0]["sha256"]
    assert changed["copies"][1] == out["copies"][1]


def test_an_unpinned_requirement_fails_the_model_naming_the_plugin(tmp_path):
    folder = _folder(tmp_path / "src" / "omp")
    (folder / "requirements.txt").write_text("celery>=5\n")
    run, dummy = _run(tmp_path, [{"name": "omp", "app": "omp", "src": str(folder)},
                                 {"name": "gone", "app": "gone", "src": str(tmp_path / "missing")}])
    assert run.rc != 0
    errors = dict((e["variable"], e["message"]) for t in run.data["plays"][0]["tasks"]
                  for r in t["hosts"].values() for e in r.get("errors", []))
    assert errors["omero_web_plugins[0].src"] == ("cannot be packaged: omp/requirements.txt line 1: 'celery>=5' is "
                                                  "not pinned: each requirement of a packaged app must be "
                                                  "NAME==VERSION (options, ranges and URLs are not taken)")
    assert "was not found on the controller" in errors["omero_web_plugins[1].src"]


def _project(root, backend="setuptools.build_meta"):
    return project(root, deps=('"python-slugify==8.0.4"',), backend=backend)


def test_a_folder_with_packaging_is_built_on_the_controller(tmp_path):
    folder = _project(tmp_path / "src" / "omp")
    plugins = [{"name": "omp-packaged", "app": "omp_packaged", "src": str(folder), "version": "1.2.0"}]
    run, out = _run(tmp_path, plugins)
    assert run.rc == 0, "\n".join(run.failures()) or run.output[-4000:]
    wheel = out["copies"][0]["src"]
    assert os.path.basename(wheel) == "omp_packaged-1.2.0-py3-none-any.whl"
    assert out["requirements"].splitlines()[:2] == ["python-slugify==8.0.4",
                                                    "/opt/omero-stack/wheels/" + os.path.basename(wheel)]
    assert out["plugins"][0]["pip"] == "/opt/omero-stack/wheels/" + os.path.basename(wheel)
    assert sorted(os.listdir(folder)) == [".git", "omp_packaged", "pyproject.toml"]  # built from a copy
    with zipfile.ZipFile(wheel) as archive:
        assert "omp_packaged/urls.py" in archive.namelist()
    # built once: the next run takes the cached build, the same bytes
    cache = tmp_path / "cache" / "omero-docker-stack" / "project-wheels"
    assert len(os.listdir(cache)) == 1
    run, again = _run(tmp_path, plugins, "again.json")
    assert again["copies"] == out["copies"] and len(os.listdir(cache)) == 1


@pytest.mark.skipif(importlib.util.find_spec("hatchling") is not None, reason="hatchling is installed")
def test_a_project_whose_backend_is_not_installed_fails_the_model_naming_it(tmp_path):
    folder = _project(tmp_path / "src" / "omp", backend="hatchling.build")
    run, dummy = _run(tmp_path, [{"name": "omp-packaged", "app": "omp_packaged", "src": str(folder)}])
    assert run.rc != 0
    errors = dict((e["variable"], e["message"]) for t in run.data["plays"][0]["tasks"]
                  for r in t["hosts"].values() for e in r.get("errors", []))
    assert errors["omero_web_plugins[0].src"].startswith(
        "cannot be packaged: %s cannot be built on the controller: the build backend hatchling.build (module "
        "hatchling) its project asks for is not installed beside Ansible" % folder)
