# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""What an OMERO.web plugin needs at run time besides its code and its OMERO.web settings.

Facility plugins (the reference stack's upload, OMP and admin-tools apps) read environment
variables, some of them secret, need directories mounted in OMERO.web (the repository
read-only, an upload directory, the server's logs) and run background work in a Celery
worker beside OMERO.web. An ``omero_web_plugins`` entry says so as data:

- ``env``: ``{VAR: value}``, plain values in OMERO.web's root-only env file. Values take the
  catalog's placeholders (``{address.database_plugin.host}``, ``.port``, ``.host_port``,
  ``{site.plugin_db_name}``, ``{site.plugin_db_user}``...), so a plugin follows the site's
  plugin database and Redis wherever they are (a container or an existing server);
- ``secret_env``: ``{VAR: secret}``, a site secret (``plugin_db_password``) or one of the
  plugin's own (any other name: it joins the site's secrets, given in ``omero_secrets`` or
  generated with the others), delivered as the file ``/run/secrets/VAR``, which the site
  image's entrypoint turns into the variable (never in ``docker inspect``);
- ``mounts``: ``[{path, target, read_only}]``: ``path`` is a site path (``omero_data``, the
  binary repository; ``omero_server_logs``; ...: read-only unless ``read_only: false``) or a
  directory of the plugin's own, ``plugin_<name>`` (``<base>/data/plugins/<name>`` or
  ``omero_site_paths.plugin_<name>``, owned by OMERO.web's account, writable);
- ``worker``: ``{command: [argv]}``: a companion service ``<web>-worker-<plugin>`` that runs
  the site's web image with this command instead of OMERO.web (a Celery worker), with
  OMERO.web's configuration, env, secrets and mounts, and no port.

:func:`catalog_for` applies the entries to a copy of the catalog (the web service's env,
secret env and volumes, the plugins' paths and secrets, the workers as services), so
everything downstream (paths, compose, Swarm, the change plan, secrets) treats them as the
catalog's own; :func:`problems` checks the entries, naming each item. Both read the list
as it is given: catalog_for skips what problems reports.
"""

from __future__ import annotations

import copy
import posixpath
import re

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import placeholders
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import err, inherit_settings
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.omero_config import scalar_text
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.secrets import name_problem
from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import canonical_name

KEYS = ("env", "secret_env", "mounts", "worker")
_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLUGIN_PATH_RE = re.compile(r"^plugin_[a-z0-9_]+$")
# Variables the collection sets itself: the image's own settings come as OMERO properties.
_RESERVED_PREFIXES = ("CONFIG_", "OMERO_STACK_")
_RESERVED = ("TZ", "PATH", "HOME", "OMERODIR")
WORKER_INFIX = "-worker-"
# Mount targets that would hide the image.
_HIDDEN = ("/", "/opt", "/opt/omero")
# The site web image's entrypoint runs this instead of the image's own when it is set
# (files/images/_common/secrets-env.sh): the image's startup steps but OMERO.web's start,
# then the command (files/images/omero-web/run-command.sh).
WORKER_ENTRYPOINT = "/usr/local/libexec/omero-stack/run-command.sh"
WEB_KEYS_NOT_COPIED = ("ports", "address", "probes", "healthcheck", "docker_socket_opt_in")


def web_service(catalog):
    """The name of the catalog service that runs OMERO.web (``omero_config: web``), or None."""
    return next((n for n, s in sorted(catalog["services"].items()) if s.get("omero_config") == "web"
                 and not s.get("worker_of")), None)


def _plugins(site):
    plugins = site.get("omero_web_plugins")
    return [p for p in plugins if isinstance(p, dict)] if isinstance(plugins, list) else []


def worker_name(web, plugin):
    return "%s%s%s" % (web, WORKER_INFIX, canonical_name(str(plugin.get("name") or plugin.get("app"))))


def _mounts(plugin):
    mounts = plugin.get("mounts")
    return [m for m in mounts if isinstance(m, dict) and isinstance(m.get("path"), str)
            and isinstance(m.get("target"), str)] if isinstance(mounts, list) else []


def _plain(value):
    return isinstance(value, (str, int, float, bool))


def catalog_for(catalog, site):
    """``catalog``, or a copy with what the site's web plugins need at run time."""
    web = web_service(catalog)
    plugins = [p for p in _plugins(site) if any(p.get(k) is not None for k in KEYS)]
    if not web or not plugins:
        return catalog
    catalog = copy.deepcopy(catalog)
    svc = catalog["services"][web]
    svc["env"] = dict(svc.get("env") or {})
    svc["secret_env"] = dict(svc.get("secret_env") or {})
    svc["volumes"] = list(svc.get("volumes") or [])
    for plugin in plugins:
        label = str(plugin.get("name") or plugin.get("app"))
        env = plugin.get("env") if isinstance(plugin.get("env"), dict) else {}
        svc["env"].update((k, scalar_text(v)) for k, v in env.items() if isinstance(k, str) and _plain(v))
        secret_env = plugin.get("secret_env") if isinstance(plugin.get("secret_env"), dict) else {}
        for var, sname in secret_env.items():
            if not isinstance(var, str) or name_problem(sname):
                continue
            svc["secret_env"][var] = sname
            catalog["secrets"].setdefault(sname, {"description": "secret of the OMERO.web plugin %s (%s)"
                                                                 % (label, var)})
        for mount in _mounts(plugin):
            path = mount["path"]
            own = bool(_PLUGIN_PATH_RE.match(path))
            if own and path not in catalog["paths"]:
                catalog["paths"][path] = {"default": "data/plugins/%s" % path[len("plugin_"):], "service": web,
                                          "mode": "0750"}
            if path in catalog["paths"]:
                read_only = mount.get("read_only")
                svc["volumes"].append({"path": path, "target": posixpath.normpath(mount["target"]),
                                       "read_only": (not own) if read_only is None else bool(read_only)})
    for plugin in plugins:
        worker = plugin.get("worker")
        command = worker.get("command") if isinstance(worker, dict) else None
        if isinstance(command, list) and command and all(isinstance(a, str) for a in command):
            catalog["services"][worker_name(web, plugin)] = _worker(svc, web, plugin, command)
    return catalog


def _worker(web_svc, web, plugin, command):
    svc = dict((k, copy.deepcopy(v)) for k, v in web_svc.items() if k not in WEB_KEYS_NOT_COPIED)
    svc["description"] = "worker of the OMERO.web plugin %s (its own command in the web image)" % (
        plugin.get("name") or plugin.get("app"))
    svc["image_of"] = web
    svc["worker_of"] = web
    svc["env"] = dict(svc.get("env") or {}, OMERO_STACK_ENTRYPOINT=WORKER_ENTRYPOINT)
    svc["extra"] = dict(svc.get("extra") or {}, command=list(command))
    return svc


def site_for(site, catalog):
    """``site``, or a copy whose ``omero_services`` gives each plugin worker OMERO.web's
    settings (image, build, resources, uid, gid, env, ...) but its ports, under the
    worker's own (``omero_services.<web>-worker-<plugin>``)."""
    web = web_service(catalog)
    workers = [worker_name(web, p) for p in _plugins(site) if web and isinstance(p.get("worker"), dict)]
    return inherit_settings(site, web, workers, ("ports", "docker_socket", "healthcheck"))


def _var_problem(var):
    if not isinstance(var, str) or not _VAR_RE.match(var):
        return "'%s' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)" % (var,)
    if var.startswith(_RESERVED_PREFIXES) or var in _RESERVED:
        return ("%s is set by the collection or the image: OMERO.web properties go in settings (or "
                "secret_settings), not the environment" % var)
    return None


def _placeholder_problem(value, context_keys):
    unknown = ["{%s.%s%s}" % (kind, name, "." + field if field else "")
               for kind, name, field in placeholders.references(value)
               if ("site.%s" % name if kind == "site" else "address.%s.%s" % (name, field)) not in context_keys]
    if unknown:
        return "%s names nothing the site has (placeholders: {site.<key>}, {address.<service>.host|port|host_port} " \
               "of a service the site runs or reaches)" % ", ".join(unknown)
    return None


def _context_keys(services):
    keys = set("site." + k for k in placeholders.SITE_KEYS)
    for name, svc in services.items():
        if svc.get("address") and (svc.get("enabled") or svc.get("external")):
            keys.update("address.%s.%s" % (name, f) for f in placeholders.ADDRESS_FIELDS)
    return keys


def problems(site, catalog, services, errors):
    """Every problem of the plugins' env, secret_env, mounts and worker, each naming its item."""
    plugins = site.get("omero_web_plugins") if isinstance(site.get("omero_web_plugins"), list) else []
    web = web_service(catalog)
    keys = _context_keys(services)
    seen = {}
    targets = {}
    for i, plugin in enumerate(plugins):
        if not isinstance(plugin, dict):
            continue
        where = "omero_web_plugins[%d]" % i
        if any(plugin.get(k) is not None for k in KEYS) and (not web or not services.get(web, {}).get("enabled")):
            err(errors, where, "sets %s for OMERO.web, which the site does not run" % ", ".join(
                k for k in KEYS if plugin.get(k) is not None))
            continue
        _env_problems(where, plugin, keys, seen, errors)
        _secret_env_problems(where, plugin, seen, errors)
        _mount_problems(where, plugin, catalog, targets, errors)
        _worker_problems(where, plugin, (services, web, keys), errors)


def _given(where, plugin, key, expected, errors):
    """``plugin[key]`` when it is given and of the kind ``expected`` = (type, message says
    otherwise); else None (and the problem named)."""
    kind, message = expected
    value = plugin.get(key)
    if value is not None and not isinstance(value, kind):
        err(errors, "%s.%s" % (where, key), message)
        return None
    return value


def _settle(seen, setting, problem, errors):
    """Report ``problem``, or one plugin setting a variable another set otherwise; else
    remember who set it. ``setting``: (variable, where, value or ("secret", name))."""
    var, where, value = setting
    if not problem and var in seen and seen[var][1] != value:
        problem = "conflicts with the value set by %s" % seen[var][0]
    if problem:
        err(errors, where, problem)
    else:
        seen.setdefault(var, (where, value))


def _env_problems(where, plugin, keys, seen, errors):
    env = _given(where, plugin, "env", (dict, "must be a dictionary of environment variables to values"), errors)
    for var, value in (env or {}).items():
        var_where = "%s.env.%s" % (where, var)
        problem = _var_problem(var)
        if not problem and not _plain(value):
            problem = "must be a string, number or boolean"
        if not problem and "\n" in str(value):
            problem = "must be a single line"
        problem = problem or _placeholder_problem(value, keys)
        _settle(seen, (var, var_where, value), problem, errors)


def _secret_env_problems(where, plugin, seen, errors):
    given = _given(where, plugin, "secret_env", (dict, "must map environment variables to secret names, e.g. "
                                                       "{OMP_DATA_PASS: plugin_db_password}"), errors)
    for var, sname in (given or {}).items():
        var_where = "%s.secret_env.%s" % (where, var)
        problem = _var_problem(var) or name_problem(sname)
        _settle(seen, (var, var_where, ("secret", sname)), problem, errors)


def _mount_problems(where, plugin, catalog, targets, errors):
    mounts = _given(where, plugin, "mounts", (list, "must be a list of {path, target, read_only}"), errors)
    for j, mount in enumerate(mounts or []):
        item = "%s.mounts[%d]" % (where, j)
        if not isinstance(mount, dict) or set(mount) - {"path", "target", "read_only"}:
            err(errors, item, "must be {path, target, read_only} (path: a site path such as omero_data, or "
                              "plugin_<name> for a directory of the plugin's own)")
            continue
        path, target = mount.get("path"), mount.get("target")
        if not isinstance(path, str) or not (path in catalog["paths"] or _PLUGIN_PATH_RE.match(path)):
            err(errors, item + ".path", "'%s' is not a site path (one of %s) or plugin_<name>" % (
                path, ", ".join(sorted(p for p in catalog["paths"] if not p.startswith("plugin_")))))
        if not isinstance(target, str) or not target.startswith("/") or posixpath.normpath(target) in _HIDDEN:
            err(errors, item + ".target", "must be an absolute path in the container, not / or /opt/omero")
        elif posixpath.normpath(target) in targets:
            err(errors, item + ".target", "%s is already mounted by %s" % (target, targets[posixpath.normpath(target)]))
        else:
            targets[posixpath.normpath(target)] = item
        if mount.get("read_only") is not None and not isinstance(mount["read_only"], bool):
            err(errors, item + ".read_only", "must be true or false")


def _worker_problems(where, plugin, site, errors):
    """``site``: (services, the web service's name, the placeholders the site fills)."""
    services, web, keys = site
    worker = plugin.get("worker")
    if worker is None:
        return
    if not isinstance(worker, dict) or set(worker) != {"command"}:
        err(errors, where + ".worker", "must be {command: [program, arg, ...]} (e.g. a Celery worker)")
        return
    command = worker["command"]
    if not isinstance(command, list) or not command or not all(isinstance(a, str) and a for a in command):
        err(errors, where + ".worker.command", "must be a non-empty list of strings (the argv of the worker)")
        return
    problem = _placeholder_problem(command, keys)
    if problem:
        err(errors, where + ".worker.command", problem)
    if not (services.get(web) or {}).get("build"):
        err(errors, where + ".worker", "a plugin worker runs the site's web image, which this site does not build "
                                       "(omero_services.%s.build is false)" % web)
