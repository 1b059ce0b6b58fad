# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Host paths of the site description: absolute, normalised, never a system directory.

The layout gives the site's directories to the containers' uids (and modes like 0700):
pointed at ``/var`` or ``/home`` it would take them from the system. So the base directory
and every ``omero_site_paths`` entry must be

- absolute; trailing slashes are dropped (``/srv/omero/`` is ``/srv/omero``), other
  non-normal forms (``//``, ``.``, ``..``) are refused with the normal form to write;
- not a system directory (:data:`SYSTEM_DIRECTORIES`), checked on the normal form, so
  ``/var/lib/../lib/`` is ``/var/lib``;
- not inside a directory that belongs to the kernel or the engine
  (:data:`SYSTEM_TREES`: ``/proc``, ``/sys``, ``/dev``, ``/run``, ``/boot`` and Docker's
  data root ``/var/lib/docker``), where data is lost or breaks the engine.

The site's layout: each path of the catalog is the site's ``omero_site_paths`` entry or
its default under the base directory; the paths in use (the site's and those of enabled
services) never overlap, and each becomes a directory owned by the uid of its service.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import err

# Refused as site paths, never used as such (hence the noqa on /tmp and /var/tmp).
SYSTEM_DIRECTORIES = ("/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media", "/mnt",
                      "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/usr", "/usr/local",
                      "/tmp", "/var/tmp",  # noqa: S108
                      "/var", "/var/lib", "/var/log", "/var/cache", "/var/spool", "/var/run")
SYSTEM_TREES = ("/proc", "/sys", "/dev", "/run", "/boot", "/var/lib/docker", "/var/lib/containerd")


def normal_form(path):
    """``path`` as the model keeps it: trailing slashes dropped, nothing else changed."""
    if isinstance(path, str) and len(path) > 1:
        stripped = path.rstrip("/")
        return stripped or "/"
    return path


def inside(child, parent):
    return child == parent or child.startswith(parent.rstrip("/") + "/")


def system_problem(path, example):
    """Why the normalised absolute ``path`` is a system location, or None."""
    if path in SYSTEM_DIRECTORIES:
        return ("'%s' is a system directory: the layout would give it to a container's uid and change its mode; "
                "use a directory of the site's own, e.g. %s" % (path, example))
    for tree in SYSTEM_TREES:
        if inside(path, tree):
            what = "Docker's data root" if tree.startswith("/var/lib/") else "a kernel or boot file system"
            return ("'%s' is inside %s (%s), where the site's data must never live: use a directory of the "
                    "site's own, e.g. %s" % (path, tree, what, example))
    return None


def path_problem(value, example="/srv/omero"):
    """``(normalised path, problem or None)`` of a host path of the site description."""
    if not isinstance(value, str) or not value:
        return value, "must be an absolute path (e.g. %s), got '%s'" % (example, value)
    path = normal_form(value)
    if not path.startswith("/"):
        return path, "'%s' is relative: give an absolute path (e.g. %s)" % (value, example)
    normal = posixpath.normpath(path)
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    problem = system_problem(normal, example)
    if problem:
        return path, problem
    if normal != path:
        return path, "'%s' is not normalised ('//', '.' or '..'): write %s" % (value, normal)
    return path, None


def _resolve_paths(known, overrides, base, errors):
    """Each catalog path: the site's override (checked by path_problem) or its default under the base."""
    paths = {}
    for key in sorted(overrides, key=str):
        if key not in known:
            err(errors, "omero_site_paths.%s" % key, "unknown path name; known: %s" % ", ".join(sorted(known)))
    for key, spec in known.items():
        value = overrides.get(key)
        if value is None:
            paths[key] = posixpath.join(base, spec["default"]) if isinstance(base, str) else spec["default"]
            continue
        value, problem = path_problem(value, "/data/omero/%s" % key)
        if problem:
            err(errors, "omero_site_paths.%s" % key, problem)
        paths[key] = str(value)
    for key in sorted(k for k in overrides if k in known and isinstance(base, str)):
        if inside(base, paths[key]):
            err(errors, "omero_site_paths.%s" % key, "'%s' is the site's base directory or holds it (%s): "
                                                     "give %s a directory of its own" % (paths[key], base, key))
    return paths


def site_paths(catalog, services, settings, errors):
    """``(paths, directories, paths in use)`` of the site."""
    base = settings["omero_site_base_dir"]
    overrides = settings["omero_site_paths"]
    known = catalog["paths"]
    paths = _resolve_paths(known, overrides, base, errors)
    # Paths in use: those of the site and of enabled services.
    used = sorted(k for k, spec in known.items()
                  if not spec.get("service") or spec.get("always") or services[spec["service"]]["enabled"])
    for i, a in enumerate(used):
        for b in used[i + 1:]:
            pa, pb = paths[a], paths[b]
            if inside(pa, pb) or inside(pb, pa):
                var = a if a in overrides else b
                err(errors, "omero_site_paths.%s" % var,
                    "'%s' (%s) and '%s' (%s) overlap: give each its own directory" % (pa, a, pb, b))
    directories = [{"path": base, "owner": 0, "group": 0, "mode": "0755", "purpose": "site base"}]
    for key in used:
        spec = known[key]
        if spec.get("service") and services[spec["service"]]["enabled"]:
            owner, group = services[spec["service"]]["uid"], services[spec["service"]]["gid"]
        else:
            owner, group = spec.get("uid", 0), spec.get("gid", 0)
        directories.append({"path": paths[key], "owner": owner, "group": group, "mode": spec["mode"],
                            "purpose": key, "service": spec.get("service") or ""})
    paths["base"] = base
    paths["compose_file"] = posixpath.join(base, "docker-compose.yml") if isinstance(base, str) else ""
    # The stack file of a Swarm site (omero_site_engine: swarm), for docker stack deploy.
    paths["stack_file"] = posixpath.join(base, "stack.yml") if isinstance(base, str) else ""
    return paths, directories, used


def unique_directories(directories):
    """``directories`` without a second entry for the same path (the first one stays)."""
    seen = set()
    unique = []
    for d in directories:
        if d["path"] not in seen:
            seen.add(d["path"])
            unique.append(d)
    return unique
