# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""An OMERO.web plugin shipped as a plain Django app folder, packaged as a wheel.

Facilities' own plugins often are a folder (``__init__.py``, ``urls.py``, templates,
static files, a ``requirements.txt``) copied into OMERO.web's site-packages, with no
``setup.py`` or ``pyproject.toml``. The collection installs plugins with pip only (so
they are versioned, listed by ``pip``, removable, and checked by the omero_web_plugins
module), so such a folder is packaged here, on the controller, as a pure-Python wheel:

- the folder becomes the package named by the plugin's ``app`` (its files as they are,
  without ``__pycache__``, compiled files and VCS directories);
- its ``requirements.txt`` becomes the wheel's ``Requires-Dist`` and lines of the site
  image's requirements: every line must be pinned (``NAME==VERSION``), else the site
  model refuses the plugin naming the line;
- the version is the plugin's ``version`` or ``0+src.<12 hex of the content>``, so a
  changed folder is a new version (pip replaces it) and an unchanged one the same wheel;
- the archive is deterministic (sorted entries, fixed times, stored uncompressed): the
  same folder gives the same bytes, hence the same image tag, on any controller.

No build backend runs for such a folder: a wheel is a zip with a ``.dist-info`` directory
(the binary distribution format of the Python packaging specifications). A folder that is a
Python project (``pyproject.toml``, ``setup.py``, or ``setup.cfg`` with ``[metadata]``, see
``project_file``) is built by its own backend instead (module_utils/project_wheel.py), with
the same pins enforced and the same deterministic archive (``archive``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import stat
import zipfile

from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import (
    PluginError,
    canonical_name,
    parse_requirement,
)

# Files that are never part of a packaged app.
_SKIP_DIRS = frozenset(("__pycache__", ".git", ".hg", ".svn", ".pytest_cache", ".mypy_cache", ".tox"))
_SKIP_FILE_RE = re.compile(r"\.py[co]$|^\.DS_Store$|^\.omero-docker-stack-complete$")
# Files that make a folder a Python project (setup.cfg only with a [metadata] section):
# built by its backend (project_wheel.py), not packaged as a plain app folder.
PACKAGING_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
_METADATA_SECTION_RE = re.compile(r"^\[metadata\]\s*$", re.M)
_VERSION_RE = re.compile(r"^[0-9]+(\.[0-9]+)*([ab]|rc)?[0-9]*(\.post[0-9]+)?(\.dev[0-9]+)?"
                         r"(\+[A-Za-z0-9]+(\.[A-Za-z0-9]+)*)?$")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
GENERATOR = "omero_docker.stack app_wheel 1"


def folder_files(directory):
    """[(relative path, absolute path)] of the folder, sorted, without skipped files."""
    out = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            if _SKIP_FILE_RE.search(name):
                continue
            path = os.path.join(dirpath, name)
            if os.path.islink(path) and not os.path.exists(path):
                raise PluginError("%s is a broken symbolic link" % path)
            out.append((os.path.relpath(path, directory).replace(os.sep, "/"), path))
    return out


def requirements(text, where="requirements.txt"):
    """The pinned requirements of an app's requirements.txt, or PluginError naming the line."""
    pins = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        try:
            req = parse_requirement(line)
        except PluginError:
            req = None
        if req is None or req["kind"] != "pypi":
            raise PluginError("%s line %d: '%s' is not pinned: each requirement of a packaged app must be "
                              "NAME==VERSION (options, ranges and URLs are not taken)" % (where, number, line))
        pins.append(req["spec"])
    return pins


def project_file(directory):
    """The file that makes ``directory`` a Python project, or None (a plain app folder)."""
    for name in PACKAGING_FILES:
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        if name != "setup.cfg":
            return name
        with open(path, encoding="utf-8", errors="replace") as handle:
            if _METADATA_SECTION_RE.search(handle.read()):
                return name
    return None


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "%s,sha256=%s,%d" % (name, digest, len(data))


def _content_digest(entries):
    digest = hashlib.sha256()
    for name, data, mode in entries:
        digest.update(("%s\0%o\0%d\0" % (name, mode, len(data))).encode("utf-8"))
        digest.update(data)
    return digest.hexdigest()


def pack(directory, name, app, version=None):
    """Package the app folder ``directory`` as distribution ``name`` holding package ``app``.

    Returns ``{"filename", "data", "sha256", "version", "requires"}``; raises PluginError
    (the message names the folder's file) for a folder that cannot be packaged.
    """
    if not os.path.isdir(directory):
        raise PluginError("%s is not a directory" % directory)
    present = project_file(directory)
    if present:
        raise PluginError("%s has %s: it is a Python project, built by its backend (project_wheel), "
                          "not packaged as a plain app folder" % (directory, present))
    if not os.path.isfile(os.path.join(directory, "__init__.py")):
        raise PluginError("%s has no __init__.py: a plain app folder is the Django app's package" % directory)
    if version is not None and (not isinstance(version, str) or not _VERSION_RE.match(version)):
        raise PluginError("version '%s' is not a version pip takes (e.g. 1.2.0)" % (version,))
    requires = []
    req_file = os.path.join(directory, "requirements.txt")
    if os.path.isfile(req_file):
        with open(req_file, encoding="utf-8") as handle:
            requires = requirements(handle.read(), os.path.join(os.path.basename(directory), "requirements.txt"))
    package = app.replace(".", "/")
    entries = []
    for rel, path in folder_files(directory):
        with open(path, "rb") as handle:
            data = handle.read()
        mode = 0o755 if os.stat(path).st_mode & stat.S_IXUSR else 0o644
        entries.append(("%s/%s" % (package, rel), data, mode))
    version = version or "0+src." + _content_digest(entries)[:12]
    stem = "%s-%s" % (re.sub(r"[-_.]+", "_", canonical_name(name)), version)
    dist_info = stem + ".dist-info"
    metadata = ["Metadata-Version: 2.1", "Name: %s" % canonical_name(name), "Version: %s" % version,
                "Summary: %s, packaged from a plain app folder by omero_docker.stack" % app]
    metadata += ["Requires-Dist: %s" % r for r in requires]
    meta_files = [
        (dist_info + "/METADATA", ("\n".join(metadata) + "\n").encode("utf-8")),
        (dist_info + "/WHEEL", ("Wheel-Version: 1.0\nGenerator: %s\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                                % GENERATOR).encode("utf-8")),
        (dist_info + "/top_level.txt", (package.split("/")[0] + "\n").encode("utf-8")),
    ]
    entries += [(n, d, 0o644) for n, d in meta_files]
    data = archive(entries, dist_info)
    return {"filename": stem + "-py3-none-any.whl", "data": data, "sha256": hashlib.sha256(data).hexdigest(),
            "version": version, "requires": requires}


def archive(entries, dist_info):
    """The bytes of a deterministic wheel of ``entries`` ([(name, data, mode)], in that order)
    with ``<dist_info>/RECORD`` listing them, appended last: fixed times, stored uncompressed."""
    record = [_record_line(n, d) for n, d, dummy in entries] + [dist_info + "/RECORD,,"]
    entries = list(entries) + [(dist_info + "/RECORD", ("\n".join(record) + "\n").encode("utf-8"), 0o644)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        for entry_name, data, mode in entries:
            info = zipfile.ZipInfo(entry_name, date_time=_FIXED_TIME)
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.create_system = 3  # Unix, so the mode is read
            out.writestr(info, data)
    return buf.getvalue()


_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
GIT_KEYS = frozenset(("git", "commit", "path"))
_GIT_URL_RE = re.compile(r"^(https?|ssh|git|file)://\S+$|^[^\s:@]+@[^\s:]+:\S+$")


def src_key(src):
    """The key of a plugin's ``src`` among the controller's local files (None: unusable):
    a directory path as given, or ``git+<url>@<commit>#<path>`` for a git subdirectory."""
    if isinstance(src, str) and src:
        return src
    if isinstance(src, dict) and isinstance(src.get("git"), str) and isinstance(src.get("commit"), str):
        return "git+%s@%s#%s" % (src["git"], src["commit"], str(src.get("path") or "").strip("/"))
    return None


def _git_problem(src):
    unknown = sorted(set(src) - GIT_KEYS, key=str)
    problem = None
    if unknown:
        problem = "unknown setting %s; one of: %s" % (unknown[0], ", ".join(sorted(GIT_KEYS)))
    elif not isinstance(src.get("git"), str) or not _GIT_URL_RE.match(src["git"]):
        problem = "git must be the repository's URL (https://, ssh://, file:// or user@host:path)"
    elif not isinstance(src.get("commit"), str) or not _COMMIT_RE.match(src["commit"]):
        problem = "commit must be a full 40-hex commit (a branch or tag moves)"
    path = src.get("path")
    if not problem and path is not None and (not isinstance(path, str) or path.startswith("/")
                                             or ".." in path.split("/")):
        problem = "path must be a folder relative to the repository's top (no '..')"
    return problem


def src_problem(src):
    """Why ``src`` cannot name a plain app folder, or None (its existence is checked on the controller)."""
    if isinstance(src, str):
        return None if src else "must not be empty"
    if not isinstance(src, dict):
        return ("must be a directory on the controller (the play's files/ or an absolute path) or "
                "{git: URL, commit: <40 hex>, path: <folder in the repository>}")
    return _git_problem(src)


def controller_cache():
    """Where the controller keeps packaged app wheels and fetched git commits."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "omero-docker-stack")


def _fetch(src, partial, run):
    """``src``'s commit checked out in the new directory ``partial`` (shallow: that commit only)."""
    steps = [(["git", "init", "--quiet", partial], None),
             (["git", "fetch", "--quiet", "--depth", "1", src["git"], src["commit"]], partial),
             (["git", "-c", "advice.detachedHead=false", "checkout", "--quiet", "FETCH_HEAD"], partial)]
    for argv, cwd in steps:
        rc, dummy, err = run(argv, cwd)
        if rc != 0:
            raise PluginError("%s failed: %s" % (" ".join(argv[:2]), (err or "").strip() or "exit %d" % rc))
    rc, head, dummy = run(["git", "rev-parse", "HEAD"], partial)
    if rc != 0 or head.strip() != src["commit"]:
        raise PluginError("the fetched commit is %s, not %s" % (head.strip(), src["commit"]))
    with open(os.path.join(partial, ".omero-docker-stack-complete"), "w"):
        pass


def git_checkout(src, cache_dir, run):
    """The folder ``src['path']`` of the repository ``src['git']`` at ``src['commit']``, fetched once
    into ``cache_dir`` (a commit never changes). ``run(argv, cwd)`` runs a command and returns
    (rc, stdout, stderr). Raises PluginError with git's message."""
    key = hashlib.sha256(("%s\0%s" % (src["git"], src["commit"])).encode("utf-8")).hexdigest()[:24]
    tree = os.path.join(cache_dir, "git", key)
    if not os.path.isfile(os.path.join(tree, ".omero-docker-stack-complete")):
        os.makedirs(os.path.dirname(tree), exist_ok=True)
        partial = tree + ".partial-%d" % os.getpid()
        try:
            _fetch(src, partial, run)
            if not os.path.isdir(tree):  # else another run finished it first
                os.rename(partial, tree)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    folder = os.path.normpath(os.path.join(tree, src.get("path") or "."))
    if not os.path.isdir(folder):
        raise PluginError("the repository has no folder '%s' at %s" % (src.get("path") or ".", src["commit"]))
    return folder


def write_wheel(packed, cache_dir):
    """The packaged (or built) wheel as a file of the controller cache (content-addressed); its path."""
    directory = os.path.join(cache_dir, "app-wheels", packed["sha256"][:24])
    path = os.path.join(directory, packed["filename"])
    if not os.path.isfile(path):
        os.makedirs(directory, exist_ok=True)
        partial = "%s.partial-%d" % (path, os.getpid())
        with open(partial, "wb") as handle:
            handle.write(packed["data"])
        os.rename(partial, path)
    return path
