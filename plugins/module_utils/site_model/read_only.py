# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""Read-only OMERO.servers beside the read-write one (``omero_site_read_only_servers: N``).

OMERO's clustering documentation: a read-only server sets ``omero.cluster.read_only.db``
and ``omero.cluster.read_only.repo`` true and gets a writable directory of its own in
``omero.pixeldata.memoizer.dir.local`` for the Bio-Formats memo files (it still reads the
memo files the read-write server keeps in the repository's ``BioFormatsCache``). It shares
the binary repository (mounted read-only here) and the database with the read-write server.
Users' web sessions go to the read-only servers (OMERO.web's ``omero.web.server_list`` names
them, one entry each: an OMERO session stays on the server that made it, so they are not
one round-robin name); imports, scripts and the bootstrap go to the read-write server.

:func:`catalog_for` adds ``<server>-ro-1`` .. ``-N`` to a copy of the catalog as if
catalog.yml listed them: copies of the service with ``read_only_copies`` (the read-write
server; same site image, same database settings) with these differences, so everything downstream (paths, ports, probes,
monitoring, compose, the change plan, Swarm placement) treats them as ordinary services:

- ``omero_config: server_ro``: their ``*.omero`` file is the server's plus
  :data:`READ_ONLY_OPS` (:func:`config_ops`), and the read-write server's derived settings
  (router, JVM) are not applied to them twice;
- no published port (OMERO.web reaches them on the site's network), no script folders
  (a read-only server runs no scripts), no ROOTPASS (the read-write server initialises
  the database), the repository (``read_only_path``) mounted read-only, logs
  (``own_path``) and the memo directory their own (paths ``<own_path>_ro_<i>`` and
  ``<read_only_path>_ro_<i>_memo``);
- ``image_of: <server>``: they run the read-write server's site image, built once;
- started after the read-write server (it creates or upgrades the database first).
"""

from __future__ import annotations

import copy

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import (
    as_int,
    err,
    inherit_settings,
)

VARIABLE = "omero_site_read_only_servers"
MAX_SERVERS = 9
COPY_INFIX = "-ro-"
COMPONENT = "server_ro"
SWARM_LABEL = "omero-ro"
MEMO_TARGET = "/opt/omero/server/BioFormatsCache"
READ_ONLY_OPS = (
    ("set", "omero.cluster.read_only.db", "true"),
    ("set", "omero.cluster.read_only.repo", "true"),
    ("set", "omero.pixeldata.memoizer.dir.local", MEMO_TARGET),
)
# Settings of omero_services.<server> its read-only copies do not take over.
INHERITED_NOT = ("ports", "enabled", "external")


def template(catalog):
    """The name of the catalog's service with ``read_only_copies`` (the read-write server), or None."""
    return next((name for name, svc in sorted(catalog["services"].items()) if svc.get("read_only_copies")), None)


def is_copy(name, services):
    """Whether ``name`` is a read-only copy (it runs another service's image as one)."""
    return (services.get(name) or {}).get("omero_config") == COMPONENT


def count(site):
    """The number of read-only servers ``site`` asks for (0 when the value is not valid:
    :func:`problems` reports it)."""
    value = as_int(site.get(VARIABLE, 0) if site.get(VARIABLE) is not None else 0)
    return value if value is not None and 0 <= value <= MAX_SERVERS else 0


def names(server, number):
    return ["%s%s%d" % (server, COPY_INFIX, i) for i in range(1, number + 1)]


def problems(site, catalog, services, errors):
    """The setting is a small integer, and the read-write server it copies runs in the site."""
    raw = site.get(VARIABLE)
    if raw is None:
        return
    value = as_int(raw)
    if isinstance(raw, bool) or value is None or not 0 <= value <= MAX_SERVERS:
        err(errors, VARIABLE, "'%s' is not a number of read-only OMERO.servers (0 to %d)" % (raw, MAX_SERVERS))
        return
    name = template(catalog)
    server = services.get(name) or {}
    if value and (not server.get("enabled") or server.get("external")):
        err(errors, VARIABLE, "read-only OMERO.servers copy the site's read-write server, which this site does not "
                              "run (omero_services.%s is disabled or external): set %s to 0" % (name, VARIABLE))


def catalog_for(catalog, site):
    """``catalog``, or a copy of it with the read-only servers ``site`` asks for (and their
    paths ``<own_path>_ro_<i>``, ``<read_only_path>_ro_<i>_memo``)."""
    number, server = count(site), template(catalog)
    if not number or not server:
        return catalog
    catalog = copy.deepcopy(catalog)
    spec = catalog["services"][server]["read_only_copies"]
    for index, name in enumerate(names(server, number), start=1):
        logs, memo = "%s_ro_%d" % (spec["own_path"], index), "%s_ro_%d_memo" % (spec["read_only_path"], index)
        own = catalog["paths"][spec["own_path"]]["default"]
        catalog["paths"][logs] = {"default": "%s%s%d" % (own, COPY_INFIX, index), "service": name, "mode": "0750"}
        catalog["paths"][memo] = {"default": "data/%s/BioFormatsCache" % name, "service": name, "mode": "0750"}
        catalog["services"][name] = _copy(catalog["services"][server], server, index, (logs, memo))
    return catalog


def site_for(site, catalog):
    """``site``, or a copy whose ``omero_services`` gives each read-only server the read-write
    server's settings (image, build, resources, ulimits, env, uid, gid, ...), except its
    ports and whether it is enabled or external, under the read-only server's own."""
    number, name = count(site), template(catalog)
    return inherit_settings(site, name, names(name, number) if name else [], INHERITED_NOT)


def _copy(server_svc, server, index, paths):
    logs, memo = paths
    spec = server_svc["read_only_copies"]
    svc = copy.deepcopy(server_svc)
    del svc["read_only_copies"]
    svc["description"] = "OMERO.server, read-only %d (omero.cluster.read_only)" % index
    svc["ports"] = dict((key, dict(port, exposure="none")) for key, port in (svc.get("ports") or {}).items())
    volumes = []
    for volume in svc.get("volumes") or []:
        if volume["path"] == spec["read_only_path"]:
            volumes.append(dict(volume, read_only=True))
        elif volume["path"] == spec["own_path"]:
            volumes.append(dict(volume, path=logs))
        else:
            volumes.append(volume)
    svc["volumes"] = volumes + [{"path": memo, "target": MEMO_TARGET}]
    svc["depends_on"] = list(svc.get("depends_on") or []) + [server]
    svc["secret_env"] = dict((key, sname) for key, sname in (svc.get("secret_env") or {}).items()
                             if key not in (svc.get("init_only") or []))
    svc["init_only"] = []
    svc["omero_config"] = COMPONENT
    svc["swarm"] = {"label": SWARM_LABEL}
    svc["image_of"] = server
    for key in ("external", "script_folders_target"):
        svc.pop(key, None)
    for probe in svc.get("probes") or []:
        copy_name = "%s%s%d" % (server, COPY_INFIX, index)
        probe["target"] = probe["target"].replace("{address.%s." % server, "{address.%s." % copy_name)
    return svc


def config_ops(server_ops):
    """The ``*.omero`` operations of a read-only server: the server's, then :data:`READ_ONLY_OPS`
    (last, so no site value of omero_server_config undoes them)."""
    return list(server_ops) + list(READ_ONLY_OPS)


def server_list(services, site_name):
    """OMERO.web's ``omero.web.server_list`` when the site runs read-only servers: one entry
    each, ``[host, port, "<site> (read-only <i>)"]``; None without them."""
    enabled = [name for name in sorted(services) if is_copy(name, services) and services[name].get("enabled")]
    if not enabled:
        return None
    return [[name, int(services[name]["address"]["port"]),
             "%s (read-only %s)" % (site_name, name.rsplit(COPY_INFIX, 1)[1])] for name in enabled]
