# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""OMERO properties the collection derives from the services' definitions.

- ``omero.router.insecure``: OMERO clients log in on the SSL port (4064), then by default
  move to the unencrypted router (4063). When 4063 is not published they would fail after
  login, so they are sent back to the SSL router on the *published* port (OMERO's
  server-security documentation). OMERO.web, inside the network, reaches the server on
  the container port: it keeps its SSL connection (``omero.web.secure``) rather than
  follow the router to a host port it cannot reach.
- ``omero.jvmcfg.*``: the percent strategy sizes the JVM heaps from the memory OMERO
  thinks the machine has; ``omero.jvmcfg.system_memory`` (MB) is set to the container's
  memory limit, with the strategy's floor and ceiling (``min_system_memory`` 3414 MB,
  ``max_system_memory`` 48000 MB) moved when the limit is outside them.

A site's own value of any of these properties wins: it is not rendered twice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

ROUTER_INSECURE = "omero.router.insecure"
WEB_SECURE = "omero.web.secure"
ROUTER_SSL = "OMERO.Glacier2/router:ssl -p %d -h @omero.host@"
JVMCFG_PREFIX = "omero.jvmcfg."
# omero-py's jvmcfg defaults (omero/install/jvmcfg.py).
JVMCFG_MIN_SYSTEM_MEMORY = 3414
JVMCFG_MAX_SYSTEM_MEMORY = 48000
_MEMORY_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([bkmgBKMG]?)$")
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


def memory_mb(value):
    """A compose memory size (``4g``, ``6144m``) in MB, or None."""
    match = _MEMORY_RE.match(str(value or ""))
    if not match:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()] // 1024 ** 2)


def router_ops(service, site_server, site_web):
    """``(server ops, web ops)`` keeping clients on the SSL router when 4063 is not published.

    ``service`` is the server's service (``published_ports`` resolved); ``site_server`` and
    ``site_web`` the properties the site sets itself.
    """
    published = dict((p["name"], p) for p in service.get("published_ports") or [])
    if "tcp" in published or "ssl" not in published:
        return [], []
    server, web = [], []
    if ROUTER_INSECURE not in site_server:
        server.append(("set", ROUTER_INSECURE, ROUTER_SSL % published["ssl"]["host"]))
    if WEB_SECURE not in site_web:
        web.append(("set", WEB_SECURE, "true"))
    return server, web


def jvmcfg_ops(service, site_server):
    """The percent strategy sized by the service's memory limit (none without a limit)."""
    limit = memory_mb((service.get("resources") or {}).get("memory"))
    if not limit:
        return []
    wanted = [("strategy", "percent"), ("system_memory", str(limit))]
    if limit < JVMCFG_MIN_SYSTEM_MEMORY:
        wanted.append(("min_system_memory", str(limit)))
    if limit > JVMCFG_MAX_SYSTEM_MEMORY:
        wanted.append(("max_system_memory", str(limit)))
    return [("set", JVMCFG_PREFIX + key, value) for key, value in wanted if JVMCFG_PREFIX + key not in site_server]
