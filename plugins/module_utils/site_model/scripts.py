# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Site scripts: their server paths and the script folders kept on the host.

OMERO.server keeps registered scripts as files under ``lib/scripts`` and, at start,
unregisters those whose file is gone. The container's writable layer does not survive a
recreation, so every folder holding site scripts is a host directory (owned by the
server's uid) mounted at ``lib/scripts/<folder>``: the files, and so the script IDs,
survive. The folders are the parent directories of the site scripts of ``omero_scripts``
(entries with ``src``, ``content`` or ``url``; official ones come with ``pip``), plus the
site's ``omero_script_folders``, without folders nested in another one. A folder may not
shadow the official scripts the image ships.

Server paths follow the omero_script module (module_utils/omero_plan.py): ``/`` first, no
``..``, and ``.py`` at the end (OMERO lists only such files). Each entry has one source:
``src`` (a file on the controller, read by the action plugin), ``content``, ``url`` with a
``checksum`` the module accepts, or ``pip: omero-scripts==<version>`` (one version for all).

:func:`bootstrap_scripts` gives what the omero_bootstrap role passes to the omero_script
module: ``{official, official_version, site}``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re

from ansible_collections.omero_docker.stack.plugins.module_utils import omero_plan
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import err, named_list

# The official scripts of the OMERO.server image (omero-scripts), under lib/scripts.
OFFICIAL_ROOT = "/omero"
OFFICIAL_FOLDERS = tuple(OFFICIAL_ROOT + "/" + f for f in (
    "analysis_scripts", "export_scripts", "figure_scripts", "import_scripts", "util_scripts"))
SITE_SOURCES = ("src", "content", "url")
OFFICIAL_PIN_RE = re.compile(r"^omero-scripts==(?P<version>[0-9][0-9A-Za-z.+-]*)$")


def is_site_script(entry):
    """An entry whose file the site provides (not an official script from pip)."""
    return isinstance(entry, dict) and not entry.get("pip") and any(entry.get(k) for k in SITE_SOURCES)


def _path_problem(path, what):
    if not isinstance(path, str) or not path.startswith("/"):
        return "%s '%s' must start with '/' (a server path like /facility/Measure.py)" % (what, path)
    try:
        normal = omero_plan.normalize_script_path(path)
    except omero_plan.PlanError as exc:
        return str(exc)
    if normal != path:
        return "%s '%s' must be normalised (no '//', '.', or trailing '/'): %s" % (what, path, normal)
    return None


def folder_problem(folder, what="script folder"):
    """Why ``folder`` cannot be a host-mounted script folder, or None."""
    problem = _path_problem(folder, what)
    if problem:
        return problem
    if folder == OFFICIAL_ROOT or folder in OFFICIAL_FOLDERS:
        official = ", ".join(OFFICIAL_FOLDERS)
        return ("%s '%s' would hide the official scripts of the image (%s and its folders %s): use a folder "
                "of your own, e.g. /facility or %s/facility" % (what, folder, OFFICIAL_ROOT, official, OFFICIAL_ROOT))
    return None


def script_problem(name):
    """Why ``name`` is not a site script's server path, or None."""
    problem = _path_problem(name, "script path")
    if problem:
        return problem
    try:
        omero_plan.require_script_file(name)
    except omero_plan.PlanError as exc:
        return str(exc)
    folder = posixpath.dirname(name)
    if folder == "/":
        return "script path '%s' must be inside a folder (e.g. /facility/%s)" % (name, name.lstrip("/"))
    problem = folder_problem(folder, "the folder of script path '%s'" % name)
    return problem


def _outermost(folders):
    result = []
    for folder in sorted(set(folders)):
        if not any(folder == f or folder.startswith(f + "/") for f in result):
            result.append(folder)
    return result


def script_folders(scripts, folders, errors):
    """Check site script names and ``omero_script_folders``; return the folders to mount
    (server paths like ``/facility``, sorted, none inside another)."""
    found = []
    for i, entry in enumerate(scripts):
        if not is_site_script(entry):
            continue
        problem = script_problem(entry.get("name"))
        if problem:
            errors.append(("omero_scripts[%d].name" % i, problem))
        else:
            found.append(posixpath.dirname(entry["name"]))
    for i, folder in enumerate(folders if isinstance(folders, list) else []):
        problem = folder_problem(folder)
        if problem:
            errors.append(("omero_script_folders[%d]" % i, problem))
        else:
            found.append(folder)
    return _outermost(found)


def _source_problems(i, item, pins):
    """``(variable, message)`` of one entry's source; the versions of official pins go to ``pins``."""
    var = "omero_scripts[%d]" % i
    if item.get("git"):
        return [(var + ".git", "git sources are not registered: pin a release (pip) or a file (src, content, "
                               "or url with checksum) instead")]
    given = [k for k in SITE_SOURCES + ("pip",) if item.get(k)]
    if not given:
        return [(var, "needs one of src, content, url or pip to say where the script comes from")]
    if len(given) > 1:
        return [(var, "gives %s: give one source (src, content, url with checksum, or pip)" % " and ".join(given))]
    return _one_source_problems(var, given[0], item, pins)


def _one_source_problems(var, source, item, pins):
    if source == "pip":
        pin = OFFICIAL_PIN_RE.match(item["pip"]) if isinstance(item["pip"], str) else None
        if not pin:
            return [(var + ".pip", "'%s' is not a pinned omero-scripts release: official scripts come from "
                                   "pip: omero-scripts==<version> (e.g. omero-scripts==5.10.0)" % (item["pip"],))]
        pins.setdefault(pin.group("version"), var + ".pip")
    elif source == "url":
        try:
            omero_plan.parse_checksum(item.get("checksum") if isinstance(item.get("checksum"), str) else None)
        except omero_plan.PlanError as exc:
            return [(var + ".checksum", "a url needs the checksum of the file: %s" % exc)]
    elif source == "content" and not isinstance(item["content"], str):
        return [(var + ".content", "must be the script's text")]
    return []


def site_scripts(site, errors):
    """``(scripts, script folders)`` of omero_scripts and omero_script_folders, each entry checked."""
    scripts = named_list(site.get("omero_scripts"), "omero_scripts", errors, required=("name",))
    pins = {}
    for i, item in enumerate(scripts):
        if isinstance(item, dict):
            errors.extend(_source_problems(i, item, pins))
    if len(pins) > 1:
        err(errors, list(pins.values())[1], "official scripts come from one omero-scripts release, not %s: "
                                            "pin the same version everywhere" % ", ".join(sorted(pins)))
    folders = site.get("omero_script_folders") or []
    return scripts, script_folders(scripts, folders, errors)


def bootstrap_scripts(scripts, local_files):
    """The checked omero_scripts as the omero_script module takes them.

    ``official``: the patterns of the ``pip`` entries; ``official_version``: their pinned
    omero-scripts release, or None (the role's default); ``site``: ``{path, content}`` (a
    ``src`` read on the controller, or ``content``) or ``{path, url, checksum}``, in the
    order given. A ``src`` nobody read (no ``local_files``, as in unit tests) stays
    ``{path, src}``."""
    official, version, site = [], None, []
    for item in scripts:
        if item.get("pip"):
            official.append(item["name"])
            version = OFFICIAL_PIN_RE.match(item["pip"]).group("version")
        elif item.get("src"):
            text = (local_files or {}).get(item["src"], {}).get("content")
            site.append({"path": item["name"], "content": text} if text is not None
                        else {"path": item["name"], "src": item["src"]})
        elif item.get("content"):
            site.append({"path": item["name"], "content": item["content"]})
        else:
            site.append({"path": item["name"], "url": item["url"], "checksum": item["checksum"]})
    return {"official": official, "official_version": version, "site": site}


def mounted(folders, services, enabled):
    """The script folders when an enabled service mounts them, else none."""
    return folders if any(services[n].get("script_folders_target") for n in enabled) else []


def mounts(folders, host_root, target_root):
    """``[(folder, host directory, container directory)]`` of the script folders."""
    return [(f, host_root + f, target_root + f) for f in folders]


def host_directories(folders, host_root):
    """Every host directory the folders need below ``host_root``, parents first."""
    dirs = []
    for folder in folders:
        parts = folder.strip("/").split("/")
        for n in range(1, len(parts) + 1):
            path = posixpath.join(host_root, *parts[:n])
            if path not in dirs:
                dirs.append(path)
    return dirs


def site_directories(services, paths, folders):
    """Host directories of the script folders, owned by the server (image_users applied)."""
    dirs = []
    for svc in services.values():
        if svc["enabled"] and svc.get("script_folders_target"):
            dirs.extend({"path": path, "owner": svc["uid"], "group": svc["gid"], "mode": "0750",
                         "purpose": "script folder", "service": svc["name"]}
                        for path in host_directories(folders, paths["omero_scripts"]))
    return dirs


def src_problems(scripts, local_files):
    """``(variable, message)`` of each site script whose ``src`` the controller does not have.

    ``local_files`` maps the ``src`` values found on the controller (by the action plugin,
    like ``copy: src=`` finds files) to ``{path, sha256, content}`` (``content``: the text,
    None when it is not UTF-8); None when nobody looked."""
    if local_files is None:
        return []
    errors = []
    for i, entry in enumerate(scripts):
        if not isinstance(entry, dict) or entry.get("src") is None or entry.get("pip"):
            continue
        src = entry["src"]
        if not isinstance(src, str) or not src:
            errors.append(("omero_scripts[%d].src" % i, "must be the path of a file on the controller"))
        elif src not in local_files:
            errors.append(("omero_scripts[%d].src" % i, "'%s' was not found on the controller (looked in the "
                                                        "playbook's files/ directories and as a path): put the "
                                                        "script there, or give content or url" % src))
        elif "content" in local_files[src] and local_files[src]["content"] is None:
            errors.append(("omero_scripts[%d].src" % i, "'%s' is not UTF-8 text: a script must be" % src))
    return errors
