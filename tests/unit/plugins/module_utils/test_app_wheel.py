"""Plain Django app folders packaged as wheels (module_utils/app_wheel.py), issue 17."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import zipfile

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils import app_wheel
from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import PluginError, parse_requirement


def app_folder(root, requirements="Django-Celery-Beat==2.8.1\n# a comment\n\nredis==6.4.0  # broker\n"):
    """A folder shaped like the reference stack's plugins: package files, templates, requirements."""
    (root / "templates" / "upload").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "urls.py").write_text("urlpatterns = []\n")
    (root / "templates" / "upload" / "index.html").write_text("<p>upload</p>\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "urls.cpython-313.pyc").write_bytes(b"\0compiled")
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    return root


def test_the_folder_becomes_the_app_package_with_its_pins(tmp_path):
    packed = app_wheel.pack(str(app_folder(tmp_path / "omeroweb_upload")), "omeroweb-upload", "omeroweb_upload")
    assert packed["requires"] == ["Django-Celery-Beat==2.8.1", "redis==6.4.0"]
    assert packed["version"].startswith("0+src.") and len(packed["version"]) == len("0+src.") + 12
    assert packed["filename"] == "omeroweb_upload-%s-py3-none-any.whl" % packed["version"]
    path = tmp_path / packed["filename"]
    path.write_bytes(packed["data"])
    # a wheel file name the collection's pip requirements parser takes as this distribution
    assert parse_requirement(str(path))["name"] == "omeroweb-upload"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        dist_info = "omeroweb_upload-%s.dist-info" % packed["version"]
        metadata = archive.read(dist_info + "/METADATA").decode()
        record = archive.read(dist_info + "/RECORD").decode().splitlines()
        contents = dict((n, archive.read(n)) for n in names)
    assert "omeroweb_upload/urls.py" in names and "omeroweb_upload/templates/upload/index.html" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert "Requires-Dist: redis==6.4.0" in metadata.splitlines() and "Name: omeroweb-upload" in metadata
    # RECORD lists every other file with its hash, as pip checks
    for line in record:
        name, digest, size = line.rsplit(",", 2)
        if name.endswith("/RECORD"):
            continue
        data = contents[name]
        assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert int(size) == len(data)
    assert sorted(line.rsplit(",", 2)[0] for line in record) == sorted(names)


def test_the_same_content_gives_the_same_bytes_anywhere(tmp_path):
    one = app_wheel.pack(str(app_folder(tmp_path / "a" / "omeroweb_upload")), "omeroweb-upload", "omeroweb_upload")
    two = app_wheel.pack(str(app_folder(tmp_path / "b" / "elsewhere")), "omeroweb-upload", "omeroweb_upload")
    assert one["data"] == two["data"] and one["sha256"] == two["sha256"]
    (tmp_path / "b" / "elsewhere" / "views.py").write_text("x = 1\n")
    three = app_wheel.pack(str(tmp_path / "b" / "elsewhere"), "omeroweb-upload", "omeroweb_upload")
    assert three["version"] != one["version"] and three["sha256"] != one["sha256"]
    given = app_wheel.pack(str(tmp_path / "b" / "elsewhere"), "omeroweb-upload", "omeroweb_upload", "1.4.0")
    assert given["version"] == "1.4.0" and given["filename"] == "omeroweb_upload-1.4.0-py3-none-any.whl"


UNPINNED = [("celery>=5", 2), ("-r other.txt", 2), ("git+https://x/y", 2), ("--index-url https://example.org", 2),
            ("celery", 2)]


@pytest.mark.parametrize(("line", "number"), UNPINNED)
def test_an_unpinned_requirement_is_refused_naming_its_line(tmp_path, line, number):
    folder = app_folder(tmp_path / "omp", requirements="redis==6.4.0\n%s\n" % line)
    expected = "omp/requirements.txt line %d: '%s' is not pinned" % (number, line)
    with pytest.raises(PluginError, match=re.escape(expected)):
        app_wheel.pack(str(folder), "omp", "omp")


PROJECT_MARKERS = [("pyproject.toml", ""), ("setup.py", ""), ("setup.cfg", "[metadata]\nname = omp\n")]


@pytest.mark.parametrize(("marker", "content"), PROJECT_MARKERS)
def test_a_python_project_is_not_a_plain_app_folder(tmp_path, marker, content):
    folder = app_folder(tmp_path / "omp", requirements=None)
    (folder / marker).write_text(content)
    with pytest.raises(PluginError, match="%s: it is a Python project, built by its backend" % marker):
        app_wheel.pack(str(folder), "omp", "omp")


def test_a_folder_without_init_or_with_a_bad_version_is_refused(tmp_path):
    folder = app_folder(tmp_path / "omp", requirements=None)
    with pytest.raises(PluginError, match="version 'latest'"):
        app_wheel.pack(str(folder), "omp", "omp", "latest")
    (folder / "__init__.py").unlink()
    with pytest.raises(PluginError, match="has no __init__.py"):
        app_wheel.pack(str(folder), "omp", "omp")


@pytest.mark.parametrize(("src", "fragment"), [
    ("", "must not be empty"),
    (["x"], "must be a directory on the controller"),
    ({"git": "https://example.org/r.git", "commit": "main"}, "40-hex"),
    ({"git": "not a url", "commit": "a" * 40}, "repository's URL"),
    ({"git": "https://example.org/r.git", "commit": "a" * 40, "path": "../x"}, "no '..'"),
    ({"git": "https://example.org/r.git", "commit": "a" * 40, "ref": "x"}, "unknown setting ref"),
])
def test_src_problems(src, fragment):
    assert fragment in app_wheel.src_problem(src)


def test_src_keys():
    assert app_wheel.src_key("plugins/omp") == "plugins/omp"
    src = {"git": "https://example.org/r.git", "commit": "a" * 40, "path": "/omp/"}
    assert app_wheel.src_key(src) == "git+https://example.org/r.git@%s#omp" % ("a" * 40)
    assert app_wheel.src_problem({"git": "git@example.org:lab/r.git", "commit": "a" * 40}) is None


def _git(*args, cwd):
    return subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()


def _run(argv, cwd):
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def test_a_git_subdirectory_at_a_commit_is_fetched_once(tmp_path):
    repo = tmp_path / "repo"
    app_folder(repo / "omeroweb_upload", requirements="redis==6.4.0\n")
    _git("init", "-q", cwd=tmp_path / "repo")
    _git("add", ".", cwd=repo)
    _git("commit", "-qm", "one", cwd=repo)
    first = _git("rev-parse", "HEAD", cwd=repo)
    (repo / "omeroweb_upload" / "views.py").write_text("changed = True\n")
    _git("add", ".", cwd=repo)
    _git("commit", "-qm", "two", cwd=repo)
    cache = tmp_path / "cache"
    src = {"git": "file://%s" % repo, "commit": first, "path": "omeroweb_upload"}
    folder = app_wheel.git_checkout(src, str(cache), _run)
    assert len(list((cache / "git").iterdir())) == 1
    packed = app_wheel.pack(folder, "omeroweb-upload", "omeroweb_upload")
    with zipfile.ZipFile(app_wheel.write_wheel(packed, str(cache))) as archive:
        assert "omeroweb_upload/views.py" not in archive.namelist()  # the older commit
        assert not [n for n in archive.namelist() if ".omero-docker-stack" in n]

    def no_network(argv, cwd):
        raise AssertionError("fetched again: %s" % argv)

    assert app_wheel.git_checkout(src, str(cache), no_network) == folder
    with pytest.raises(PluginError, match="has no folder 'nope'"):
        app_wheel.git_checkout(dict(src, path="nope"), str(cache), _run)
    with pytest.raises(PluginError, match="git fetch failed"):
        app_wheel.git_checkout(dict(src, commit="b" * 40), str(cache), _run)
    assert not [p for p in (cache / "git").iterdir() if ".partial" in p.name]
