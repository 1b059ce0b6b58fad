# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The monitoring UIs the TLS proxy serves (``omero_site_proxy_monitoring``).

``omero_site_proxy_monitoring: [grafana, prometheus]`` (default ``[]``) names the services
whose catalog entry has ``proxied`` (Grafana, Prometheus) that the TLS proxy (the service
``proxied.by``) serves at their ``proxied.path`` (``/grafana/``, ``/prometheus/``), behind
basic auth (the users of role site_tls in ``<tls>/htpasswd``). Each must be enabled (not
external: the proxy reaches the container it runs) and the proxy too.

An exposed service gets its catalog ``proxied.args`` (appended to its command) and
``proxied.env`` (its links carry the path); the proxy's configuration gets one location
per exposed service (config_files.py ``ui_locations``). A site that exposes nothing
renders exactly what it did without the setting.
"""

from __future__ import annotations

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import err

VARIABLE = "omero_site_proxy_monitoring"
# Set on an exposed service (the model's own key, not a catalog one).
EXPOSED = "exposed_by"
# Where the front's users are (role site_tls writes them in the TLS directory it mounts).
HTPASSWD = "/etc/nginx/tls/htpasswd"


def proxied(services):
    """Names of the services the proxy can serve (catalog ``proxied``), sorted."""
    return sorted(name for name, svc in services.items() if svc.get("proxied"))


def _names(value, known, errors):
    """The names given, or None after an error."""
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        err(errors, VARIABLE, "must be a list of service names (of %s), e.g. [%s]" % (", ".join(known), known[-1]))
        return None
    unknown = sorted(set(value) - set(known))
    if unknown:
        err(errors, VARIABLE, "%s: the TLS front serves only %s; remove the other names"
            % (", ".join(unknown), ", ".join(known)))
        return None
    if len(set(value)) != len(value):
        err(errors, VARIABLE, "names a service twice; name each once")
        return None
    return sorted(value)


def _service_problems(names, services, errors):
    for front in sorted(set(services[name]["proxied"]["by"] for name in names)):
        if not services[front].get("enabled") or services[front].get("external"):
            err(errors, VARIABLE, "names %s, but %s (the TLS front) is off: set omero_services.%s.enabled: true "
                                  "(and site_tls_basic_auth_users), or set %s: []"
                % (", ".join(names), front, front, VARIABLE))
    for name in names:
        svc = services[name]
        if svc.get("external"):
            err(errors, VARIABLE, "names %s, which is external (omero_services.%s.external): %s serves only "
                                  "a container of the site; remove %s" % (name, name, svc["proxied"]["by"], name))
        elif not svc.get("enabled"):
            err(errors, VARIABLE, "names %s, which is off: set omero_services.%s.enabled: true, or remove %s"
                % (name, name, name))


def apply(settings, services, errors):
    """Check ``omero_site_proxy_monitoring``; mark the exposed services and give them their
    ``proxied`` arguments and environment. Returns the names exposed (sorted)."""
    known = proxied(services)
    names = _names(settings.get(VARIABLE), known, errors)
    if not names:
        return []
    _service_problems(names, services, errors)
    for name in names:
        svc, spec = services[name], services[name]["proxied"]
        svc[EXPOSED] = spec["by"]
        if spec.get("args"):
            extra = svc.setdefault("extra", {})
            extra["command"] = list(extra.get("command") or []) + list(spec["args"])
        svc["env"] = dict(svc.get("env") or {}, **(spec.get("env") or {}))
    return names


def _location(name, svc, fill):
    """The nginx lines of one exposed service's location (inside the 443 server)."""
    spec, path = svc["proxied"], svc["proxied"]["path"]
    lines = [
        "location %s {" % path,
        '    auth_basic "%s";' % spec["realm"],
        "    auth_basic_user_file %s;" % HTPASSWD,
        "    set $%s http://%s;" % (name, fill("{address.%s.host_port}" % name)),
        "    rewrite ^%s(.*)$ /$1 break;" % path,
        "    proxy_pass $%s;" % name,
        "    proxy_http_version 1.1;",
        "    proxy_set_header Host $http_host;",
        "    proxy_set_header X-Forwarded-Host $http_host;",
        "    proxy_set_header X-Forwarded-Proto https;",
        "    proxy_set_header X-Forwarded-Prefix %s;" % path.rstrip("/"),
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "    proxy_set_header X-Real-IP $remote_addr;",
    ]
    if spec.get("clear_authorization"):
        # The basic-auth credentials are the proxy's: the service must not take them as its own.
        lines.append('    proxy_set_header Authorization "";')
    if spec.get("websocket"):
        lines.extend(["    proxy_set_header Upgrade $http_upgrade;",
                      "    proxy_set_header Connection $omero_proxy_connection;"])
    lines.extend(["    proxy_read_timeout 300s;", "}"])
    return lines


def exposed(services, enabled):
    """``(name, service)`` of the exposed services that run here, in catalog order."""
    return [(name, svc) for name, svc in services.items() if svc.get(EXPOSED) and name in enabled]


def locations(services, enabled, fill):
    """The lines of the proxy's locations of the exposed services (none: nothing exposed)."""
    return [line for name, svc in exposed(services, enabled) for line in _location(name, svc, fill)]


def connection_map(services, enabled):
    """The http-level map a websocket location needs (none when no exposed service has one)."""
    if not any(svc["proxied"].get("websocket") for dummy, svc in exposed(services, enabled)):
        return []
    return ["# The Connection header of a websocket upgrade (the monitoring UIs behind basic auth).",
            "map $http_upgrade $omero_proxy_connection {",
            "    default upgrade;",
            "    '' close;",
            "}"]
