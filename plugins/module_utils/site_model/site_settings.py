# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The site-wide settings (``omero_site_*``): their defaults and checks.

Also the shape of the other variables of the site description: which are dictionaries
(:data:`DICT_VARIABLES`), which are lists (:data:`LIST_VARIABLES`).
"""

from __future__ import annotations

import re

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import paths as pathlib_
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import resources as resourcelib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import as_int, check_bind, err
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.image_refs import HOST_RE, REPO_RE

# Site-wide variables and their defaults. `omero_site_model` is the output fact.
SITE_DEFAULTS = {
    "omero_site_name": "omero",
    "omero_site_base_dir": "/srv/omero",
    "omero_site_timezone": "UTC",
    "omero_site_registry_mirror": "",
    "omero_site_bind_address": "0.0.0.0",  # noqa: S104 - OMERO.web and OMERO.server are public by design
    "omero_site_local_bind_address": "127.0.0.1",
    "omero_site_paths": {},
    "omero_site_generate_secrets": False,
    "omero_site_secrets_store": "",
    "omero_site_db_name": "omero",
    "omero_site_db_user": "omero",
    "omero_site_plugin_db_name": "omero_plugin",
    "omero_site_plugin_db_user": "omero_plugin",
    "omero_site_log_max_size": "10m",
    "omero_site_log_max_files": 3,
    # compose (one host, docker compose) or swarm (docker stack deploy; swarm.py).
    "omero_site_engine": "compose",
    # read_only.py: omeroserver-ro-1 .. -N beside the read-write server.
    "omero_site_read_only_servers": 0,
    # monitoring_uis.py: the monitoring UIs the TLS proxy serves behind basic auth.
    "omero_site_proxy_monitoring": [],
}
OUTPUT_VARIABLES = ("omero_site_model",)
ENGINES = ("compose", "swarm")
LIST_VARIABLES = ("omero_web_plugins", "omero_scripts", "omero_groups", "omero_users", "omero_server_cli_plugins",
                  "omero_server_system_packages", "omero_script_folders")
DICT_VARIABLES = ("omero_services", "omero_server_config", "omero_web_config", "omero_secrets", "omero_monitoring")

_SITE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_TZ_RE = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+){0,2}$")


def _timezone_problem(tz):
    if not isinstance(tz, str) or not _TZ_RE.match(tz):
        return "not a time zone name"
    try:
        import zoneinfo  # noqa: PLC0415 - Python >= 3.9 only; module_utils must import on 3.8
    except ImportError:  # pragma: no cover
        return None
    try:
        zoneinfo.ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - any failure means unknown zone
        return "unknown time zone"
    return None


def site_settings(site, errors):
    """Validate the omero_site_* variables; return them with defaults applied."""
    settings = dict(SITE_DEFAULTS)
    for key, value in site.items():
        if not key.startswith("omero_site_") or key in OUTPUT_VARIABLES:
            continue
        if key not in SITE_DEFAULTS:
            close = [k for k in SITE_DEFAULTS if k.split("_")[2:3] == key.split("_")[2:3]]
            err(errors, key, "unknown site variable; known: %s" % ", ".join(close or sorted(SITE_DEFAULTS)))
            continue
        if value is not None:
            settings[key] = value
    _check_site_identity(settings, errors)
    _check_site_values(settings, errors)
    _check_variable_types(site, errors)
    return settings


# A database or role name: every statement and command of the collection quotes it (psql's
# :"name", community.postgresql, argv), so PostgreSQL's quoted identifiers are accepted, like the
# reference stack's `omero-plugin`, within what the other places that carry it take as they are:
# the JDBC URL OMERO.server builds, the exporter's DSN, the dump file names of pg-maintenance, and
# command lines (no leading '-').
_PG_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def pg_name_problem(name):
    """Why ``name`` cannot be a database or role name of the site, or None."""
    if not isinstance(name, str) or not _PG_NAME_RE.match(name):
        return ("'%s' is not a database or role name the site can use: a letter or '_', then letters, digits, "
                "'_', '-' or '.' (e.g. omero_plugin or omero-plugin)" % (name,))
    if len(name.encode("utf-8")) > 63:
        return "'%s' is longer than PostgreSQL's 63 bytes" % (name,)
    return None


def _check_site_identity(settings, errors):
    name = settings["omero_site_name"]
    if not isinstance(name, str) or not _SITE_NAME_RE.match(name):
        err(errors, "omero_site_name", "'%s' is not a valid compose project name: lower case letters, digits, "
                                       "'-' and '_', starting with a letter or digit" % (name,))
    base, problem = pathlib_.path_problem(settings["omero_site_base_dir"], "/srv/omero")
    settings["omero_site_base_dir"] = base
    if problem:
        err(errors, "omero_site_base_dir", problem)


def _check_site_values(settings, errors):
    problem = _timezone_problem(settings["omero_site_timezone"])
    if problem:
        err(errors, "omero_site_timezone", "'%s': %s; use an IANA name like UTC or Europe/Paris"
            % (settings["omero_site_timezone"], problem))
    mirror = settings["omero_site_registry_mirror"] or ""
    if mirror:
        host, dummy, path = str(mirror).partition("/")
        if not HOST_RE.match(host) or (path and not REPO_RE.match(path.rstrip("/"))):
            err(errors, "omero_site_registry_mirror", "'%s' is not 'host[:port][/path]' of a registry "
                                                      "mirror" % (mirror,))
    settings["omero_site_registry_mirror"] = str(mirror).rstrip("/") if mirror else ""
    check_bind(errors, "omero_site_bind_address", settings["omero_site_bind_address"])
    check_bind(errors, "omero_site_local_bind_address", settings["omero_site_local_bind_address"])
    _check_site_scalars(settings, errors)


def _check_site_scalars(settings, errors):
    for key in ("omero_site_db_name", "omero_site_db_user", "omero_site_plugin_db_name", "omero_site_plugin_db_user"):
        problem = pg_name_problem(settings[key])
        if problem:
            err(errors, key, problem)
    if not isinstance(settings["omero_site_generate_secrets"], bool):
        err(errors, "omero_site_generate_secrets", "must be true or false")
    if not isinstance(settings["omero_site_paths"], dict):
        err(errors, "omero_site_paths", "must be a dictionary of path names to absolute paths")
        settings["omero_site_paths"] = {}
    problem = resourcelib.size_problem(settings["omero_site_log_max_size"], False)
    if problem:
        err(errors, "omero_site_log_max_size", "%s (the json-file log driver's max-size, e.g. 100k, 10m, 1g)"
            % problem)
    if as_int(settings["omero_site_log_max_files"]) is None or as_int(settings["omero_site_log_max_files"]) < 1:
        err(errors, "omero_site_log_max_files", "must be a positive integer")
    if settings["omero_site_engine"] not in ENGINES:
        err(errors, "omero_site_engine", "'%s' is not one of %s (compose: one host; swarm: a Docker Swarm of the "
                                         "inventory's hosts)" % (settings["omero_site_engine"], ", ".join(ENGINES)))


def _check_variable_types(site, errors):
    for var in DICT_VARIABLES:
        value = site.get(var)
        if value is not None and not isinstance(value, dict):
            err(errors, var, "must be a dictionary, got %s" % type(value).__name__)
    for var in LIST_VARIABLES:
        value = site.get(var)
        if value is not None and not isinstance(value, list):
            err(errors, var, "must be a list, got %s" % type(value).__name__)


def summary(settings, hash_label):
    """The ``site`` part of the model."""
    return {
        "name": settings["omero_site_name"],
        "project_name": settings["omero_site_name"],
        "engine": settings["omero_site_engine"],
        "base_dir": settings["omero_site_base_dir"],
        "timezone": settings["omero_site_timezone"],
        "registry_mirror": settings["omero_site_registry_mirror"],
        "bind_address": settings["omero_site_bind_address"],
        "local_bind_address": settings["omero_site_local_bind_address"],
        "db_name": settings["omero_site_db_name"],
        "db_user": settings["omero_site_db_user"],
        "plugin_db_name": settings["omero_site_plugin_db_name"],
        "plugin_db_user": settings["omero_site_plugin_db_user"],
        "proxy_monitoring": list(settings["omero_site_proxy_monitoring"]),
        "hash_label": hash_label,
    }
