# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Container resources, restart policies and log sizes, in every form Docker takes.

- ``omero_services.<name>.resources``: ``memory`` a positive size with a unit (``512m``,
  ``2g``, ``1.5GiB``; a bare number would be bytes, almost always a mistake) and ``cpus`` a
  positive number (``1.5``); both optional.
- ``omero_services.<name>.ulimits``: ``{name: N or {soft: N, hard: N}}`` (-1: unlimited)
  for the limits Docker knows (:data:`ULIMIT_NAMES`), merged over the catalog's.
- ``omero_services.<name>.restart``: ``no``, ``always``, ``unless-stopped``, ``on-failure``
  or ``on-failure:N``.
- ``omero_site_log_max_size``: a positive size as the json-file log driver takes it
  (``100k``, ``10m``, ``1g``, ``10MB``, or a number of bytes).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import as_int, err

RESTART_POLICIES = ("no", "always", "on-failure", "on-failure:N", "unless-stopped")
# Docker's units.RAMInBytes: a number, an optional space, k/m/g/t/p with optional i and b.
_SIZE_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?) ?([kKmMgGtTpP]?)[iI]?[bB]?$")
_RESTART_RE = re.compile(r"^(no|always|unless-stopped|on-failure(:[0-9]+)?)$")
ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss",
                "rtprio", "rttime", "sigpending", "stack")


def size_problem(value, unit_required):
    """Why ``value`` is not a positive size, or None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    match = _SIZE_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return "'%s' is not a size like 512m, 2g or 1.5GiB" % (value,)
    if unit_required and not match.group(2):
        return "'%s' has no unit: write it with one, e.g. '%sm' (a bare number is bytes)" % (value, match.group(1))
    if float(match.group(1)) <= 0:
        return "must be positive, got '%s'" % (value,)
    return None


def cpus_problem(value):
    """Why ``value`` is not a positive number of CPUs, or None."""
    if isinstance(value, bool):
        return "must be a number of CPUs like 1.5, got '%s'" % (value,)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "must be a number of CPUs like 1.5, got '%s'" % (value,)
    if math.isnan(number) or number <= 0 or math.isinf(number):
        return "must be a positive number of CPUs like 1.5, got '%s'" % (value,)
    return None


def restart_problem(value):
    if not isinstance(value, str) or not _RESTART_RE.match(value):
        return ("'%s' is not a restart policy: one of %s (N the maximum number of retries)"
                % (value, ", ".join(RESTART_POLICIES)))
    return None


def check_resources(svc, res, var, errors):
    """Merge ``res`` over the catalog's resources of ``svc``, each value checked."""
    if not isinstance(res, dict) or set(res) - {"memory", "cpus"}:
        errors.append((var, "takes {memory: '2g', cpus: 1.5}"))
        return
    merged = dict(svc.get("resources") or {})
    for key in sorted(res):
        value = res[key]
        if value is None:
            merged.pop(key, None)
            continue
        problem = size_problem(value, True) if key == "memory" else cpus_problem(value)
        if problem:
            errors.append(("%s.%s" % (var, key), problem))
        elif key == "memory":
            match = _SIZE_RE.match(str(value).strip())
            merged[key] = match.group(1) + match.group(2).lower()
        else:
            merged[key] = float(value)
    svc["resources"] = merged


def check_ulimits(svc, limits, var, errors):
    """omero_services.X.ulimits: {name: N or {soft: N, hard: N}}, merged over the catalog's."""
    if not isinstance(limits, dict):
        err(errors, var, "takes {nofile: {soft: 8192, hard: 65536}} (or a number for both)")
        return
    merged = dict(svc.get("ulimits") or {})
    for name in sorted(limits, key=str):
        lvar, value = "%s.%s" % (var, name), limits[name]
        if name not in ULIMIT_NAMES:
            err(errors, lvar, "unknown limit; Docker takes: %s" % ", ".join(ULIMIT_NAMES))
            continue
        pair = value if isinstance(value, dict) else {"soft": value, "hard": value}
        soft, hard = as_int(pair.get("soft")), as_int(pair.get("hard"))
        if set(pair) != {"soft", "hard"} or soft is None or hard is None or soft < -1 or hard < -1:
            err(errors, lvar, "takes a number or {soft: N, hard: N} (-1: unlimited), got '%s'" % (value,))
        elif hard != -1 and (soft == -1 or soft > hard):
            err(errors, lvar, "soft limit %s is above the hard limit %s" % (soft, hard))
        else:
            merged[name] = {"soft": soft, "hard": hard}
    svc["ulimits"] = merged
