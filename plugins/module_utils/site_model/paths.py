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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

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


def _inside(child, parent):
    return child == parent or child.startswith(parent.rstrip("/") + "/")


def system_problem(path, example):
    """Why the normalised absolute ``path`` is a system location, or None."""
    if path in SYSTEM_DIRECTORIES:
        return ("'%s' is a system directory: the layout would give it to a container's uid and change its mode; "
                "use a directory of the site's own, e.g. %s" % (path, example))
    for tree in SYSTEM_TREES:
        if _inside(path, tree):
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
