# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The OMERO properties of the site: the collection's own first, then the site's.

What the collection sets is catalog data (``omero_properties``, per component):
``managed`` properties the site may not set (it is told the variable to set instead), and
``defaults`` set before the site's own properties, in the catalog's order: a value with
placeholders (the server list names the OMERO.server's address, the Redis cache its
address), or a list derived by a generator of :data:`GENERATORS` (router and JVM settings
of server_settings.py, plugin fallbacks). A default may hold only while a service is
provided (``when_enabled``); a site's own value of a default wins. ``omero_server_config``
takes server properties, ``omero_web_config`` those OMERO.web reads
(:data:`WEB_PREFIXES`). Both end up in one rendered ``*.omero`` file per component
(:data:`OMERO_FILE_NAME`). :func:`read_write` says whether the server is the read-write
one (the one the omero_bootstrap role bootstraps).
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import (
    omero_config,
    omero_values,
    placeholders,
    read_only,
    server_settings,
)
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.external import provided
from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import fallback_settings

OMERO_FILE_NAME = "60-omero-docker-stack.omero"
HEADER = ("Rendered by omero_docker.stack from the site model; local edits are overwritten.\n"
          "Loaded by the image with `omero load` at container start.")
COMPONENTS = ("server", "web")

# Any of these set true makes the server read-only (OMERO's clustering settings).
READ_ONLY = ("omero.cluster.read_only", "omero.cluster.read_only.db", "omero.cluster.read_only.repo")

# What OMERO.web reads besides omero.web.* (omeroweb/settings.py: mail and QA feedback).
WEB_PREFIXES = ("omero.web.", "omero.mail.", "omero.qa.")


def _server_rule(prop):
    if prop.startswith("omero.web."):
        return "OMERO.web properties belong in omero_web_config"
    return None


def _web_rule(prop):
    if not prop.startswith(WEB_PREFIXES):
        return ("omero_web_config takes the properties OMERO.web reads (%s); server properties go in "
                "omero_server_config" % ", ".join(p + "*" for p in WEB_PREFIXES))
    return None


def site_config(site, catalog, errors):
    """``(server ops, web ops)`` of omero_server_config / omero_web_config, every value checked."""
    managed = dict((c, catalog["omero_properties"][c].get("managed") or {}) for c in COMPONENTS)
    server_ops = omero_config.normalize(site.get("omero_server_config"), "omero_server_config", errors,
                                        managed["server"], _server_rule)
    web_ops = omero_config.normalize(site.get("omero_web_config"), "omero_web_config", errors,
                                     managed["web"], _web_rule)
    errors.extend(omero_values.problems(site.get("omero_server_config"), "omero_server_config", "server"))
    errors.extend(omero_values.problems(site.get("omero_web_config"), "omero_web_config", "web"))
    return server_ops, web_ops


def _servers(services):
    """The services that run OMERO.server (catalog ``omero_config: server``)."""
    return [svc for svc in services.values() if svc.get("omero_config") == "server"]


def _router(component, services, plugins, site_props, values):
    """Clients kept on the SSL router when the server's 4063 is not published."""
    del plugins, values
    ops = [server_settings.router_ops(svc, site_props["server"], site_props["web"]) for svc in _servers(services)]
    return [op for pair in ops for op in pair[COMPONENTS.index(component)]]


def _jvm_memory(component, services, plugins, site_props, values):
    """The server's JVM heaps sized by its memory limit."""
    del component, plugins, values
    return [op for svc in _servers(services) for op in server_settings.jvmcfg_ops(svc, site_props["server"])]


def _plugin_fallbacks(component, services, plugins, site_props, values):
    """OMERO.web settings that no plugin and no site property sets."""
    del component, services, values
    return [("set", prop, value) for prop, value in fallback_settings(plugins, site_props["web"]).items()]


def _read_only_server_list(component, services, plugins, site_props, values):
    """OMERO.web's server list naming the read-only servers, when the site runs any
    (read_only.py); the catalog's next default names the read-write server otherwise."""
    del component, plugins, site_props
    servers = read_only.server_list(services, values["site.site_name"])
    return [("set", "omero.web.server_list", omero_config.scalar_text(servers))] if servers else []


# Catalog ``omero_properties.<component>.defaults[].derived`` -> its generator.
GENERATORS = {"router": _router, "jvm_memory": _jvm_memory, "plugin_fallbacks": _plugin_fallbacks,
              "read_only_server_list": _read_only_server_list}


def _defaults(component, catalog, context, site_props):
    """The collection's properties of ``component``, in the catalog's order."""
    services, plugins, values = context
    ops = []
    for entry in catalog["omero_properties"][component].get("defaults") or []:
        if entry.get("derived"):
            ops.extend(GENERATORS[entry["derived"]](component, services, plugins, site_props, values))
        elif entry["property"] not in site_props[component] | set(op[1] for op in ops) and (
                not entry.get("when_enabled") or entry["when_enabled"] in provided(services)):
            value = placeholders.fill_data(entry["value"], values)
            ops.append(("set", entry["property"], omero_config.scalar_text(value)))
    return ops


def ops(catalog, settings, services, site_ops, plugins):
    """The collection's own OMERO properties first, then the site's (``site_ops``:
    ``(server ops, web ops)``), per component.

    The database settings are not here: the server image reads them from CONFIG_*
    variables only (catalog ``env`` of the server)."""
    server_ops, web_ops = site_ops
    site_props = {"server": set(op[1] for op in server_ops), "web": set(op[1] for op in web_ops)}
    context = (services, plugins, placeholders.context(settings, services))
    return (_defaults("server", catalog, context, site_props) + server_ops,
            _defaults("web", catalog, context, site_props) + web_ops)


def render_files(server_ops, web_ops):
    """The content of the ``*.omero`` file of each component (``server_ro``: read_only.py)."""
    return {"server": omero_config.render(server_ops, HEADER),
            "server_ro": omero_config.render(read_only.config_ops(server_ops), HEADER),
            "web": omero_config.render(web_ops, HEADER)}


def summary(server_ops, web_ops, script_folders):
    """The ``omero`` part of the model."""
    return {
        "server": [{"op": op, "property": prop, "value": text} for op, prop, text in server_ops],
        "web": [{"op": op, "property": prop, "value": text} for op, prop, text in web_ops],
        "script_folders": script_folders,
    }


def read_write(server_config):
    """False when ``omero_server_config`` makes the server read-only (any of :data:`READ_ONLY`
    true, in any form Ansible's ``bool`` reads, also as ``{set: value}``)."""
    config = server_config if isinstance(server_config, dict) else {}
    for prop in READ_ONLY:
        value = config.get(prop)
        if isinstance(value, dict) and set(value) == {"set"}:
            value = value["set"]
        if not isinstance(value, (dict, list)) and boolean(value, strict=False):
            return False
    return True
