# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Build the site model: validate the site description, apply defaults, derive values.

:func:`build_site_model` takes the site variables (a plain dict of the inventory's
``omero_site_*``, ``omero_services``, ``omero_server_config``, ``omero_web_config``,
``omero_web_plugins``, ``omero_scripts``, ``omero_groups``, ``omero_users`` values) and
the secret values, and returns a plain dict. It never returns a secret value: secrets
appear by reference only, and they enter the per-service input hashes as digests.

All validation happens here, before anything is rendered; every problem is reported
at once in a :class:`SiteModelError` naming its variable and the fix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import ipaddress
import json
import posixpath
import re

from ansible_collections.omero_docker.stack.plugins.module_utils.env_file import key_problem
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import (
    accounts,
    image_users,
    monitoring,
    omero_config,
    omero_values,
    rotation,
    server_settings,
)
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import images as imagelib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import paths as pathlib_
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import resources as resourcelib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import scripts as scriptlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import secrets as secretlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.image_refs import (
    HOST_RE,
    REPO_RE,
    image_problem,
    image_reference,
    parse_image,
    split_image,
)
from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import (
    REGISTRATION_KEYS,
    PluginError,
    fallback_settings,
    parse_requirement,
    validate_plugins,
)

MODEL_SCHEMA = 1
LABEL_PREFIX = "org.omero-docker.stack"
HASH_LABEL = LABEL_PREFIX + ".inputs-hash"
OMERO_FILE_NAME = "60-omero-docker-stack.omero"
# Written by the images stage (omero_web_plugins module), loaded before OMERO_FILE_NAME.
WEB_PLUGINS_FILE_NAME = "20-plugins.omero"

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
}
OUTPUT_VARIABLES = ("omero_site_model",)
LIST_VARIABLES = ("omero_web_plugins", "omero_scripts", "omero_groups", "omero_users", "omero_server_cli_plugins",
                  "omero_server_system_packages", "omero_script_folders")
DICT_VARIABLES = ("omero_services", "omero_server_config", "omero_web_config", "omero_secrets")

SERVICE_OVERRIDE_KEYS = ("enabled", "image", "build", "ports", "resources", "ulimits", "uid", "gid", "restart", "env",
                         "docker_socket")
PORT_OVERRIDE_KEYS = ("host", "bind", "publish")

_SITE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_TZ_RE = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+){0,2}$")
_APP_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PLACEHOLDER_RE = re.compile(r"\{site\.([a-z_]+)\}")

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


def _err(errors, var, msg):
    errors.append((var, msg))


def _inside(child, parent):
    return child == parent or child.startswith(parent.rstrip("/") + "/")


def _as_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _check_bind(errors, var, value):
    try:
        valid = isinstance(value, str) and "%" not in value and bool(ipaddress.ip_address(value))
    except ValueError:
        valid = False
    if not valid:
        _err(errors, var, "'%s' is not an IP address to bind to (e.g. 0.0.0.0, 127.0.0.1, ::, ::1; an IPv6 "
                          "address without brackets)" % (value,))
        return False
    return True


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


def _site_settings(site, errors):
    """Validate the omero_site_* variables; return them with defaults applied."""
    settings = dict(SITE_DEFAULTS)
    for key, value in site.items():
        if not key.startswith("omero_site_") or key in OUTPUT_VARIABLES:
            continue
        if key not in SITE_DEFAULTS:
            close = [k for k in SITE_DEFAULTS if k.split("_")[2:3] == key.split("_")[2:3]]
            _err(errors, key, "unknown site variable; known: %s" % ", ".join(close or sorted(SITE_DEFAULTS)))
            continue
        if value is not None:
            settings[key] = value
    _check_site_identity(settings, errors)
    _check_site_values(settings, errors)
    _check_variable_types(site, errors)
    return settings


def _check_site_identity(settings, errors):
    name = settings["omero_site_name"]
    if not isinstance(name, str) or not _SITE_NAME_RE.match(name):
        _err(errors, "omero_site_name", "'%s' is not a valid compose project name: lower case letters, digits, "
                                        "'-' and '_', starting with a letter or digit" % (name,))
    base, problem = pathlib_.path_problem(settings["omero_site_base_dir"], "/srv/omero")
    settings["omero_site_base_dir"] = base
    if problem:
        _err(errors, "omero_site_base_dir", problem)


def _check_site_values(settings, errors):
    problem = _timezone_problem(settings["omero_site_timezone"])
    if problem:
        _err(errors, "omero_site_timezone", "'%s': %s; use an IANA name like UTC or Europe/Paris"
             % (settings["omero_site_timezone"], problem))
    mirror = settings["omero_site_registry_mirror"] or ""
    if mirror:
        host, dummy, path = str(mirror).partition("/")
        if not HOST_RE.match(host) or (path and not REPO_RE.match(path.rstrip("/"))):
            _err(errors, "omero_site_registry_mirror", "'%s' is not 'host[:port][/path]' of a registry "
                                                       "mirror" % (mirror,))
    settings["omero_site_registry_mirror"] = str(mirror).rstrip("/") if mirror else ""
    _check_bind(errors, "omero_site_bind_address", settings["omero_site_bind_address"])
    _check_bind(errors, "omero_site_local_bind_address", settings["omero_site_local_bind_address"])
    _check_site_scalars(settings, errors)


def _check_site_scalars(settings, errors):
    for key in ("omero_site_db_name", "omero_site_db_user", "omero_site_plugin_db_name", "omero_site_plugin_db_user"):
        if not isinstance(settings[key], str) or not re.match(r"^[a-z_][a-z0-9_]{0,62}$", settings[key]):
            _err(errors, key, "'%s' is not a PostgreSQL identifier (lower case, [a-z0-9_])" % (settings[key],))
    if not isinstance(settings["omero_site_generate_secrets"], bool):
        _err(errors, "omero_site_generate_secrets", "must be true or false")
    if not isinstance(settings["omero_site_paths"], dict):
        _err(errors, "omero_site_paths", "must be a dictionary of path names to absolute paths")
        settings["omero_site_paths"] = {}
    problem = resourcelib.size_problem(settings["omero_site_log_max_size"], False)
    if problem:
        _err(errors, "omero_site_log_max_size", "%s (the json-file log driver's max-size, e.g. 100k, 10m, 1g)"
             % problem)
    if _as_int(settings["omero_site_log_max_files"]) is None or _as_int(settings["omero_site_log_max_files"]) < 1:
        _err(errors, "omero_site_log_max_files", "must be a positive integer")


def _check_variable_types(site, errors):
    for var in DICT_VARIABLES:
        value = site.get(var)
        if value is not None and not isinstance(value, dict):
            _err(errors, var, "must be a dictionary, got %s" % type(value).__name__)
    for var in LIST_VARIABLES:
        value = site.get(var)
        if value is not None and not isinstance(value, list):
            _err(errors, var, "must be a list, got %s" % type(value).__name__)


def _override_enabled(svc, value, var, errors):
    if not isinstance(value, bool):
        _err(errors, var, "must be true or false, got '%s'" % (value,))
    else:
        svc["enabled"] = value


def _override_image(svc, image, var, errors):
    svc["_image_given"] = True
    if isinstance(image, str):
        parsed = parse_image(image)
        if parsed is None:
            split = split_image(image)
            _err(errors, var, "'%s' is not a valid pinned image reference (registry/name:tag[@sha256:...])%s"
                 % (image, ": " + image_problem(split) if split else ""))
        else:
            svc["image"] = parsed
        return
    merged = dict(svc["image"])
    if isinstance(image, dict):
        merged.update(image)
    problem = image_problem(merged)
    if problem:
        _err(errors, var, problem)
    else:
        svc["image"] = merged


def _override_build(svc, value, var, errors):
    if not isinstance(value, bool):
        _err(errors, var, "must be true or false, got '%s'" % (value,))
    elif value and not svc.get("build"):
        _err(errors, var, "service '%s' runs its image as it is: it has no site image to build (remove %s)"
             % (svc["name"], var))
    elif not value:
        svc["build"] = None


def _override_id(key):
    def apply(svc, value, var, errors):
        number = _as_int(value)
        if number is None or number < 0 or number > 2 ** 31:
            _err(errors, var, "must be a numeric id, got '%s'" % (value,))
        else:
            svc[key] = number
            image_users.mark_given(svc, key)
    return apply


def _override_restart(svc, value, var, errors):
    problem = resourcelib.restart_problem(value)
    if problem:
        _err(errors, var, problem)
    else:
        svc["restart"] = value


def _override_resources(svc, res, var, errors):
    resourcelib.check_resources(svc, res, var, errors)


ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss",
                "rtprio", "rttime", "sigpending", "stack")


def _override_ulimits(svc, limits, var, errors):
    """omero_services.X.ulimits: {name: N or {soft: N, hard: N}}, merged over the catalog's."""
    if not isinstance(limits, dict):
        _err(errors, var, "takes {nofile: {soft: 8192, hard: 65536}} (or a number for both)")
        return
    merged = dict(svc.get("ulimits") or {})
    for name in sorted(limits, key=str):
        lvar, value = "%s.%s" % (var, name), limits[name]
        if name not in ULIMIT_NAMES:
            _err(errors, lvar, "unknown limit; Docker takes: %s" % ", ".join(ULIMIT_NAMES))
            continue
        pair = value if isinstance(value, dict) else {"soft": value, "hard": value}
        soft, hard = _as_int(pair.get("soft")), _as_int(pair.get("hard"))
        if set(pair) != {"soft", "hard"} or soft is None or hard is None or soft < -1 or hard < -1:
            _err(errors, lvar, "takes a number or {soft: N, hard: N} (-1: unlimited), got '%s'" % (value,))
        elif hard != -1 and (soft == -1 or soft > hard):
            _err(errors, lvar, "soft limit %s is above the hard limit %s" % (soft, hard))
        else:
            merged[name] = {"soft": soft, "hard": hard}
    svc["ulimits"] = merged


def _override_env(svc, env, var, errors):
    if not isinstance(env, dict):
        _err(errors, var, "must be a dictionary of environment variables")
        return
    for key in env:
        problem = key_problem(key)
        if problem:
            _err(errors, "%s.%s" % (var, key), problem)
        elif key in (svc.get("secret_env") or {}) or key.startswith(omero_config.CONFIG_ENV_PREFIX):
            _err(errors, "%s.%s" % (var, key), "is set by the collection or carries OMERO configuration: use "
                                               "omero_server_config / omero_web_config or omero_secrets")
    svc["env"] = dict(svc.get("env") or {}, **env)


def _override_docker_socket(svc, value, var, errors):
    if svc.get("name") != "omeroweb":
        _err(errors, var, "only omeroweb takes this setting")
    elif not isinstance(value, bool):
        _err(errors, var, "must be true or false")
    else:
        svc["docker_socket"] = value


def _override_port(port, pover, pvar, errors):
    if not isinstance(pover, dict) or set(pover) - set(PORT_OVERRIDE_KEYS):
        _err(errors, pvar, "takes {host: PORT, bind: ADDRESS, publish: true|false}")
        return
    if "host" in pover:
        value = _as_int(pover["host"])
        if value is None or not 1 <= value <= 65535:
            _err(errors, pvar + ".host", "'%s' is not a port number (1-65535)" % (pover["host"],))
        else:
            port["host"] = value
            port["overridden"] = True
    if "bind" in pover and _check_bind(errors, pvar + ".bind", pover["bind"]):
        port["bind"] = pover["bind"]
    if "publish" in pover:
        if not isinstance(pover["publish"], bool):
            _err(errors, pvar + ".publish", "must be true or false")
        else:
            port["publish"] = pover["publish"]


def _override_ports(svc, ports, var, errors):
    known = svc.get("ports") or {}
    if not isinstance(ports, dict):
        _err(errors, var, "must be a dictionary of port names (%s)" % ", ".join(sorted(known)))
        return
    for pname in sorted(ports, key=str):
        pvar = "%s.%s" % (var, pname)
        if pname not in known:
            _err(errors, pvar, "unknown port; %s has: %s" % (svc["name"], ", ".join(sorted(known)) or "no ports"))
        else:
            _override_port(known[pname], ports[pname], pvar, errors)


_OVERRIDES = {
    "enabled": _override_enabled,
    "image": _override_image,
    "uid": _override_id("uid"),
    "gid": _override_id("gid"),
    "restart": _override_restart,
    "resources": _override_resources,
    "ulimits": _override_ulimits,
    "env": _override_env,
    "build": _override_build,
    "docker_socket": _override_docker_socket,
    "ports": _override_ports,
}


def _services(catalog, overrides, errors):
    """Merge omero_services overrides into the catalog; return {name: service}."""
    services = copy.deepcopy(catalog["services"])
    for name, svc in services.items():
        svc["name"] = name
    overrides = overrides if isinstance(overrides, dict) else {}
    for name in sorted(overrides, key=str):
        var = "omero_services.%s" % name
        over = overrides[name]
        if name not in services:
            _err(errors, var, "unknown service '%s'; the catalog has: %s" % (name, ", ".join(sorted(services))))
        elif over is not None and not isinstance(over, dict):
            _err(errors, var, "must be a dictionary (e.g. {enabled: false})")
        else:
            for key in sorted(over or {}):
                if key not in _OVERRIDES:
                    _err(errors, "%s.%s" % (var, key), "unknown setting; a service takes: %s"
                         % ", ".join(SERVICE_OVERRIDE_KEYS))
                else:
                    _OVERRIDES[key](services[name], over[key], "%s.%s" % (var, key), errors)
    for svc in services.values():
        base_from = (svc.get("build") or {}).get("base_from")
        if base_from and not svc.pop("_image_given", False):
            svc["image"] = copy.deepcopy(services[base_from]["image"])
        svc.pop("_image_given", None)
        svc.setdefault("restart", "unless-stopped")
        for key in ("ports", "env", "secret_env", "secret_files", "config_files", "resources", "extra"):
            svc[key] = svc.get(key) or {}
        for key in ("volumes", "depends_on", "optional_deps", "restart_with", "init_only"):
            svc[key] = svc.get(key) or []
    return services


def _check_dependencies(services, errors):
    for name in sorted(services):
        svc = services[name]
        if not svc["enabled"]:
            continue
        for dep in svc["depends_on"]:
            if not services[dep]["enabled"]:
                _err(errors, "omero_services.%s.enabled" % dep,
                     "'%s' is disabled but the enabled service '%s' depends on it: enable %s "
                     "(omero_services.%s.enabled: true) or disable %s" % (dep, name, dep, dep, name))


def _ports(services, settings, errors):
    """Resolve published ports; check two services never share a host port."""
    taken = {}
    for name in sorted(services):
        svc = services[name]
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
                    _err(errors, blamed, "host port %d is published twice (%s and %s): give one of them "
                                         "another port" % (port["host"], blamed, other))
            taken[(port["bind"], port["host"])] = (var, port["overridden"])


def _resolve_paths(known, overrides, base, errors):
    """Each catalog path: the site's override (checked by paths.py) or its default under the base."""
    paths = {}
    for key in sorted(overrides, key=str):
        if key not in known:
            _err(errors, "omero_site_paths.%s" % key, "unknown path name; known: %s" % ", ".join(sorted(known)))
    for key, spec in known.items():
        value = overrides.get(key)
        if value is None:
            paths[key] = posixpath.join(base, spec["default"]) if isinstance(base, str) else spec["default"]
            continue
        value, problem = pathlib_.path_problem(value, "/data/omero/%s" % key)
        if problem:
            _err(errors, "omero_site_paths.%s" % key, problem)
        paths[key] = str(value)
    for key in sorted(k for k in overrides if k in known and isinstance(base, str)):
        if _inside(base, paths[key]):
            _err(errors, "omero_site_paths.%s" % key, "'%s' is the site's base directory or holds it (%s): "
                                                      "give %s a directory of its own" % (paths[key], base, key))
    return paths


def _paths(catalog, services, settings, errors):
    base = settings["omero_site_base_dir"]
    overrides = settings["omero_site_paths"]
    known = catalog["paths"]
    paths = _resolve_paths(known, overrides, base, errors)
    # Paths in use: those of the site and of enabled services.
    used = sorted(k for k, spec in known.items()
                  if not spec.get("service") or services[spec["service"]]["enabled"])
    for i, a in enumerate(used):
        for b in used[i + 1:]:
            pa, pb = paths[a], paths[b]
            if _inside(pa, pb) or _inside(pb, pa):
                var = a if a in overrides else b
                _err(errors, "omero_site_paths.%s" % var,
                     "'%s' (%s) and '%s' (%s) overlap: give each its own directory" % (pa, a, pb, b))
    directories = [{"path": base, "owner": 0, "group": 0, "mode": "0755", "purpose": "site base"}]
    for key in used:
        spec = known[key]
        if spec.get("service"):
            owner, group = services[spec["service"]]["uid"], services[spec["service"]]["gid"]
        else:
            owner, group = spec.get("uid", 0), spec.get("gid", 0)
        directories.append({"path": paths[key], "owner": owner, "group": group, "mode": spec["mode"],
                            "purpose": key, "service": spec.get("service") or ""})
    paths["base"] = base
    paths["compose_file"] = posixpath.join(base, "docker-compose.yml") if isinstance(base, str) else ""
    return paths, directories, used


def _check_plugin_parts(item, var, errors):
    for key in ("top_link", "center_plugin", "right_plugin"):
        link = item.get(key)
        if link is not None and (not isinstance(link, dict) or not link.get("label") or not link.get("url")):
            _err(errors, "%s.%s" % (var, key), "takes {label: TEXT, url: URL}")
    for key in ("open_with", "settings"):
        if item.get(key) is not None and not isinstance(item[key], dict):
            _err(errors, "%s.%s" % (var, key), "must be a dictionary")
    settings = item.get("settings") if isinstance(item.get("settings"), dict) else {}
    for prop, value in settings.items():
        problem = omero_config.property_name_problem(prop)
        if problem:
            _err(errors, "%s.settings['%s']" % (var, prop), "invalid OMERO property name: %s" % problem)
        elif omero_config.newline_problem(omero_config.scalar_text(value)):
            _err(errors, "%s.settings['%s']" % (var, prop), omero_config.newline_problem("\n"))


def _plugins(plugins, web_ops, errors):
    """Loose validation of omero_web_plugins (registration is the web plugins role's job)."""
    result = []
    apps = dict((json.loads(text), "omero_web_config['omero.web.apps']")
                for op, prop, text in web_ops if op == "append" and prop == "omero.web.apps"
                and isinstance(json.loads(text), str))
    names = set()
    for i, item in enumerate(plugins or []):
        var = "omero_web_plugins[%d]" % i
        if not isinstance(item, dict):
            _err(errors, var, "must be a dictionary with at least name and app")
            continue
        name, app = item.get("name"), item.get("app")
        if not isinstance(name, str) or not name:
            _err(errors, var + ".name", "is required (the plugin's name, e.g. omero-figure)")
        elif name in names:
            _err(errors, var + ".name", "plugin '%s' is listed twice" % name)
        names.add(name if isinstance(name, str) else "")
        if app is None or app == "":
            _err(errors, var + ".app", "is required: the Django app to add to omero.web.apps (e.g. omero_figure)")
        elif not isinstance(app, str) or not _APP_RE.match(app):
            _err(errors, var + ".app", "'%s' is not a Django app name: a Python module path like omero_figure "
                                       "(letters, digits and '_', dots between; no '-')" % (app,))
        elif app in apps:
            _err(errors, var + ".app", "web app '%s' is already registered by %s: list each app once"
                 % (app, apps[app]))
        else:
            apps[app] = var
        _check_plugin_parts(item, var, errors)
        result.append(copy.deepcopy(item))
    return result


def _named_list(items, var, errors, required=("name",)):
    names = set()
    for i, item in enumerate(items or []):
        ivar = "%s[%d]" % (var, i)
        if not isinstance(item, dict):
            _err(errors, ivar, "must be a dictionary with %s" % ", ".join(required))
            continue
        for key in required:
            if not isinstance(item.get(key), str) or not item.get(key):
                _err(errors, "%s.%s" % (ivar, key), "is required")
        name = item.get("name")
        if isinstance(name, str):
            if name in names:
                _err(errors, ivar + ".name", "'%s' is listed twice" % name)
            names.add(name)
    return copy.deepcopy(list(items or []))


def required_secrets(catalog, services):
    """Secret names the enabled services need."""
    needed = set()
    for svc in services.values():
        if not svc["enabled"]:
            continue
        needed.update(svc["secret_env"].values())
        needed.update(svc["secret_files"].values())
    for sname, spec in catalog["secrets"].items():
        if any(services[s]["enabled"] for s in (spec or {}).get("required_by", [])):
            needed.add(sname)
    return needed


def _subst(value, context):
    if not isinstance(value, str):
        return value
    return _PLACEHOLDER_RE.sub(lambda m: str(context[m.group(1)]), value)


def _canonical_hash(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def enabled_services(site, catalog=None):
    """Names of the services the site enables (tolerant of other mistakes)."""
    catalog = catalog or load_catalog()
    errors = []
    services = _services(catalog, site.get("omero_services"), errors)
    return sorted(n for n, s in services.items() if s["enabled"])


def secrets_needed(site, catalog=None):
    """Secret names the site needs (tolerant of other mistakes), for the action plugin."""
    catalog = catalog or load_catalog()
    services = _services(catalog, site.get("omero_services"), [])
    return sorted(required_secrets(catalog, services))


def _validate_secrets(site, secret_values, catalog, services, errors):
    """Required secrets present and every given one strong. Returns (values, given, needed)."""
    given = site.get("omero_secrets") if isinstance(site.get("omero_secrets"), dict) else {}
    given = dict((k, v) for k, v in given.items() if v is not None)
    values = dict(given)
    values.update((k, v) for k, v in (secret_values or {}).items() if v is not None)
    for sname in sorted(values, key=str):
        problem = secretlib.name_problem(sname) or secretlib.value_problem(values[sname])
        if not problem and site.get("omero_site_generate_secrets") is True and sname not in catalog["secrets"]:
            problem = ("is not a secret of the site, so the one it was meant for would be generated instead: fix the "
                       "name; known: %s" % ", ".join(sorted(catalog["secrets"])))
        if problem:
            _err(errors, "omero_secrets.%s" % sname, problem)
    needed = required_secrets(catalog, services)
    enabled = [n for n, svc in services.items() if svc["enabled"]]
    for sname in sorted(needed - set(values)):
        users = sorted(n for n in enabled if sname in services[n]["secret_env"].values()
                       or sname in services[n]["secret_files"].values())
        users = users or sorted((catalog["secrets"].get(sname) or {}).get("required_by", []))
        _err(errors, "omero_secrets.%s" % sname,
             "is required by %s (%s): set it in the inventory vault, or set "
             "omero_site_generate_secrets: true to generate it on the controller"
             % (", ".join(users), catalog["secrets"][sname]["description"]))
    return values, given, needed


def _server_rule(prop):
    if prop.startswith("omero.web."):
        return "OMERO.web properties belong in omero_web_config"
    return None


# What OMERO.web reads besides omero.web.* (omeroweb/settings.py: mail and QA feedback).
WEB_PREFIXES = ("omero.web.", "omero.mail.", "omero.qa.")


def _web_rule(prop):
    if not prop.startswith(WEB_PREFIXES):
        return ("omero_web_config takes the properties OMERO.web reads (%s); server properties go in "
                "omero_server_config" % ", ".join(p + "*" for p in WEB_PREFIXES))
    return None


def _validate_omero(site, errors):
    """OMERO configuration, web plugins, scripts, groups and users."""
    server_ops = omero_config.normalize(site.get("omero_server_config"), "omero_server_config", errors,
                                        SERVER_MANAGED, _server_rule)
    web_ops = omero_config.normalize(site.get("omero_web_config"), "omero_web_config", errors,
                                     WEB_MANAGED, _web_rule)
    errors.extend(omero_values.problems(site.get("omero_server_config"), "omero_server_config", "server"))
    errors.extend(omero_values.problems(site.get("omero_web_config"), "omero_web_config", "web"))
    plugins = _plugins(site.get("omero_web_plugins"), web_ops, errors)
    scripts = _named_list(site.get("omero_scripts"), "omero_scripts", errors, required=("name",))
    for i, item in enumerate(scripts):
        if not isinstance(item, dict):
            continue
        if item.get("git"):
            _err(errors, "omero_scripts[%d].git" % i, "git sources are not registered: pin a release (pip) or a "
                                                      "file (src, content, or url with checksum) instead")
        elif not any(item.get(k) for k in scriptlib.SITE_SOURCES + ("pip",)):
            _err(errors, "omero_scripts[%d]" % i, "needs one of src, content, url or pip to say where the script "
                                                  "comes from")
    folders = site.get("omero_script_folders") or []
    script_folders = scriptlib.script_folders(scripts, folders, errors)
    groups = _named_list(site.get("omero_groups"), "omero_groups", errors)
    users = _named_list(site.get("omero_users"), "omero_users", errors)
    errors.extend(accounts.problems(groups, users))
    return {"server_ops": server_ops, "web_ops": web_ops, "plugins": plugins, "scripts": scripts,
            "script_folders": script_folders, "groups": groups, "users": users}


def _omero_ops(settings, services, server_ops, web_ops, plugins):
    """The collection's own OMERO properties first, then the site's.

    The database settings are not here: the server image reads them from CONFIG_*
    variables only (catalog ``env`` of the server)."""
    enabled = sorted(n for n, s in services.items() if s["enabled"])
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


def _bind(source, target, read_only=True, **extra):
    bind = {"create_host_path": False}
    bind.update(extra)
    return {"type": "bind", "source": source, "target": target, "read_only": read_only, "bind": bind}


CADVISOR_MOUNTS = (("/", "/rootfs"), ("/var/run", "/var/run"), ("/sys", "/sys"),
                   ("/var/lib/docker", "/var/lib/docker"), ("/dev/disk", "/dev/disk"))


class _Renderer(object):
    """Derives the files, env files, secrets and compose definition of each enabled service."""

    def __init__(self, catalog, settings, services, *, paths, used_paths, secrets, omero_files,
                 web_registration=None, script_folders=()):
        self.catalog = catalog
        self.settings = settings
        self.services = services
        self.paths = paths
        self.used_paths = used_paths
        self.values, self.given, self.generated = secrets
        self.omero_files = omero_files
        self.web_registration = web_registration
        self.script_folders = list(script_folders)
        self.enabled = sorted(n for n, s in services.items() if s["enabled"])
        self.site_name = settings["omero_site_name"]
        self.context = {
            "omero_db_name": settings["omero_site_db_name"],
            "omero_db_user": settings["omero_site_db_user"],
            "plugin_db_name": settings["omero_site_plugin_db_name"],
            "plugin_db_user": settings["omero_site_plugin_db_user"],
            "site_name": self.site_name,
        }
        self.files, self.env_files, self.secret_files, self.directories = [], [], [], []
        self.compose_services, self.compose_secrets, self.hashes = {}, {}, {}
        self.secret_refs = {}

    def secret_ref(self, sname):
        if sname not in self.secret_refs:
            self.secret_refs[sname] = {
                "variable": "omero_secrets.%s" % sname,
                "source": "generated" if (sname in self.generated and sname not in self.given) else "inventory",
                "consumers": [],
                "description": (self.catalog["secrets"].get(sname) or {}).get("description", "site secret"),
            }
        return self.secret_refs[sname]

    def mounts(self, name, svc):
        mounts = [_bind(self.paths[v["path"]], v["target"], bool(v.get("read_only", False))) for v in svc["volumes"]]
        if svc.get("docker_socket"):
            mounts.append(_bind("/var/run/docker.sock", "/var/run/docker.sock", name != "portainer"))
        if svc.get("host_root"):
            mounts.append(_bind("/", "/host", True, propagation="rslave"))
        if svc.get("cadvisor_mounts"):
            mounts.extend(_bind(src, dst) for src, dst in CADVISOR_MOUNTS)
        if svc.get("data_paths_read_only"):
            mounts.extend(_bind(self.paths[key], "/data/" + key) for key in self.used_paths
                          if self.catalog["paths"][key].get("service"))
        if svc.get("script_folders_target"):
            mounts.extend(_bind(host, target, False) for dummy, host, target in scriptlib.mounts(
                self.script_folders, self.paths["omero_scripts"], svc["script_folders_target"]))
        return mounts

    def config_files(self, name, svc, mounts, inputs):
        """OMERO and monitoring files, mounted read-only one by one."""
        rendered = {}
        if svc.get("omero_config"):
            component = svc["omero_config"]
            rendered[OMERO_FILE_NAME] = (self.omero_files[component],
                                         "/opt/omero/%s/config/%s" % (component, OMERO_FILE_NAME))
        if svc.get("omero_config") == "web" and self.web_registration:
            # Written by the images stage from the plugin list (what it hashes is here).
            reg = self.web_registration
            mounts.append(_bind(reg["file"], reg["target"]))
            inputs["web_registration"] = {"plugins": reg["plugins"], "base_config": reg["base_config"]}
        for fname, content in monitoring.config_files(name, self.enabled, self.site_name).items():
            rendered[fname] = (content, svc["config_files"][fname])
        config_dir = posixpath.join(self.paths["config"], name)
        for fname in sorted(rendered):
            content, target = rendered[fname]
            path = posixpath.join(config_dir, fname)
            self.files.append({"path": path, "content": content, "owner": 0, "group": 0, "mode": "0644",
                               "service": name, "kind": "omero" if fname.endswith(".omero") else "monitoring"})
            mounts.append(_bind(path, target))
            inputs["files"][target] = content
        if rendered:
            self.directories.append({"path": config_dir, "owner": 0, "group": 0, "mode": "0755",
                                     "purpose": "config of " + name, "service": name})

    def env_file(self, name, svc, inputs):
        """One root-only env file per service: plain settings and secrets without *_FILE support."""
        env = {"TZ": self.settings["omero_site_timezone"]}
        env.update((key, _subst(value, self.context)) for key, value in svc["env"].items())
        path = posixpath.join(self.paths["env"], name + ".env")
        self.env_files.append({"path": path, "service": name, "env": env, "secret_env": dict(svc["secret_env"]),
                               "owner": 0, "group": 0, "mode": "0600"})
        inputs["env"] = env
        for key, sname in svc["secret_env"].items():
            # Applied only at first initialisation: a new value must not recreate the
            # container (it would change nothing); rotation is a deploy/bootstrap step.
            if key not in svc["init_only"]:
                inputs["secrets"]["env:" + key] = secretlib.digest(self.values[sname])
            self.secret_ref(sname)["consumers"].append("%s (env %s)" % (name, key))
        return path

    def secrets_for(self, name, svc, inputs):
        """Secret files per consumer, owned by the user the container runs as."""
        refs = []
        for target, sname in sorted(svc["secret_files"].items()):
            spath = posixpath.join(self.paths["secrets"], name, target)
            self.secret_files.append({"path": spath, "secret": sname, "service": name, "owner": svc["uid"],
                                      "group": svc["gid"], "mode": "0600"})
            key = "%s_%s" % (name.replace("-", "_"), target)
            self.compose_secrets[key] = {"file": spath}
            refs.append({"source": key, "target": target})
            if target not in svc["init_only"]:
                inputs["secrets"]["file:" + target] = secretlib.digest(self.values[sname])
            self.secret_ref(sname)["consumers"].append("%s (/run/secrets/%s)" % (name, target))
        if refs:
            self.directories.append({"path": posixpath.join(self.paths["secrets"], name), "owner": 0, "group": 0,
                                     "mode": "0700", "purpose": "secrets of " + name, "service": name})
        return refs

    def depends_on(self, svc):
        deps = {}
        for dep in svc["depends_on"] + svc["optional_deps"]:
            if dep in self.enabled:
                healthy = bool(self.services[dep].get("healthcheck"))
                deps[dep] = {"condition": "service_healthy" if healthy else "service_started"}
        return deps

    def definition(self, svc, env_path, mounts, secret_refs):
        settings = self.settings
        definition = {
            "image": svc.get("run_image") or image_reference(svc["image"], settings["omero_site_registry_mirror"]),
            "restart": svc["restart"],
            "env_file": [env_path],
            "networks": ["omero"],
            "security_opt": ["no-new-privileges:true"],
            "logging": {"driver": "json-file", "options": {"max-size": str(settings["omero_site_log_max_size"]),
                                                           "max-file": str(settings["omero_site_log_max_files"])}},
        }
        optional = {
            "pull_policy": "never" if svc.get("build") else None,
            "privileged": True if svc.get("privileged") else None,
            "devices": ["/dev/kmsg"] if svc.get("privileged") else None,
            "ports": [{"target": p["container"], "published": str(p["host"]), "host_ip": p["bind"],
                       "protocol": "tcp", "name": p["name"]} for p in svc["published_ports"]] or None,
            "volumes": mounts or None,
            "secrets": secret_refs or None,
            "depends_on": self.depends_on(svc) or None,
            "healthcheck": copy.deepcopy(svc.get("healthcheck")) or None,
            "mem_limit": str(svc["resources"]["memory"]) if svc["resources"].get("memory") else None,
            "cpus": float(svc["resources"]["cpus"]) if svc["resources"].get("cpus") else None,
            "ulimits": copy.deepcopy(svc["ulimits"]) if svc.get("ulimits") else None,
        }
        definition.update((k, v) for k, v in optional.items() if v is not None)
        definition.update((k, copy.deepcopy(v)) for k, v in svc["extra"].items())
        return definition

    def render(self, name):
        svc = self.services[name]
        inputs = {"files": {}, "secrets": {}}
        mounts = self.mounts(name, svc)
        self.config_files(name, svc, mounts, inputs)
        env_path = self.env_file(name, svc, inputs)
        secret_refs = self.secrets_for(name, svc, inputs)
        definition = self.definition(svc, env_path, mounts, secret_refs)
        inputs["definition"] = definition
        digest = _canonical_hash(inputs)
        self.hashes[name] = digest
        definition["labels"] = {
            LABEL_PREFIX + ".site": self.site_name,
            LABEL_PREFIX + ".service": name,
            HASH_LABEL: digest,
        }
        self.compose_services[name] = definition

    def apply_restart_with(self, enabled):
        """Fold the own input hashes of the services a service declares it restarts with
        (catalog ``restart_with``) into its hash label, so that Compose recreates it
        whenever one of them is recreated. Not transitive: each service lists its peers."""
        own = dict(self.hashes)
        for name in enabled:
            peers = sorted(p for p in self.services[name]["restart_with"] if p in own)
            if not peers:
                continue
            digest = _canonical_hash({"own": own[name], "restart_with": dict((p, own[p]) for p in peers)})
            self.hashes[name] = digest
            self.compose_services[name]["labels"][HASH_LABEL] = digest

    def compose(self):
        compose = {
            "name": self.site_name,
            "services": self.compose_services,
            "networks": {"omero": {"name": "%s_omero" % self.site_name}},
        }
        if self.compose_secrets:
            compose["secrets"] = self.compose_secrets
        return compose

    def summary(self):
        mirror = self.settings["omero_site_registry_mirror"]
        return dict((name, {
            "enabled": svc["enabled"],
            "description": svc.get("description", ""),
            "image": svc.get("run_image") or image_reference(svc["image"], mirror),
            "build": bool(svc.get("build")),
            "base_image": image_reference(svc["image"], mirror) if svc.get("build") else "",
            "uid": svc["uid"],
            "gid": svc["gid"],
            "ports": svc["published_ports"],
            "depends_on": list(svc["depends_on"]),
            "env_file": posixpath.join(self.paths["env"], name + ".env") if svc["enabled"] else "",
            "inputs_hash": self.hashes.get(name, ""),
        }) for name, svc in sorted(self.services.items()))

    def stale_paths(self):
        """Files this collection rendered for services that are now disabled (never data)."""
        stale = []
        for name in sorted(n for n, s in self.services.items() if not s["enabled"]):
            stale.extend([posixpath.join(self.paths["env"], name + ".env"),
                          posixpath.join(self.paths["secrets"], name),
                          posixpath.join(self.paths["config"], name)])
        return stale


def _unique_paths(directories):
    seen = set()
    unique = []
    for d in directories:
        if d["path"] not in seen:
            seen.add(d["path"])
            unique.append(d)
    return unique


def _strict_plugins(plugins, local_files, errors):
    """The plugin list as the site image holds it (wheels at their in-image path),
    checked with the same rules as the omero_web_plugins module."""
    dummy, dummy2, in_image = imagelib.web_requirements(plugins, [], local_files)
    hint = "every pip must be pinned: NAME==VERSION, a wheel file, or a git URL at a 40-hex commit"
    bad_pips = 0
    for i, entry in enumerate(in_image):
        try:
            if entry.get("pip") is not None:
                parse_requirement(entry["pip"], entry.get("name"))
        except PluginError as exc:
            _err(errors, "omero_web_plugins[%d].pip" % i, str(exc) if "pinned" in str(exc) else "%s (%s)"
                 % (exc, hint))
            bad_pips += 1
    for i in range(len(in_image) if not bad_pips else 0):
        try:
            validate_plugins(in_image[:i + 1])
        except PluginError as exc:
            _err(errors, "omero_web_plugins[%d]" % i, str(exc))
            break
    return in_image


def _plugin_secret_env(services, plugins, catalog, errors):
    """Plugin settings whose value is a site secret travel as CONFIG_* variables in
    OMERO.web's root-only env file (never in a rendered *.omero file)."""
    web = services.get("omeroweb")
    for i, plugin in enumerate(plugins):
        given = plugin.get("secret_settings") if isinstance(plugin, dict) else None
        if given is None:
            continue
        var = "omero_web_plugins[%d].secret_settings" % i
        if not isinstance(given, dict):
            _err(errors, var, "maps OMERO.web properties to secret names, e.g. {omero.web.x.db_password: "
                              "plugin_db_password}")
            continue
        for prop, sname in sorted(given.items()):
            problem = omero_config.property_name_problem(prop)
            if problem:
                _err(errors, "%s['%s']" % (var, prop), "invalid OMERO property name: %s" % problem)
            elif sname not in catalog["secrets"]:
                _err(errors, "%s['%s']" % (var, prop), "'%s' is not a site secret; one of: %s"
                     % (sname, ", ".join(sorted(catalog["secrets"]))))
            elif web is not None:
                web["secret_env"][omero_config.config_env_name(prop)] = sname


def _registration_split(web_ops):
    """Site values of the registration lists (``set``) go to the plugin registration as
    its base; appends stay in the site's *.omero file, loaded after it."""
    base, rest = {}, []
    for op, prop, text in web_ops:
        if op == "set" and prop in REGISTRATION_KEYS:
            base[prop] = text
        else:
            rest.append((op, prop, text))
    return base, rest


def _site_images(services, enabled, settings, site, local_files):
    """Build specs of the enabled services with a site image; sets their run image."""
    specs = {}
    mirror = settings["omero_site_registry_mirror"]
    for name in enabled:
        svc = services[name]
        build = svc.get("build")
        if not build:
            continue
        copies, generated = [], {}
        if build["context"] == "omero-web":
            extra = [r for dep, reqs in sorted((build.get("requirements_with") or {}).items()) if dep in enabled
                     for r in reqs]
            generated["requirements.txt"], copies, dummy = imagelib.web_requirements(
                site.get("omero_web_plugins") or [], extra, local_files)
        elif build["context"] == "omero-server":
            generated, copies = imagelib.server_files(site.get("omero_server_cli_plugins") or [],
                                                      site.get("omero_server_system_packages") or [], local_files)
        spec = imagelib.build_spec(name, build, base_ref=image_reference(svc["image"], mirror),
                                   base_tag=svc["image"]["tag"], generated=generated, copies=copies,
                                   context_dir=posixpath.join(settings["omero_site_base_dir"], "build", name))
        svc["run_image"] = spec["reference"]
        specs[name] = spec
    return specs


def _script_directories(services, paths, folders):
    """Host directories of the script folders, owned by the server (image_users applied)."""
    dirs = []
    for svc in services.values():
        if svc["enabled"] and svc.get("script_folders_target"):
            dirs.extend({"path": path, "owner": svc["uid"], "group": svc["gid"], "mode": "0750",
                         "purpose": "script folder", "service": svc["name"]}
                        for path in scriptlib.host_directories(folders, paths["omero_scripts"]))
    return dirs


def build_site_model(site, secret_values=None, catalog=None, generated=(), local_files=None, *, image_ids=None):
    """Validate ``site`` and return the site model (plain dict, no secret values).

    ``secret_values`` maps secret names to values (inventory ``omero_secrets`` merged
    with generated ones); ``generated`` names those that were generated. ``local_files``
    maps wheel files named in the site description to ``{path, sha256}`` on the
    controller (found by the action plugin). ``image_ids`` maps services to the
    ``{uid, gid}`` of their image's account, read on the host (see image_users.py).
    """
    catalog = catalog or load_catalog()
    errors = []
    site = dict(site or {})
    settings = _site_settings(site, errors)
    services = _services(catalog, site.get("omero_services"), errors)
    image_users.apply(services, image_ids, errors)
    scripts_given = site.get("omero_scripts") if isinstance(site.get("omero_scripts"), list) else []
    errors.extend(scriptlib.src_problems(scripts_given, local_files))
    local_files = dict(local_files or {})
    raw_plugins = site.get("omero_web_plugins") if isinstance(site.get("omero_web_plugins"), list) else []
    _plugin_secret_env(services, raw_plugins, catalog, errors)
    _check_dependencies(services, errors)
    _ports(services, settings, errors)
    paths, directories, used_paths = _paths(catalog, services, settings, errors)
    values, given, needed = _validate_secrets(site, secret_values, catalog, services, errors)
    omero = _validate_omero(site, errors)
    errors.extend(omero_values.redis_problems(site.get("omero_web_config"),
                                              services.get("redis", {}).get("enabled", False)))
    imagelib.validate_inputs(site, raw_plugins, local_files, errors)
    in_image_plugins = [] if errors else _strict_plugins(raw_plugins, local_files, errors)
    if errors:
        raise SiteModelError(errors)

    # ---- derivation (the description is valid from here on) ----
    enabled = sorted(n for n, s in services.items() if s["enabled"])
    server_ops, web_ops = _omero_ops(settings, services, omero["server_ops"], omero["web_ops"], in_image_plugins)
    registration_base, web_ops = _registration_split(web_ops)
    images = _site_images(services, enabled, settings, site, local_files)
    web_registration = None
    if "omeroweb" in enabled:
        web_dir = posixpath.join(paths["config"], "omeroweb")
        web_registration = {
            "plugins": in_image_plugins,
            "base_config": registration_base,
            "file": posixpath.join(web_dir, WEB_PLUGINS_FILE_NAME),
            "target": "/opt/omero/web/config/" + WEB_PLUGINS_FILE_NAME,
        }
    header = ("Rendered by omero_docker.stack from the site model; local edits are overwritten.\n"
              "Loaded by the image with `omero load` at container start.")
    omero_files = {"server": omero_config.render(server_ops, header), "web": omero_config.render(web_ops, header)}
    renderer = _Renderer(catalog, settings, services, paths=paths, used_paths=used_paths,
                         secrets=(values, given, set(generated)), omero_files=omero_files,
                         web_registration=web_registration, script_folders=omero["script_folders"])
    for sname in sorted(needed | set(values)):
        renderer.secret_ref(sname)
    for name in enabled:
        renderer.render(name)
    renderer.apply_restart_with(enabled)

    return {
        "schema": MODEL_SCHEMA,
        "site": {
            "name": settings["omero_site_name"],
            "project_name": settings["omero_site_name"],
            "base_dir": settings["omero_site_base_dir"],
            "timezone": settings["omero_site_timezone"],
            "registry_mirror": settings["omero_site_registry_mirror"],
            "bind_address": settings["omero_site_bind_address"],
            "local_bind_address": settings["omero_site_local_bind_address"],
            "db_name": settings["omero_site_db_name"],
            "db_user": settings["omero_site_db_user"],
            "plugin_db_name": settings["omero_site_plugin_db_name"],
            "plugin_db_user": settings["omero_site_plugin_db_user"],
            "hash_label": HASH_LABEL,
        },
        "enabled_services": enabled,
        "services": renderer.summary(),
        "paths": paths,
        "directories": _unique_paths(directories + _script_directories(services, paths, omero["script_folders"])
                                     + renderer.directories),
        "secrets": renderer.secret_refs,
        "secret_files": renderer.secret_files,
        "env_files": renderer.env_files,
        "stale_paths": renderer.stale_paths(),
        "files": renderer.files,
        "compose": renderer.compose(),
        "service_hashes": renderer.hashes,
        "image_users": image_users.lookups(services, enabled, lambda svc: image_reference(
            svc["image"], settings["omero_site_registry_mirror"])),
        "databases": rotation.databases(services, enabled, lambda v: _subst(v, renderer.context)),
        "init_only_secrets": rotation.init_only_secrets(services, enabled),
        "omero": {
            "server": [{"op": op, "property": prop, "value": text} for op, prop, text in server_ops],
            "web": [{"op": op, "property": prop, "value": text} for op, prop, text in web_ops],
            "script_folders": omero["script_folders"] if any(services[n].get("script_folders_target")
                                                             for n in enabled) else [],
        },
        "web_plugins": omero["plugins"],
        "images": images,
        "web_registration": web_registration,
        "scripts": omero["scripts"],
        "groups": omero["groups"],
        "users": omero["users"],
    }
