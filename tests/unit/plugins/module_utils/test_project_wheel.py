"""Plugin folders WITH packaging built as wheels on the controller (module_utils/project_wheel.py),
issue 17: really built by pip and setuptools of the test virtualenv (offline, no build isolation)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import re
import zipfile

import pytest
from ansible_collections.omero_docker.stack.plugins.action.site_model import ActionModule
from ansible_collections.omero_docker.stack.plugins.module_utils import app_wheel, project_wheel
from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import PluginError, parse_requirement

from tests.helpers.plugin_project import project

RUN = ActionModule._run_local  # the action plugin's own runner


def tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, dirs, files in os.walk(root) for f in files + dirs)


def no_build(argv, cwd, env=None):
    raise AssertionError("built: %s" % argv)


def test_a_setuptools_project_is_built_with_its_pins(tmp_path):
    folder = project(tmp_path / "omp", requirements="redis==6.4.0\n# a comment\n")
    before = tree(folder)
    packed = project_wheel.build_project(str(folder), "omp-packaged", "omp_packaged", None, RUN)
    assert tree(folder) == before  # no build/, no egg-info in the user's folder
    assert packed["filename"] == "omp_packaged-1.2.0-py3-none-any.whl" and packed["version"] == "1.2.0"
    # the dependencies (a marker kept, the extra's left out), then requirements.txt's
    assert packed["requires"] == ["python-slugify==8.0.4", 'tomli==2.0.1; python_version < "3.11"', "redis==6.4.0"]
    assert packed["sha256"] == hashlib.sha256(packed["data"]).hexdigest()
    path = tmp_path / packed["filename"]
    path.write_bytes(packed["data"])
    assert parse_requirement(str(path))["name"] == "omp-packaged"
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        record = archive.read("omp_packaged-1.2.0.dist-info/RECORD").decode().splitlines()
        contents = dict((n, archive.read(n)) for n in names)
    assert {"omp_packaged/__init__.py", "omp_packaged/templates/omp_packaged/index.html"} <= set(names)
    assert names[-1] == "omp_packaged-1.2.0.dist-info/RECORD"
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) and i.compress_type == zipfile.ZIP_STORED for i in infos)
    for line in record:
        name, digest, size = line.rsplit(",", 2)
        if not name.endswith("/RECORD"):
            data = contents[name]
            assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert int(size) == len(data)
    assert sorted(line.rsplit(",", 2)[0] for line in record) == sorted(names)


def test_building_twice_gives_the_same_bytes_and_a_cache_hit_builds_nothing(tmp_path):
    folder = project(tmp_path / "omp")
    one = project_wheel.build_project(str(folder), "omp-packaged", "omp_packaged", "1.2.0", RUN)
    two = project_wheel.build_project(str(folder), "omp-packaged", "omp_packaged", "1.2.0", RUN)
    elsewhere = project(tmp_path / "b" / "other_name")
    three = project_wheel.build_project(str(elsewhere), "omp-packaged", "omp_packaged", "1.2.0", RUN)
    assert one["data"] == two["data"] == three["data"]
    cache = str(tmp_path / "cache")
    cached = project_wheel.build_project(str(folder), "omp-packaged", "omp_packaged", None, RUN, cache_dir=cache)
    assert cached["data"] == one["data"]
    # an earlier build's leftovers in the folder change nothing
    (folder / "build" / "lib").mkdir(parents=True)
    (folder / "build" / "lib" / "stale.py").write_text("stale = 1\n")
    assert project_wheel.build_project(str(folder), "omp-packaged", "omp_packaged", None, no_build,
                                       cache_dir=cache)["data"] == one["data"]
    assert len(os.listdir(os.path.join(cache, "project-wheels"))) == 1
    # a damaged cached wheel is built again
    (built,) = (tmp_path / "cache" / "project-wheels").glob("*/*.whl")
    built.write_bytes(b"not a zip")
    again = project_wheel.build_project(str(folder), "omp-packaged", "omp_packaged", None, RUN, cache_dir=cache)
    assert again["data"] == one["data"] and built.read_bytes() == one["data"]
    (folder / "omp_packaged" / "views.py").write_text("x = 1\n")
    changed = project_wheel.build_project(str(folder), "omp-packaged", "omp_packaged", None, RUN, cache_dir=cache)
    assert changed["sha256"] != one["sha256"]
    with zipfile.ZipFile(app_wheel.write_wheel(changed, cache)) as archive:
        assert archive.read("omp_packaged/views.py") == b"x = 1\n"
        assert "stale.py" not in str(archive.namelist())


def test_an_unpinned_dependency_is_refused_naming_it(tmp_path):
    folder = project(tmp_path / "omp", deps=('"python-slugify==8.0.4"', '"humanize>=4"'))
    with pytest.raises(PluginError, match=re.escape("%s: the project's dependency 'humanize>=4' is not pinned"
                                                    % folder)):
        project_wheel.build_project(str(folder), "omp-packaged", "omp_packaged", None, RUN)
    folder = project(tmp_path / "url", deps=('"slugify @ https://example.org/s.tar.gz"',))
    with pytest.raises(PluginError, match="dependency 'slugify@ https://example.org/s.tar.gz' is not pinned"
                       "|dependency 'slugify @ https://example.org/s.tar.gz' is not pinned"):
        project_wheel.build_project(str(folder), "omp-packaged", "omp_packaged", None, RUN)
    folder = project(tmp_path / "req", requirements="celery>=5\n")
    with pytest.raises(PluginError, match=re.escape("req/requirements.txt line 1: 'celery>=5' is not pinned")):
        project_wheel.build_project(str(folder), "omp-packaged", "omp_packaged", None, RUN)


@pytest.mark.skipif(importlib.util.find_spec("hatchling") is not None, reason="hatchling is installed")
def test_a_backend_not_installed_is_refused_before_building(tmp_path):
    folder = project(tmp_path / "omp", backend="hatchling.build")
    with pytest.raises(PluginError) as info:
        project_wheel.build_project(str(folder), "omp-packaged", "omp_packaged", None, no_build)
    message = str(info.value)
    assert message.startswith("%s cannot be built on the controller: the build backend hatchling.build "
                              "(module hatchling)" % folder)
    assert "give that file as pip" in message and 'build-backend = "setuptools.build_meta"' in message


def test_a_failing_build_reports_pips_output(tmp_path):
    folder = tmp_path / "omp"
    (folder / "omp").mkdir(parents=True)
    (folder / "omp" / "__init__.py").write_text("")
    (folder / "setup.py").write_text("raise SystemExit('the setup script says no')\n")
    with pytest.raises(PluginError, match=r"(?s)building the wheel of %s failed \(pip wheel, exit 1\): "
                                          r".*the setup script says no" % re.escape(str(folder))):
        project_wheel.build_project(str(folder), "omp", "omp", None, RUN)


def test_the_app_must_be_in_the_wheel_and_the_version_the_projects(tmp_path):
    folder = project(tmp_path / "omp")
    with pytest.raises(PluginError, match=re.escape("(omp_packaged-1.2.0-py3-none-any.whl, plugin omp-packaged) "
                                                    "has no package omp_other")):
        project_wheel.build_project(str(folder), "omp-packaged", "omp_other", None, RUN)
    with pytest.raises(PluginError, match=re.escape("version 1.3.0 is given for the plugin, but the project in %s "
                                                    "declares version 1.2.0" % folder)):
        project_wheel.build_project(str(folder), "omp-packaged", "omp_packaged", "1.3.0", RUN)


def test_setup_py_and_setup_cfg_projects_build(tmp_path):
    folder = tmp_path / "legacy"
    (folder / "omp_legacy").mkdir(parents=True)
    (folder / "omp_legacy" / "__init__.py").write_text("")
    (folder / "setup.py").write_text("from setuptools import setup\n\nsetup(name='omp-legacy', version='0.3.1', "
                                     "packages=['omp_legacy'], install_requires=['python-slugify==8.0.4'])\n")
    assert app_wheel.project_file(str(folder)) == "setup.py"
    packed = project_wheel.folder_wheel(str(folder), "omp-legacy", "omp_legacy", None, RUN)
    assert packed["filename"] == "omp_legacy-0.3.1-py3-none-any.whl"
    assert packed["requires"] == ["python-slugify==8.0.4"]
    assert not (folder / "build").exists() and not list(folder.glob("*.egg-info"))
    (folder / "setup.py").unlink()
    (folder / "setup.cfg").write_text("[metadata]\nname = omp-legacy\nversion = 0.3.2\n\n[options]\n"
                                      "packages = omp_legacy\n")
    assert app_wheel.project_file(str(folder)) == "setup.cfg"
    packed = project_wheel.folder_wheel(str(folder), "omp-legacy", "omp_legacy", "0.3.2", RUN)
    assert packed["filename"] == "omp_legacy-0.3.2-py3-none-any.whl" and packed["requires"] == []
    assert tree(folder) == ["omp_legacy", "omp_legacy/__init__.py", "setup.cfg"]


def test_a_plain_folder_is_packaged_as_before(tmp_path):
    folder = tmp_path / "omp_plain"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "setup.cfg").write_text("[flake8]\nmax-line-length = 120\n")  # no [metadata]: not a project
    assert app_wheel.project_file(str(folder)) is None
    packed = project_wheel.folder_wheel(str(folder), "omp-plain", "omp_plain", None, no_build)
    assert packed == app_wheel.pack(str(folder), "omp-plain", "omp_plain")
