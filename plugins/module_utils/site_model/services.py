# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The services of the site: the catalog's, with the site's ``omero_services`` overrides.

``omero_services.<name>`` takes the settings of :data:`SERVICE_OVERRIDE_KEYS`, each
checked and merged over the catalog's definition; an enabled service may only depend
on provided ones (enabled, or external: see external.py).
"""

from __future__ import annotations

import copy

from ansible_collections.omero_docker.stack.plugins.module_utils.env_file import key_problem
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import external as externallib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import image_users, omero_config
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import resources as resourcelib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import as_int, err
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.healthchecks import check_healthcheck
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.image_refs import (
    image_problem,
    parse_image,
    split_image,
)
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.ports import override_ports

SERVICE_OVERRIDE_KEYS = ("enabled", "external", "image", "build", "ports", "resources", "ulimits", "healthcheck",
                         "uid", "gid", "restart", "env", "docker_socket")


def _fine(problem, var, errors):
    """Whether there is no ``problem``; reports it under ``var`` if there is."""
    if problem:
        err(errors, var, problem)
        return False
    return True


def _override_enabled(svc, value, var, errors):
    if not isinstance(value, bool):
        err(errors, var, "must be true or false, got '%s'" % (value,))
    else:
        svc["enabled"] = value


def _override_image(svc, image, var, errors):
    svc["_image_given"] = True
    if isinstance(image, str):
        parsed = parse_image(image)
        if parsed is None:
            split = split_image(image)
            err(errors, var, "'%s' is not a valid pinned image reference (registry/name:tag[@sha256:...])%s"
                % (image, ": " + image_problem(split) if split else ""))
        else:
            svc["image"] = parsed
        return
    merged = dict(svc["image"])
    if isinstance(image, dict):
        merged.update(image)
    if _fine(image_problem(merged), var, errors):
        svc["image"] = merged


def _override_build(svc, value, var, errors):
    if not isinstance(value, bool):
        err(errors, var, "must be true or false, got '%s'" % (value,))
    elif value and not svc.get("build"):
        err(errors, var, "service '%s' runs its image as it is: it has no site image to build (remove %s)"
            % (svc["name"], var))
    elif not value:
        svc["_unbuilt_base"] = (svc.get("build") or {}).get("base_from")
        svc["build"] = None


def _override_id(key):
    def apply(svc, value, var, errors):
        number = as_int(value)
        if number is None or number < 0 or number > 2 ** 31:
            err(errors, var, "must be a numeric id, got '%s'" % (value,))
        else:
            svc[key] = number
            image_users.mark_given(svc, key)
    return apply


def _override_restart(svc, value, var, errors):
    if _fine(resourcelib.restart_problem(value), var, errors):
        svc["restart"] = value


def _override_env(svc, env, var, errors):
    if not isinstance(env, dict):
        err(errors, var, "must be a dictionary of environment variables")
        return
    for key in env:
        problem = key_problem(key)
        if problem:
            err(errors, "%s.%s" % (var, key), problem)
        elif key in (svc.get("secret_env") or {}) or key.startswith(omero_config.CONFIG_ENV_PREFIX):
            err(errors, "%s.%s" % (var, key), "is set by the collection or carries OMERO configuration: use "
                                              "omero_server_config / omero_web_config or omero_secrets")
    svc["env"] = dict(svc.get("env") or {}, **env)


def _override_docker_socket(svc, value, var, errors):
    """Mounts the Docker socket (with the catalog's ``docker_socket_opt_in`` access) or not."""
    if not svc.get("docker_socket_opt_in"):
        takers = svc["_socket_opt_ins"]
        err(errors, var, "only %s this setting" % (" and ".join(takers) + (" takes" if len(takers) == 1 else " take"))
            if takers else "no service takes this setting")
    elif not isinstance(value, bool):
        err(errors, var, "must be true or false")
    else:
        svc["docker_socket"] = svc["docker_socket_opt_in"] if value else None


_OVERRIDES = {
    "enabled": _override_enabled,
    "image": _override_image,
    "uid": _override_id("uid"),
    "gid": _override_id("gid"),
    "restart": _override_restart,
    "resources": resourcelib.check_resources,
    "ulimits": resourcelib.check_ulimits,
    "healthcheck": check_healthcheck,
    "env": _override_env,
    "build": _override_build,
    "docker_socket": _override_docker_socket,
    "ports": override_ports,
}


def _from_catalog_entry(name, svc, opt_ins):
    """A service as the overrides find it: the catalog's ``external`` becomes whether it
    may be external and the secrets its server would hold; ``external`` is its address."""
    svc["name"] = name
    svc["_socket_opt_ins"] = opt_ins
    allowed = svc.pop("external", None)
    svc["external_allowed"] = allowed is not None
    svc["external_secrets"] = list((allowed or {}).get("secrets") or [])
    svc["external"] = None


def _apply(services, name, over, errors):
    """The settings of ``omero_services.<name>``, each checked, applied to the service."""
    var = "omero_services.%s" % name
    for key in sorted(over):
        if key == "external":
            externallib.override(services[name], over[key], var + ".external", errors, services)
        elif key not in _OVERRIDES:
            err(errors, "%s.%s" % (var, key), "unknown setting; a service takes: %s" % ", ".join(SERVICE_OVERRIDE_KEYS))
        else:
            _OVERRIDES[key](services[name], over[key], "%s.%s" % (var, key), errors)
    if services[name]["external"]:
        externallib.check_alone(name, over, errors)
        services[name]["enabled"] = False


def from_catalog(catalog, overrides, errors):
    """Merge omero_services overrides into the catalog; return {name: service}."""
    services = copy.deepcopy(catalog["services"])
    opt_ins = sorted(name for name, svc in services.items() if svc.get("docker_socket_opt_in"))
    for name, svc in services.items():
        _from_catalog_entry(name, svc, opt_ins)
    overrides = overrides if isinstance(overrides, dict) else {}
    for name in sorted(overrides, key=str):
        var = "omero_services.%s" % name
        over = overrides[name]
        if name not in services:
            err(errors, var, "unknown service '%s'; the catalog has: %s" % (name, ", ".join(sorted(services))))
        elif over is not None and not isinstance(over, dict):
            err(errors, var, "must be a dictionary (e.g. {enabled: false})")
        else:
            _apply(services, name, over or {}, errors)
    for name, svc in services.items():
        base_from = (svc.get("build") or {}).get("base_from")
        if base_from and not svc.pop("_image_given", False):
            svc["image"] = copy.deepcopy(services[base_from]["image"])
        unbuilt = svc.pop("_unbuilt_base", None)
        if "image" not in svc and svc["enabled"] and not svc.get("build"):
            err(errors, "omero_services.%s.build" % name,
                "is false, but '%s' has no image of its own (the site builds it%s): set omero_services.%s.image "
                "to a pinned image that provides it, or remove build: false"
                % (name, " on the image of '%s'" % unbuilt if unbuilt else "", name))
            svc["image"] = {"registry": "", "name": "", "tag": ""}
        svc.pop("_image_given", None)
        svc.pop("_socket_opt_ins", None)
        svc.setdefault("restart", "unless-stopped")
        for key in ("ports", "env", "external_env", "secret_env", "secret_files", "config_files", "resources", "extra"):
            svc[key] = svc.get(key) or {}
        for key in ("volumes", "depends_on", "requires", "optional_deps", "restart_with", "init_only", "host_mounts",
                    "devices"):
            svc[key] = svc.get(key) or []
    return services


def secret_env_as_files(services):
    """Move the secret_env of every service whose site image reads secret files named like
    environment variables (catalog ``secret_env_as_files``, and built: not ``build: false``)
    into its secret_files, each mounted at /run/secrets/<VAR>. After the web plugins'
    secret settings joined secret_env, before anything reads either."""
    for svc in services.values():
        if svc.get("secret_env_as_files") and svc.get("build"):
            svc["secret_files"].update(svc["secret_env"])
            svc["secret_env"] = {}


def enabled(services):
    """Sorted names of the enabled services: those that run a container of the site."""
    return sorted(n for n, s in services.items() if s["enabled"])


def check_dependencies(services, errors):
    """Every service an enabled service depends on (or requires) is provided (enabled or external)."""
    provided = externallib.provided(services)
    for name in sorted(services):
        svc = services[name]
        if not svc["enabled"]:
            continue
        for dep in svc["depends_on"] + svc["requires"]:
            if dep not in provided:
                err(errors, "omero_services.%s.enabled" % dep,
                    "'%s' is disabled but the enabled service '%s' depends on it: enable %s "
                    "(omero_services.%s.enabled: true)%s or disable %s"
                    % (dep, name, dep, dep, ", use an existing server (omero_services.%s.external: {host: ...})" % dep
                       if services[dep]["external_allowed"] else "", name))
