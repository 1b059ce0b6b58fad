# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""Published ports of the services: the site's overrides and the host ports they take.

``omero_services.<name>.ports.<port>`` takes ``{host: PORT, bind: ADDRESS, publish: true|false}``.
A port the catalog marks ``public`` binds to ``omero_site_bind_address``, any other
published one to ``omero_site_local_bind_address``. Two enabled services never share a
host port: the one the site moved there is blamed.
"""

from __future__ import annotations

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import as_int, check_bind, err

PORT_OVERRIDE_KEYS = ("host", "bind", "publish")


def _override_port(port, pover, pvar, errors):
    if not isinstance(pover, dict) or set(pover) - set(PORT_OVERRIDE_KEYS):
        err(errors, pvar, "takes {host: PORT, bind: ADDRESS, publish: true|false}")
        return
    if "host" in pover:
        value = as_int(pover["host"])
        if value is None or not 1 <= value <= 65535:
            err(errors, pvar + ".host", "'%s' is not a port number (1-65535)" % (pover["host"],))
        else:
            port["host"] = value
            port["overridden"] = True
    if "bind" in pover and check_bind(errors, pvar + ".bind", pover["bind"]):
        port["bind"] = pover["bind"]
    if "publish" in pover:
        if not isinstance(pover["publish"], bool):
            err(errors, pvar + ".publish", "must be true or false")
        else:
            port["publish"] = pover["publish"]


def override_ports(svc, ports, var, errors):
    """``omero_services.<name>.ports``, applied to the catalog's ports of ``svc``."""
    known = svc.get("ports") or {}
    if not isinstance(ports, dict):
        err(errors, var, "must be a dictionary of port names (%s)" % ", ".join(sorted(known)))
        return
    for pname in sorted(ports, key=str):
        pvar = "%s.%s" % (var, pname)
        if pname not in known:
            err(errors, pvar, "unknown port; %s has: %s" % (svc["name"], ", ".join(sorted(known)) or "no ports"))
        else:
            _override_port(known[pname], ports[pname], pvar, errors)


def _published(svc, settings):
    published = []
    for pname in sorted(svc["ports"]):
        port = svc["ports"][pname]
        exposure = port.get("exposure", "none")
        publish = port.get("publish", exposure != "none")
        if not publish:
            continue
        if "bind" in port:
            bind = port["bind"]
        elif exposure == "public":
            bind = settings["omero_site_bind_address"]
        else:
            bind = settings["omero_site_local_bind_address"]
        published.append({"name": pname, "container": port["container"], "host": port["host"], "bind": bind,
                          "overridden": bool(port.get("overridden") or "bind" in port)})
    return published


def published_ports(services, settings, errors):
    """Resolve published ports (``published_ports`` of each service); check two services never share a host port."""
    taken = {}
    for name in sorted(services):
        svc = services[name]
        published = _published(svc, settings)
        svc["published_ports"] = published
        if not svc["enabled"]:
            continue
        for port in published:
            var = "omero_services.%s.ports.%s.host" % (name, port["name"])
            for (other_bind, other_port), (other_var, other_overridden) in taken.items():
                binds = (other_bind, port["bind"])
                wildcard = "0.0.0.0" in binds or "::" in binds  # noqa: S104 - comparing, not binding
                if other_port == port["host"] and (wildcard or other_bind == port["bind"]):
                    blamed, other = (var, other_var)
                    if other_overridden and not port["overridden"]:
                        blamed, other = other_var, var
                    err(errors, blamed, "host port %d is published twice (%s and %s): give one of them "
                                        "another port" % (port["host"], blamed, other))
            taken[(port["bind"], port["host"])] = (var, port["overridden"])
