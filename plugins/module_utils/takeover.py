# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""Describe a running reference installation ("OMERO Docker Extended") as a site of this
collection, keeping what its data depends on (pure functions: the takeover role reads the
files on the host and writes the result on the controller for the operator to review).

The reference's layout (its repository at commit 20c4728c, docs/takeover.md):

- the install directory (default ``/opt/omero``) is the compose project directory; the
  project is named after it (``omero``), so its containers are ``omero-<service>-1``;
- ``.env`` holds the resolved host paths (``OMERO_USER_DATA_PATH``, ``OMERO_DATABASE_PATH``, ...)
  and two passwords; ``env/omero_secrets.env`` the other secrets; ``env/omeroserver.env`` and
  ``env/omeroweb.env`` the ``CONFIG_*`` properties and the plugins' variables;
- both PostgreSQL clusters live in ``<path>/pgdata`` (``PGDATA``); the plugin database and its
  role are ``omero-plugin``, on port 5433;
- OMERO.web's Django secret key is the file ``<OMERO_WEB_VAR_PATH>/django_secret_key``.

:func:`describe` returns the site variables, the secrets (carried as they are when the
collection takes them, else left to be generated and rotated: the deploy changes a database
role's password in place, the bootstrap root's, from the old value the takeover records),
and notes on what the operator must review.
"""

from __future__ import annotations

import posixpath
import re

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.omero_config import (
    CONFIG_ENV_PREFIX,
    property_from_config_env,
)
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.secrets import value_problem

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - the controller always has PyYAML
    HAS_YAML = False

# The files of the install directory the takeover reads (relative paths).
FILES = (".env", "docker-compose.yml", "env/omero_secrets.env", "env/omeroserver.env", "env/omeroweb.env",
         "env/omero-celery.env", "env/grafana.env")
WEB_SECRET_KEY_FILE = "django_secret_key"  # noqa: S105 - a file name

# Reference path variable (.env) -> omero_site_paths key of the collection.
PATHS = (
    ("OMERO_USER_DATA_PATH", "omero_data"),
    ("OMERO_SERVER_LOGS_PATH", "omero_server_logs"),
    ("OMERO_WEB_LOGS_PATH", "omero_web_logs"),
    ("OMERO_DATABASE_PATH", "database"),
    ("OMERO_PLUGIN_DATABASE_PATH", "database_plugin"),
    ("PROMETHEUS_DATA_PATH", "prometheus"),
    ("GRAFANA_DATA_PATH", "grafana"),
    ("LOKI_DATA_PATH", "loki"),
    ("PORTAINER_DATA_PATH", "portainer"),
    ("CROWDSEC_DB_PATH", "crowdsec_data"),
    ("CROWDSEC_CONFIG_PATH", "crowdsec_config"),
)
# Reference paths the collection has no place for (kept on the host, unused).
UNUSED_PATHS = ("OMERO_SERVER_VAR_PATH", "OMERO_UPLOAD_PATH", "OMERO_WEB_VAR_PATH", "OMERO_WEB_SUPERVISOR_LOGS_PATH",
                "NODE_EXPORTER_TEXTFILE_PATH", "PG_MAINTENANCE_DATA_PATH")

# Site secret -> where the reference keeps it (file, variable), in order of preference.
SECRETS = (
    ("omero_db_password", ((".env", "OMERO_DB_PASS"), ("env/omero_secrets.env", "OMERO_DB_PASS"))),
    ("plugin_db_password", ((".env", "OMP_PLUGIN_DB_PASS"), ("env/omero_secrets.env", "OMP_PLUGIN_DB_PASS"))),
    ("omero_root_password", (("env/omero_secrets.env", "ROOTPASS"),)),
    ("omero_job_service_password", (("env/omero_secrets.env", "OMERO_JOB_SERVICE_PASS"),)),
    ("grafana_admin_password", (("env/omero_secrets.env", "GF_SECURITY_ADMIN_PASSWORD"),)),
    ("omero_web_secret_key", ((WEB_SECRET_KEY_FILE, None),)),
)
# Secrets whose old value the collection needs to change them in place: root's (the bootstrap
# logs in with the last value that worked, roles/omero_bootstrap). The deploy changes a
# database role's password and Grafana's admin password without the old value.
ROTATED_FROM_RECORD = ("omero_root_password",)

# OMERO properties the collection sets itself from the site model.
SERVER_OWNED = ("omero.db.host", "omero.db.port", "omero.db.name", "omero.db.user", "omero.db.pass", "omero.host")
WEB_OWNED = ("omero.web.apps", "omero.web.ui.top_links", "omero.web.open_with", "omero.web.ui.center_plugins",
             "omero.web.ui.right_plugins", "omero.web.ui.metadata_panes", "omero.web.caches",
             "omero.web.session_engine", "omero.web.application_server.port", "omero.web.logdir",
             "omero.web.server_list", "omero.web.secret_key")
# The published ports users reach: (service, the collection's port name, the reference's
# container port, None: its first published port), and the collection's host defaults.
PORTS = (("omeroserver", "ssl", 4064), ("omeroweb", "http", None))
DEFAULT_HOST_PORTS = {("omeroserver", "ssl"): 4064, ("omeroweb", "http"): 4090}
_ENV_LINE_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_SITE_NAME_RE = re.compile(r"[^a-z0-9_-]+")


class TakeoverError(ValueError):
    """The files do not describe a reference installation the takeover understands."""


def parse_env(text):
    """``{VAR: value}`` of an env file as Docker Compose reads one (``KEY=VALUE`` lines, ``#``
    comments, values optionally in single or double quotes; no interpolation)."""
    values = {}
    for line in (text or "").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE_RE.match(line)
        if not match:
            continue
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def _services(compose):
    services = (compose or {}).get("services")
    if not isinstance(services, dict) or "omeroserver" not in services or "database" not in services:
        raise TakeoverError("docker-compose.yml has no omeroserver and database services: this is not the reference "
                            "stack's compose file")
    return services


def _environment(service):
    env = (service or {}).get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return dict((str(k), "" if v is None else str(v)) for k, v in env.items())


def _config_properties(env, owned):
    """``{property: value}`` of the CONFIG_* variables of an env file, without those the
    collection sets; and the names it left out."""
    props, left = {}, []
    for name, value in sorted(env.items()):
        if not name.startswith(CONFIG_ENV_PREFIX):
            continue
        prop = property_from_config_env(name)
        if prop in owned:
            left.append(prop)
        else:
            props[prop] = value
    return props, left


def _paths(dotenv, notes):
    paths = {}
    for var, key in PATHS:
        value = (dotenv.get(var) or "").rstrip("/")
        if value.startswith("/"):
            paths[key] = posixpath.normpath(value)
    for var in UNUSED_PATHS:
        if dotenv.get(var):
            notes.append("%s (%s) is kept on the host but the collection does not mount it" % (var, dotenv[var]))
    return paths


def _published(service, container):
    """The host port a compose service publishes for ``container`` (None: its first one)."""
    for entry in (service or {}).get("ports") or []:
        if isinstance(entry, dict):
            host, target = entry.get("published"), entry.get("target")
        else:
            parts = str(entry).split("/", maxsplit=1)[0].split(":")
            host, target = (parts[-2], parts[-1]) if len(parts) >= 2 else (None, parts[-1])
        try:
            if host is not None and (container is None or int(target) == container):
                return int(host)
        except (TypeError, ValueError):
            continue
    return None


def _database(service, default_name):
    env = _environment(service)
    return {"name": env.get("POSTGRES_DB") or default_name, "user": env.get("POSTGRES_USER") or default_name,
            "pgdata": env.get("PGDATA") or ""}


def _secrets(files, notes):
    carried, generated = {}, []
    for name, sources in SECRETS:
        value = None
        for source, var in sources:
            if source not in files or files[source] is None:
                continue
            value = files[source].strip() if var is None else parse_env(files[source]).get(var)
            if value:
                break
        if not value:
            notes.append("%s: not found in the reference; the collection generates it" % name)
            generated.append(name)
            continue
        problem = value_problem(value)
        if problem:
            notes.append("%s: the reference's value %s, so the collection generates a new one and changes it in place"
                         % (name, problem))
            generated.append(name)
        carried[name] = value
    return carried, generated


def describe(files, install_dir, base_dir):
    """The site description of the reference installation in ``install_dir`` whose files
    (:data:`FILES`, and :data:`WEB_SECRET_KEY_FILE`) are ``files`` (relative path -> text;
    a missing one: None), with the collection's own directory ``base_dir``.

    Returns ``{"site": {...}, "secrets": {...}, "generate": [...], "previous": {...}, "notes": [...],
    "project": <compose project>}``: ``secrets`` holds the values the site takes as they are,
    ``generate`` names those the collection must generate (missing or too weak), ``previous``
    the reference's values of those it changes in place from a record (root's: the bootstrap's
    record of the last root password that worked).
    """
    if not files.get("docker-compose.yml"):
        raise TakeoverError("%s/docker-compose.yml was not found: give the reference's install directory"
                            % install_dir)
    install_dir = posixpath.normpath(install_dir)
    base_dir = posixpath.normpath(base_dir)
    if base_dir == install_dir or base_dir.startswith(install_dir + "/") or install_dir.startswith(base_dir + "/"):
        raise TakeoverError("the site's base directory %s and the reference's %s overlap: the collection writes "
                            "env/, config/ and secrets/ there; choose another (e.g. /srv/omero)"
                            % (base_dir, install_dir))
    services = _services(yaml.safe_load(files["docker-compose.yml"]))
    dotenv = parse_env(files.get(".env"))
    server_env = parse_env(files.get("env/omeroserver.env"))
    web_env = parse_env(files.get("env/omeroweb.env"))
    notes = []
    project = _SITE_NAME_RE.sub("-", posixpath.basename(install_dir).lower()).strip("-_") or "omero"
    omero_db = _database(services.get("database"), "omero")
    plugin_db = _database(services.get("database_plugin"), "omero-plugin")
    site = {
        "omero_site_name": project,
        "omero_site_base_dir": base_dir,
        "omero_site_timezone": server_env.get("TZ") or web_env.get("TZ") or "UTC",
        "omero_site_paths": _paths(dotenv, notes),
        "omero_site_db_name": server_env.get("CONFIG_omero_db_name") or omero_db["name"],
        "omero_site_db_user": server_env.get("CONFIG_omero_db_user") or omero_db["user"],
        "omero_site_plugin_db_name": plugin_db["name"],
        "omero_site_plugin_db_user": plugin_db["user"],
    }
    overrides = {}
    for name, db in (("database", omero_db), ("database_plugin", plugin_db)):
        if db["pgdata"] and db["pgdata"] != "/var/lib/postgresql/data":
            overrides[name] = {"env": {"PGDATA": db["pgdata"]}}
    nofile = ((services["omeroserver"].get("ulimits") or {}).get("nofile"))
    if nofile:
        overrides["omeroserver"] = {"ulimits": {"nofile": nofile}}
    for name, port, container in PORTS:
        host = _published(services.get(name), container)
        if host is not None and host != DEFAULT_HOST_PORTS[(name, port)]:
            overrides.setdefault(name, {})["ports"] = {port: {"host": host}}
    off = sorted(n for n in ("portainer", "crowdsec", "cadvisor") if n in services)
    if off:
        notes.append("the reference runs %s, which the collection leaves off unless enabled "
                     "(omero_services.<name>.enabled: true)" % ", ".join(off))
    site["omero_services"] = overrides
    site["omero_server_config"], left_server = _config_properties(server_env, SERVER_OWNED)
    site["omero_web_config"], left_web = _config_properties(web_env, WEB_OWNED)
    if left_web or left_server:
        notes.append("set by the collection from the site model, not taken over: %s"
                     % ", ".join(left_server + left_web))
    apps = web_env.get("CONFIG_omero_web_apps")
    if apps:
        notes.append("OMERO.web registered these apps: %s; list each in omero_web_plugins (pip or src) to keep it"
                     % apps)
    plugin_vars = sorted(k for k in web_env if not k.startswith(CONFIG_ENV_PREFIX) and k not in ("TZ",))
    if plugin_vars:
        notes.append("the plugins' variables of env/omeroweb.env go in their omero_web_plugins entries (env; "
                     "secrets in secret_env): %s" % ", ".join(plugin_vars))
    carried, generate = _secrets(files, notes)
    previous = dict((n, carried[n]) for n in ROTATED_FROM_RECORD if n in carried)
    secrets = dict((n, v) for n, v in carried.items() if n not in generate)
    return {"site": site, "secrets": secrets, "generate": generate, "previous": previous, "notes": notes,
            "project": project}
