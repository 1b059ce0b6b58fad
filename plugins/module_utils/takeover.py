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
and notes on what the operator must review. :func:`cross_check` compares that description
with the reference's containers as they run (their ``docker inspect``): services not running,
containers the compose file does not declare, other images, other data directories or ports.
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
# Reference services the collection leaves off unless the site enables them.
OFF_IN_SITE = ("portainer", "crowdsec", "cadvisor")
# The labels Docker Compose gives the containers it creates.
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
_ENV_LINE_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_SITE_NAME_RE = re.compile(r"[^a-z0-9_-]+")
# Compose's interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR:+other}, $VAR.
_INTERPOLATION_RE = re.compile(
    r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


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


def interpolate(text, env):
    """``text`` of the compose file with the variables of ``env`` substituted as Docker Compose
    does (one level: a default that holds a variable is taken as it is)."""
    def _one(match):
        dollar, name, operator, word, bare = match.groups()
        if dollar:
            return "$"
        name = name or bare
        value = env.get(name)
        is_set = value is not None
        if operator in (":-", ":+", ":?"):
            is_set = bool(value)
        if operator and operator.endswith("-"):
            return value if is_set else word
        if operator and operator.endswith("+"):
            return word if is_set else ""
        return value or ""
    return _INTERPOLATION_RE.sub(_one, str(text))


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
    """``(host port, container port)`` a compose service publishes for ``container`` (None:
    its first published port); ``(None, None)`` when it publishes none."""
    for entry in (service or {}).get("ports") or []:
        if isinstance(entry, dict):
            host, target = entry.get("published"), entry.get("target")
        else:
            parts = str(entry).split("/", maxsplit=1)[0].split(":")
            host, target = (parts[-2], parts[-1]) if len(parts) >= 2 else (None, parts[-1])
        try:
            if host is not None and (container is None or int(target) == container):
                return int(host), int(target)
        except (TypeError, ValueError):
            continue
    return None, None


def _bind_mounts(service, dotenv):
    """``[(host path, container path)]`` of a compose service's absolute bind mounts."""
    mounts = []
    for entry in (service or {}).get("volumes") or []:
        if isinstance(entry, dict):
            source, target = interpolate(entry.get("source") or "", dotenv), entry.get("target")
        else:
            parts = interpolate(entry, dotenv).split(":")
            source, target = (parts[0], parts[1]) if len(parts) >= 2 else ("", None)
        if source.startswith("/") and target:
            mounts.append((posixpath.normpath(source), posixpath.normpath(str(target))))
    return mounts


def _declared(services, dotenv, paths):
    """What the compose file declares of each service, as :func:`cross_check` compares it with
    the running containers: ``{service: {"image": ..., "data": {container path: omero_site_paths
    key}, "ports": {container port (text): host port}}}`` (the image interpolated from .env, None when
    it has none; the mounts of the directories the site keeps; the ports of :data:`PORTS`)."""
    keys = dict((path, key) for key, path in paths.items())
    declared = {}
    for name, service in services.items():
        image = (service or {}).get("image")
        data = dict((target, keys[source]) for source, target in _bind_mounts(service, dotenv) if source in keys)
        ports = {}
        for port_service, _port, container in PORTS:
            host, target = _published(service, container) if port_service == name else (None, None)
            if host is not None:
                ports[str(target)] = host
        declared[name] = {"image": interpolate(image, dotenv) if image else None, "data": data, "ports": ports}
    return declared


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
    "project": <compose project>, "services": {...}}``: ``secrets`` holds the values the site takes as they are,
    ``generate`` names those the collection must generate (missing or too weak), ``previous``
    the reference's values of those it changes in place from a record (root's: the bootstrap's
    record of the last root password that worked), ``services`` what the compose file declares
    of each service (:func:`_declared`, for :func:`cross_check`).
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
    compose = yaml.safe_load(files["docker-compose.yml"])
    services = _services(compose)
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
        host, _target = _published(services.get(name), container)
        if host is not None and host != DEFAULT_HOST_PORTS[(name, port)]:
            overrides.setdefault(name, {})["ports"] = {port: {"host": host}}
    off = sorted(n for n in OFF_IN_SITE if n in services)
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
            "project": project, "compose_project": compose_project(compose, dotenv, install_dir),
            "services": _declared(services, dotenv, site["omero_site_paths"])}


def _image_ref(image):
    """An image reference as Docker resolves it (``postgres`` and ``docker.io/library/postgres:latest``
    are one image)."""
    ref = str(image or "")
    for prefix in ("docker.io/", "library/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
    if "@" not in ref and ":" not in ref.rsplit("/", maxsplit=1)[-1]:
        ref += ":latest"
    return ref


def _mount_source(mount):
    return mount.get("Source") if mount.get("Type") == "bind" else "volume %s" % mount.get("Name")


def _container_notes(name, declared, container, paths):
    """The notes on one container of a declared service: its image, its data mounts, its ports."""
    notes = []
    config = container.get("Config") or {}
    if declared["image"] and _image_ref(config.get("Image")) != _image_ref(declared["image"]):
        notes.append("%s runs image %s, docker-compose.yml says %s (the compose file changed since it was started?): "
                     "the description follows the compose file" % (name, config.get("Image"), declared["image"]))
    mounts = dict((posixpath.normpath(m.get("Destination") or "/"), m) for m in container.get("Mounts") or [])
    for target, key in sorted(declared["data"].items()):
        source = _mount_source(mounts[target]) if target in mounts else None
        if source is None or posixpath.normpath(source) != paths[key]:
            notes.append("%s mounts %s at %s, but the site description's omero_site_paths.%s is %s: check which "
                         "directory holds the data before the switch"
                         % (name, source or "nothing", target, key, paths[key]))
    bindings = (container.get("HostConfig") or {}).get("PortBindings") or {}
    for target, host in sorted(declared["ports"].items()):
        published = sorted(set(str(b.get("HostPort")) for b in bindings.get("%s/tcp" % target) or []))
        if str(host) not in published:
            notes.append("%s publishes container port %s on host port %s, docker-compose.yml (and the site "
                         "description) on %d" % (name, target, ", ".join(published) or "none", host))
    return notes


def _by_service(containers, project, declared):
    """The containers of compose project ``project`` by declared service, and a description of
    each other one (its name, service and state)."""
    by_service, undeclared = {}, []
    for container in sorted(containers, key=lambda c: c.get("Name") or ""):
        labels = (container.get("Config") or {}).get("Labels") or {}
        if labels.get(PROJECT_LABEL) != project:
            continue
        service = labels.get(SERVICE_LABEL)
        if service in declared:
            by_service.setdefault(service, []).append(container)
        else:
            undeclared.append("%s (service %s, %s)" % ((container.get("Name") or "").lstrip("/"), service,
                                                       (container.get("State") or {}).get("Status")))
    return by_service, undeclared


def compose_project(compose, dotenv, install_dir):
    """The name Docker Compose gives the reference's project, as its containers' label
    com.docker.compose.project has it: ``name:`` of the compose file, else COMPOSE_PROJECT_NAME
    of ``.env``, else the install directory's name, lower-cased without the characters a
    project name cannot hold (Compose drops them: ``OMERO Lab`` is ``omerolab``)."""
    name = (compose or {}).get("name") if isinstance(compose, dict) else None
    name = name or dotenv.get("COMPOSE_PROJECT_NAME") or posixpath.basename(install_dir)
    return re.sub(r"[^a-z0-9_-]", "", str(name).lower()).lstrip("_-")


def cross_check(result, containers, engine_error=None):
    """Notes on where the running reference differs from its description ``result`` (of
    :func:`describe`): ``containers`` is the ``docker inspect`` of each container of its compose
    project (None: the Docker engine did not answer, ``engine_error`` says why). The notes name
    containers, images, paths and ports, never a container's environment (it holds secrets)."""
    project = result.get("compose_project") or result["project"]
    if containers is None:
        return ["the running containers were not checked: the Docker engine did not answer (%s); the description "
                "comes from the reference's files alone" % (engine_error or "no reason given")]
    declared = result["services"]
    by_service, undeclared = _by_service(containers, project, declared)
    if not by_service and not undeclared:
        return ["no container of compose project %s was found: the reference is stopped, or Compose named its "
                "project otherwise (COMPOSE_PROJECT_NAME, name: in docker-compose.yml); the description comes from "
                "its files alone" % project]
    notes, stopped, unhealthy = [], [], []
    paths = result["site"]["omero_site_paths"]
    for service in sorted(declared):
        states = [(c.get("State") or {}) for c in by_service.get(service, [])]
        if not any(state.get("Status") == "running" for state in states):
            why = ", ".join(sorted(set(str(state.get("Status")) for state in states))) or "no container"
            stopped.append("%s (%s%s)" % (service, why, ", off in the site unless enabled"
                                          if service in OFF_IN_SITE else ""))
        if any((state.get("Health") or {}).get("Status") == "unhealthy" for state in states):
            unhealthy.append(service)
        for container in by_service.get(service, []):
            notes += _container_notes((container.get("Name") or service).lstrip("/"), declared[service], container,
                                      paths)
    if stopped:
        notes.insert(0, "services of docker-compose.yml not running: %s; the switch starts the site's services "
                     "(those off in the site only when enabled)" % "; ".join(stopped))
    if unhealthy:
        notes.append("unhealthy now (their healthcheck fails): %s; look at them before the switch"
                     % ", ".join(unhealthy))
    if undeclared:
        notes.append("containers of compose project %s that docker-compose.yml does not declare (started from an "
                     "older compose file?): %s; the site does not run them, the switch removes them with the others"
                     % (project, "; ".join(undeclared)))
    return notes or ["all %d services of docker-compose.yml were checked against the running containers: each "
                     "runs with the image, data directories and published ports the description says"
                     % len(declared)]
