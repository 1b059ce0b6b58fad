# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The OMERO properties of the site: the collection's own first, then the site's.

The collection manages some properties itself (:data:`SERVER_MANAGED`,
:data:`WEB_MANAGED`: the site sets the variable named instead) and sets defaults
derived from the services (data directory, server list, router and JVM settings of
server_settings.py, plugin fallbacks, the Redis cache and session engine); a site's own
value of a default wins. ``omero_server_config`` takes server properties,
``omero_web_config`` those OMERO.web reads (:data:`WEB_PREFIXES`). Both end up in one
rendered ``*.omero`` file per component (:data:`OMERO_FILE_NAME`). :func:`read_write` says
whether the server is the read-write one (the one the omero_bootstrap role bootstraps).
"""

from __future__ import annotations

import json

from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import (
    omero_config,
    omero_values,
    server_settings,
)
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import services as servicelib
from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import fallback_settings

OMERO_FILE_NAME = "60-omero-docker-stack.omero"
HEADER = ("Rendered by omero_docker.stack from the site model; local edits are overwritten.\n"
          "Loaded by the image with `omero load` at container start.")

# Properties the collection sets itself: the variable to use instead.
SERVER_MANAGED = {
    "omero.db.host": "nothing: the database service is always 'database'",
    "omero.db.name": "omero_site_db_name",
    "omero.db.user": "omero_site_db_user",
    "omero.db.pass": "omero_secrets.omero_db_password",
    "omero.data.dir": "omero_site_paths.omero_data (the host path mounted at /OMERO)",
}
WEB_MANAGED = {
    "omero.web.server_list": "omero_site_name (the server is always the omeroserver service)",
    "omero.web.secret_key": "omero_secrets.omero_web_secret_key",
}

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


def site_config(site, errors):
    """``(server ops, web ops)`` of omero_server_config / omero_web_config, every value checked."""
    server_ops = omero_config.normalize(site.get("omero_server_config"), "omero_server_config", errors,
                                        SERVER_MANAGED, _server_rule)
    web_ops = omero_config.normalize(site.get("omero_web_config"), "omero_web_config", errors,
                                     WEB_MANAGED, _web_rule)
    errors.extend(omero_values.problems(site.get("omero_server_config"), "omero_server_config", "server"))
    errors.extend(omero_values.problems(site.get("omero_web_config"), "omero_web_config", "web"))
    return server_ops, web_ops


def ops(settings, services, server_ops, web_ops, plugins):
    """The collection's own OMERO properties first, then the site's.

    The database settings are not here: the server image reads them from CONFIG_*
    variables only (catalog ``env`` of the server)."""
    enabled = servicelib.enabled(services)
    site_name = settings["omero_site_name"]
    user_server_props = set(op[1] for op in server_ops)
    user_web_props = set(op[1] for op in web_ops)
    server = [("set", "omero.data.dir", "/OMERO")]
    web = [("set", "omero.web.server_list", json.dumps([["omeroserver", 4064, site_name]], separators=(",", ":")))]
    for svc in services.values():
        if svc.get("omero_config") == "server":
            router_server, router_web = server_settings.router_ops(svc, user_server_props, user_web_props)
            server.extend(router_server + server_settings.jvmcfg_ops(svc, user_server_props))
            web.extend(router_web)
    web.extend(("set", prop, value) for prop, value in fallback_settings(plugins, user_web_props).items())
    if "redis" in enabled and "omero.web.caches" not in user_web_props:
        web.append(("set", "omero.web.caches", json.dumps(
            {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://redis:6379/0"}},
            sort_keys=True, separators=(",", ":"))))
    if "redis" in enabled and "omero.web.session_engine" not in user_web_props:
        web.append(("set", "omero.web.session_engine", "django.contrib.sessions.backends.cache"))
    return server + server_ops, web + web_ops


def render_files(server_ops, web_ops):
    """The content of the ``*.omero`` file of each component."""
    return {"server": omero_config.render(server_ops, HEADER), "web": omero_config.render(web_ops, HEADER)}


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
