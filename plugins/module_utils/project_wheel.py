# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""An OMERO.web plugin given as a folder WITH packaging, built as a wheel on the controller.

A plugin's ``src`` folder (or git folder at a commit) that is a Python project
(``pyproject.toml``, ``setup.py``, or ``setup.cfg`` with ``[metadata]``: see
app_wheel.project_file) is built with the controller's own Python, offline::

    python -m pip wheel --no-deps --no-build-isolation --no-index --wheel-dir <tmp> <copy>

- a copy of the folder is built (without VCS and cache directories, nor ``build/``,
  ``dist/`` and ``*.egg-info`` left by earlier builds), so the folder is never written to;
- no build isolation and no index: nothing is downloaded, the backend is the one installed
  beside Ansible (setuptools, pinned in requirements/run.txt). A project asking for
  another backend (hatchling, flit_core, poetry-core, ...) is refused before pip runs,
  naming the backend and the fix;
- the built wheel is re-packed deterministically (app_wheel.archive: sorted entries,
  fixed times, RECORD regenerated) and ``SOURCE_DATE_EPOCH`` is fixed, so the same folder
  gives the same bytes, hence the same image tag;
- pins are enforced: every ``Requires-Dist`` must be ``NAME==VERSION`` (an environment
  marker is kept; requirements of extras are left out), and a ``requirements.txt`` in the
  folder must be pinned too; both are returned as ``requires``, the lines the web image's
  requirements.txt gets;
- the wheel must hold the plugin's ``app`` package, be pure Python (``none-any``), and have
  the plugin's ``version`` when one is given;
- the result is cached in the controller cache, keyed by the folder's content and the
  backend's, pip's and Python's versions: an unchanged folder is not built again.
"""

from __future__ import annotations

import email.parser
import hashlib
import importlib.metadata
import importlib.util
import io
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile

from ansible_collections.omero_docker.stack.plugins.module_utils import app_wheel
from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import PluginError, parse_requirement

try:
    import tomllib
except ImportError:  # Python < 3.11: the backend is then not checked before pip runs
    tomllib = None

SOURCE_DATE_EPOCH = 315532800  # 1980-01-01, the earliest time a zip archive holds
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"  # pip's backend for a project without one
FORMAT = "omero_docker.stack project_wheel 1"  # part of the cache key
_OUTPUT_LINES = 15
_EXTRA_RE = re.compile(r"\bextra\s*==")
_OLD_STYLE_RE = re.compile(r"^(?P<name>[^\s(]+)\s*\((?P<spec>[^)]*)\)$")  # name (==1.0)


def _artifact(rel):
    """A file an earlier build left in the folder (not built from, not in the cache key)."""
    parts = rel.split("/")
    return (parts[0] in ("build", "dist") and len(parts) > 1) or any(p.endswith(".egg-info") for p in parts[:-1])


def project_files(directory):
    """[(relative path, absolute path)] of the project folder that are built from, sorted."""
    return [(rel, path) for rel, path in app_wheel.folder_files(directory) if not _artifact(rel)]


def build_backend(directory):
    """(build backend, in-tree) the project asks for: pyproject.toml's [build-system]
    build-backend (in-tree when it gives backend-path), else setuptools' legacy backend."""
    path = os.path.join(directory, "pyproject.toml")
    if tomllib is None or not os.path.isfile(path):
        return LEGACY_BACKEND, False
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PluginError("%s is not valid TOML: %s" % (path, exc)) from exc
    system = data.get("build-system") if isinstance(data.get("build-system"), dict) else {}
    backend = system.get("build-backend") if isinstance(system.get("build-backend"), str) else None
    return backend or LEGACY_BACKEND, bool(system.get("backend-path"))


def _module(backend):
    return backend.split(":", 1)[0].split(".", 1)[0].strip()


def _installed(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _version_of(module):
    """The version of the distribution that installs ``module`` beside Ansible, or ''."""
    names = [module, module.replace("_", "-")]
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    dists = importlib.metadata.packages_distributions().get(module)
    return importlib.metadata.version(dists[0]) if dists else ""


def check_backend(directory):
    """The backend's identity for the cache key; PluginError naming the folder, the backend
    and the fix when it (or pip) is not installed beside Ansible."""
    backend, in_tree = build_backend(directory)
    module = _module(backend)
    fix = ("Build the plugin's wheel yourself (pip wheel --no-deps %s) and give that file as pip instead of src, "
           % directory)
    if not _installed("pip"):
        raise PluginError("%s cannot be built on the controller: pip is not installed beside Ansible (%s). %s"
                          "or install pip there" % (directory, sys.executable, fix))
    if in_tree:  # the backend is in the folder (backend-path): pip reports it if it fails
        return "%s (in-tree)" % backend
    if not _installed(module):
        raise PluginError("%s cannot be built on the controller: the build backend %s (module %s) its project asks "
                          "for is not installed beside Ansible (%s). %sor make the project use setuptools "
                          "([build-system] build-backend = \"setuptools.build_meta\")"
                          % (directory, backend, module, sys.executable, fix))
    return "%s %s" % (backend, _version_of(module))


def _cache_key(files, backend):
    digest = hashlib.sha256()
    for part in (FORMAT, backend, "pip " + _version_of("pip"), "python %d.%d" % sys.version_info[:2]):
        digest.update(part.encode("utf-8") + b"\0")
    for rel, path in files:
        with open(path, "rb") as handle:
            data = handle.read()
        executable = os.stat(path).st_mode & stat.S_IXUSR
        digest.update(("%s\0%d\0%d\0" % (rel, 1 if executable else 0, len(data))).encode("utf-8"))
        digest.update(data)
    return digest.hexdigest()


def _copy(files, dest):
    for rel, path in files:
        target = os.path.join(dest, *rel.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(path, target)
        shutil.copymode(path, target)
    if not any(os.path.isfile(os.path.join(dest, f)) for f in ("pyproject.toml", "setup.py")):
        # setup.cfg alone: pip needs one of them; setuptools reads the rest from setup.cfg
        with open(os.path.join(dest, "setup.py"), "w", encoding="utf-8") as handle:
            handle.write("import setuptools\n\nsetuptools.setup()\n")


def _pip_wheel(directory, files, run):
    """(file name, bytes) of the wheel pip builds from a copy of the project."""
    tmp = tempfile.mkdtemp(prefix="omero-docker-stack-build-")
    try:
        src, out = os.path.join(tmp, "src"), os.path.join(tmp, "wheels")
        os.makedirs(src)
        _copy(files, src)
        argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                "--no-cache-dir", "--disable-pip-version-check", "--no-input", "--wheel-dir", out, src]
        rc, stdout, stderr = run(argv, tmp, {"SOURCE_DATE_EPOCH": str(SOURCE_DATE_EPOCH)})
        built = sorted(n for n in os.listdir(out) if n.endswith(".whl")) if os.path.isdir(out) else []
        if rc != 0 or len(built) != 1:
            lines = [line for line in ("%s\n%s" % (stdout or "", stderr or "")).splitlines() if line.strip()]
            raise PluginError("building the wheel of %s failed (pip wheel, exit %d): %s"
                              % (directory, rc, "\n".join(lines[-_OUTPUT_LINES:]) or "no output"))
        with open(os.path.join(out, built[0]), "rb") as handle:
            return built[0], handle.read()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _dist_info(names, where):
    found = sorted(set(n.split("/", 1)[0] for n in names if re.match(r"^[^/]+\.dist-info/METADATA$", n)))
    if len(found) != 1:
        raise PluginError("the wheel built from %s has %d .dist-info directories" % (where, len(found)))
    return found[0]


def repack(data, where):
    """The built wheel's bytes made deterministic (app_wheel.archive): entries sorted (the
    .dist-info last), fixed times and modes (0644, or 0755 when executable), RECORD anew."""
    with zipfile.ZipFile(io.BytesIO(data)) as built:
        infos = [i for i in built.infolist() if not i.is_dir()]
        dist_info = _dist_info([i.filename for i in infos], where)
        entries = []
        for info in infos:
            if info.filename.startswith(dist_info + "/RECORD"):  # RECORD and its signatures
                continue
            mode = 0o755 if (info.external_attr >> 16) & stat.S_IXUSR else 0o644
            entries.append((info.filename, built.read(info), mode))
    entries.sort(key=lambda e: (e[0].startswith(dist_info + "/"), e[0]))
    return app_wheel.archive(entries, dist_info)


def _cached_build(directory, files, backend, run, cache_dir):
    """(file name, deterministic bytes) of the project's wheel, built once per content."""
    folder = None
    if cache_dir:
        folder = os.path.join(cache_dir, "project-wheels", _cache_key(files, backend)[:32])
        found = sorted(n for n in os.listdir(folder) if n.endswith(".whl")) if os.path.isdir(folder) else []
        if len(found) == 1 and zipfile.is_zipfile(os.path.join(folder, found[0])):
            with open(os.path.join(folder, found[0]), "rb") as handle:
                return found[0], handle.read()
    filename, data = _pip_wheel(directory, files, run)
    data = repack(data, directory)
    if folder:
        os.makedirs(folder, exist_ok=True)
        partial = os.path.join(folder, ".%s.partial-%d" % (filename, os.getpid()))
        with open(partial, "wb") as handle:
            handle.write(data)
        for stale in os.listdir(folder):  # a damaged earlier copy
            if stale.endswith(".whl"):
                os.remove(os.path.join(folder, stale))
        os.rename(partial, os.path.join(folder, filename))
    return filename, data


def pins(requires_dist, where):
    """The pinned requirements of a wheel's Requires-Dist (markers kept, extras' left out),
    or PluginError naming the folder and the requirement."""
    out = []
    for raw in requires_dist:
        spec, dummy, marker = raw.partition(";")
        marker = marker.strip()
        if _EXTRA_RE.search(marker):
            continue
        spec = spec.strip()
        old = _OLD_STYLE_RE.match(spec)
        if old:
            spec = old.group("name") + old.group("spec").strip()
        try:
            req = parse_requirement(spec)
        except PluginError:
            req = None
        if req is None or req["kind"] != "pypi":
            raise PluginError("%s: the project's dependency '%s' is not pinned: each dependency of a plugin "
                              "built from a folder must be NAME==VERSION (ranges, unpinned names and URLs are "
                              "not taken)" % (where, raw.strip()))
        out.append(req["spec"] + ("; " + marker if marker else ""))
    return out


def _check(built, directory, name, app, version):
    """(version, requires) of the built wheel (file name, bytes); PluginError when it cannot
    be the plugin."""
    filename, data = built
    if not re.search(r"-none-any\.whl$", filename):
        raise PluginError("%s builds %s, which is not pure Python (none-any): build the plugin's wheel for "
                          "the OMERO.web image yourself and give that file as pip" % (directory, filename))
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        names = wheel.namelist()
        dist_info = _dist_info(names, directory)
        metadata = email.parser.Parser().parsestr(wheel.read(dist_info + "/METADATA").decode("utf-8"),
                                                  headersonly=True)
    package = app.replace(".", "/") + "/"
    if not any(n.startswith(package) for n in names):
        raise PluginError("the wheel built from %s (%s, plugin %s) has no package %s (no %s__init__.py): app "
                          "must be the Django app's package the project installs"
                          % (directory, filename, name, app, package))
    declared = str(metadata.get("Version") or "")
    if version is not None and str(version).strip().lower() != declared.lower():
        raise PluginError("version %s is given for the plugin, but the project in %s declares version %s: "
                          "give %s or leave version out" % (version, directory, declared, declared))
    return declared, pins(metadata.get_all("Requires-Dist") or [], directory)


def build_project(directory, name, app, version, run, *, cache_dir=None):
    """The wheel of the Python project in ``directory`` for the plugin ``name`` (package ``app``):
    ``{"filename", "data", "sha256", "version", "requires"}`` as app_wheel.pack returns.
    ``run(argv, cwd, env)`` runs a command (``env``: variables added) and returns
    (rc, stdout, stderr); ``cache_dir``: the controller cache (None: always build).
    Raises PluginError naming the folder for a project that cannot be used."""
    if not os.path.isdir(directory):
        raise PluginError("%s is not a directory" % directory)
    backend = check_backend(directory)
    files = project_files(directory)
    filename, data = _cached_build(directory, files, backend, run, cache_dir)
    declared, requires = _check((filename, data), directory, name, app, version)
    req_file = os.path.join(directory, "requirements.txt")
    if os.path.isfile(req_file):
        with open(req_file, encoding="utf-8") as handle:
            text = handle.read()
        requires += [r for r in app_wheel.requirements(text, os.path.join(os.path.basename(directory),
                                                                          "requirements.txt"))
                     if r not in requires]
    return {"filename": filename, "data": data, "sha256": hashlib.sha256(data).hexdigest(),
            "version": declared, "requires": requires}


def folder_wheel(directory, name, app, version, run, *, cache_dir=None):
    """The wheel of a plugin's ``src`` folder: built by its backend when it is a Python project
    (build_project), else packaged as a plain app folder (app_wheel.pack)."""
    if os.path.isdir(directory) and app_wheel.project_file(directory):
        return build_project(directory, name, app, version, run, cache_dir=cache_dir)
    return app_wheel.pack(directory, name, app, version)
