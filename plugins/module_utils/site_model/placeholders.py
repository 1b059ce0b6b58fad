# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The placeholders of catalog values, and the values they stand for.

A catalog value (env, config files, probe targets, OMERO defaults) names what it needs
from the site through placeholders, never through a literal value:

- ``{site.<name>}``: a site setting (:data:`SITE_KEYS`: database names and users, the
  site name, the omero_monitoring intervals and retentions) or ``{site.enabled_services}``,
  the services that run a container here, comma-separated;
- ``{address.<service>.host}``, ``.port``, ``.host_port``: where the consumers reach a
  service with a catalog ``address``: the service's own container (its name and the
  catalog port) or the existing server of ``omero_services.<service>.external``.
  ``host_port`` is ``host:port`` as URLs write it (an IPv6 address in brackets).

:func:`fill_text` fills a string; :func:`fill_data` fills YAML data, where a string that
is one placeholder and nothing else takes the value's own type (a port is a number).
"""

from __future__ import annotations

import re

PLACEHOLDER_RE = re.compile(r"\{((site)\.([a-z_]+)|(address)\.([a-z0-9_-]+)\.(host|port|host_port))\}")
ADDRESS_FIELDS = ("host", "port", "host_port")

# {site.<name>} -> the setting it stands for.
SITE_KEYS = {
    "omero_db_name": "omero_site_db_name",
    "omero_db_user": "omero_site_db_user",
    "plugin_db_name": "omero_site_plugin_db_name",
    "plugin_db_user": "omero_site_plugin_db_user",
    "site_name": "omero_site_name",
    # omero_monitoring (monitoring.py), held in the settings under MONITORING
    "scrape_interval": "omero_monitoring.scrape_interval",
    "evaluation_interval": "omero_monitoring.evaluation_interval",
    "metrics_retention": "omero_monitoring.metrics_retention",
    "logs_retention": "omero_monitoring.logs_retention",
    # derived: the services that run a container here, comma-separated
    "enabled_services": None,
}
MONITORING = "omero_monitoring"


def references(value):
    """``[(kind, name, field)]`` of the placeholders in ``value`` (any YAML data):
    ``("site", key, None)`` or ``("address", service, field)``."""
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    if not isinstance(value, str):
        return []
    return [("site", m.group(3), None) if m.group(2) else ("address", m.group(5), m.group(6))
            for m in PLACEHOLDER_RE.finditer(value)]


def host_port(host, port):
    """``host:port``, an IPv6 address in brackets."""
    return "%s:%s" % ("[%s]" % host if ":" in host else host, port)


def context(settings, services):
    """What each placeholder stands for: ``{"site.<key>": value, "address.<svc>.<field>": value}``."""
    values = {}
    for key, setting in SITE_KEYS.items():
        if setting is None:
            continue
        if setting.startswith(MONITORING + "."):
            values["site." + key] = (settings.get(MONITORING) or {}).get(setting.split(".", 1)[1], "")
        else:
            values["site." + key] = settings[setting]
    values["site.enabled_services"] = ",".join(sorted(name for name, svc in services.items() if svc.get("enabled")))
    for name, svc in services.items():
        if not svc.get("address"):
            continue
        external = svc.get("external") or {}
        host = external.get("host", name)
        port = external.get("port", svc["address"]["port"])
        values.update({"address.%s.host" % name: host, "address.%s.port" % name: port,
                       "address.%s.host_port" % name: host_port(host, port)})
    return values


def fill_text(value, values):
    """``value`` with every placeholder filled (a string; anything else as it is)."""
    if not isinstance(value, str):
        return value
    return PLACEHOLDER_RE.sub(lambda m: str(values[m.group(1)]), value)


def fill_data(value, values):
    """YAML data with every placeholder filled; a string that is one placeholder only
    becomes the value itself (a port stays a number)."""
    if isinstance(value, dict):
        return dict((key, fill_data(item, values)) for key, item in value.items())
    if isinstance(value, list):
        return [fill_data(item, values) for item in value]
    if isinstance(value, str):
        whole = PLACEHOLDER_RE.fullmatch(value)
        if whole:
            return values[whole.group(1)]
    return fill_text(value, values)
