# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""``omero_services.<name>.healthcheck``: the timings of a service's catalog healthcheck.

A site changes how often and how patiently a service is checked, never what is checked
(the catalog's ``test``): ``interval``, ``timeout``, ``start_period`` and
``start_interval`` are Compose durations (``30s``, ``1m30s``, ``500ms``), ``retries`` a
number. They are merged over the catalog's. ``start_interval`` (checks during the start
period, so a service is healthy seconds after it is up instead of one ``interval`` later)
needs Docker Engine 25 or later (Debian 13's docker.io; Debian 12's 20.10 refuses it).

A deploy waits until each service is healthy, so the ``interval`` of the catalog (30 s for
most services, 60 s for pg-maintenance) is the least a recreation costs; a site that
recreates often (a test site) shortens it with ``start_interval``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import as_int, err

DURATION_KEYS = ("interval", "timeout", "start_period", "start_interval")
HEALTHCHECK_KEYS = DURATION_KEYS + ("retries",)
# Compose durations (Go's time.ParseDuration without a sign): 1m30s, 500ms, 2h.
_DURATION_RE = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")


def check_healthcheck(svc, value, var, errors):
    """Merges ``value`` (timings) over the catalog healthcheck of ``svc``."""
    if not svc.get("healthcheck"):
        err(errors, var, "service '%s' has no healthcheck in the catalog (remove %s)" % (svc["name"], var))
        return
    if not isinstance(value, dict):
        err(errors, var, "takes timings, e.g. {interval: 30s, start_period: 2m, start_interval: 2s}")
        return
    merged = dict(svc["healthcheck"])
    for key in sorted(value, key=str):
        kvar, setting = "%s.%s" % (var, key), value[key]
        if key not in HEALTHCHECK_KEYS:
            err(errors, kvar, "unknown setting; a healthcheck takes: %s (its test is the catalog's)"
                % ", ".join(HEALTHCHECK_KEYS))
        elif key == "retries":
            number = as_int(setting)
            if number is None or number < 1:
                err(errors, kvar, "must be a positive number, got '%s'" % (setting,))
            else:
                merged[key] = number
        elif not isinstance(setting, str) or not _DURATION_RE.match(setting) or not re.search(r"[1-9]", setting):
            err(errors, kvar, "must be a positive duration such as 30s, 1m30s or 500ms, got '%s'" % (setting,))
        else:
            merged[key] = setting
    svc["healthcheck"] = merged
