# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""Services provided from outside: ``omero_services.<name>.external: {host, port}``.

A service whose catalog entry has ``external`` may be an existing server reached by
address instead of a container of the site. Such a service runs nothing here: it is not
enabled (no container, no data directory, no env file, no image build, no compose
dependency on it), but it is provided, so the services that depend on it may run, and
its consumers reach it at the given address (``{address.<name>.*}`` placeholders).

The address is checked before anything changes: a host name, an IPv4 or an IPv6
address (without brackets), never a loopback or wildcard address (inside a container
that is the container itself) nor the name of a service of the site; a port 1-65535,
by default the catalog's ``address.port``. Only ``enabled: true`` may come with it: the
container's settings (image, ports, resources, ...) have no container to apply to, and
``enabled: false`` says the site does without the service.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import as_int, err

EXTERNAL_KEYS = ("host", "port")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME_RE = re.compile(r"^%s(?:\.%s)*$" % (_LABEL, _LABEL))
_EXAMPLE = "{host: db.example.org, port: 5432}"


def _loopback(host):
    return ("'%s' is a loopback or wildcard address: inside a container that is the container itself; give an "
            "address the containers reach the server at (e.g. the host's address on a network they use)" % host)


def _ip_problem(host):
    """Why ``host`` (an IP address or something that looks like one) is refused, or None."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "'%s' is not a valid IP address" % host
    if address.is_loopback or address.is_unspecified:
        return _loopback(host)
    return None


def _name_problem(host, services):
    """Why the host name ``host`` is refused, or None."""
    if len(host) > 253 or not _HOSTNAME_RE.match(host):
        return ("'%s' is not a host name (letters, digits and '-' in dot-separated labels of at most 63 "
                "characters) nor an IP address" % host)
    if host.lower() == "localhost" or host.lower().startswith("localhost."):
        return _loopback(host)
    if host in services:
        return ("'%s' is the name of a service of this site: inside the site's network it reaches that container, "
                "not an existing server; give the server's own host name or address" % host)
    return None


def host_problem(host, services):
    """Why ``host`` is not the address of an existing server, or None."""
    if not isinstance(host, str) or not host:
        return "is required: the host name or IP address of the existing server (e.g. %s)" % _EXAMPLE
    if host.startswith("[") and host.endswith("]"):
        return "'%s': write an IPv6 address without brackets (%s)" % (host, host[1:-1])
    if ":" in host or re.match(r"^[0-9.]+$", host):
        return _ip_problem(host)
    return _name_problem(host, services)


def override(svc, value, var, errors, services):
    """Check ``omero_services.<name>.external`` and mark ``svc`` external (``{host, port}``)."""
    if not svc.get("external_allowed"):
        allowed = sorted(n for n, s in services.items() if s.get("external_allowed"))
        err(errors, var, "%s cannot be provided from outside; only %s can (or leave external out and run it here)"
            % (svc["name"], ", ".join(allowed)))
        return
    if not isinstance(value, dict):
        err(errors, var, "must be the address of the existing server, e.g. %s" % _EXAMPLE)
        return
    for key in sorted(set(value) - set(EXTERNAL_KEYS), key=str):
        err(errors, "%s.%s" % (var, key), "unknown setting; external takes: %s" % ", ".join(EXTERNAL_KEYS))
    problem = host_problem(value.get("host"), services)
    if problem:
        err(errors, var + ".host", problem)
    port = as_int(value.get("port", svc["address"]["port"]))
    if port is None or not 1 <= port <= 65535:
        err(errors, var + ".port", "'%s' is not a port number (1-65535); leave it out for %d"
            % (value.get("port"), svc["address"]["port"]))
    svc["external"] = {"host": value.get("host"), "port": port}


def check_alone(name, over, errors):
    """An external service takes no container setting, and is not ``enabled: false``."""
    var = "omero_services.%s" % name
    for key in sorted(over, key=str):
        if key == "enabled" and over[key] is False:
            err(errors, var + ".enabled", "false says the site does without %s, external that it uses an existing "
                                          "server: remove enabled: false (or external)" % name)
        elif key not in ("enabled", "external"):
            err(errors, "%s.%s" % (var, key), "is a setting of the container, and %s is external (%s.external): "
                                              "remove %s.%s" % (name, var, var, key))


def provided(services):
    """Sorted names of the services the site has: enabled (a container here) or external."""
    return sorted(n for n, s in services.items() if s["enabled"] or s.get("external"))


def owned_secrets(services):
    """``{secret: service}`` of the secrets whose value an external server holds (catalog
    ``external.secrets``): they must be given, the collection cannot generate them."""
    return dict((sname, name) for name, svc in sorted(services.items()) if svc.get("external")
                for sname in svc["external_secrets"])
