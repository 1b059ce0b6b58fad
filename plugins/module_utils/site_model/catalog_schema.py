# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The shape of the service catalog (catalog.yml), checked when it is loaded.

Every key of catalog.yml is declared here with its type: an unknown key (a typo) or a
value of the wrong type is refused, as are references to services, paths and secrets
the catalog does not have, and names of generators the code does not know. The keys
are documented in the header comment of catalog.yml.
"""

from __future__ import annotations

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import omero_defaults, placeholders
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.config_files import (
    GENERATORS,
    TEXT_GENERATORS,
    derived_line_re,
)
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.images import BUILD_INPUTS

_PROPAGATIONS = ("rprivate", "private", "rshared", "shared", "rslave", "slave")


class _Spec:
    """One node of the schema: ``kind`` is a type name, and ``arg`` what it holds."""

    def __init__(self, kind, arg=None, required=()):
        self.kind, self.arg, self.required = kind, arg, tuple(required)


def _record(fields, required=()):
    return _Spec("record", fields, required)


def _list(item):
    return _Spec("list", item)


def _map(item):
    return _Spec("map", item)


def _enum(*values):
    return _Spec("enum", values)


_STR, _INT, _BOOL, _ANY = _Spec("str"), _Spec("int"), _Spec("bool"), _Spec("any")
_STRS = _list(_STR)
_SCALAR = _Spec("scalar")

SERVICE = _record({
    "description": _STR,
    "enabled": _BOOL,
    "image": _record({"registry": _STR, "name": _STR, "tag": _STR, "digest": _STR}, ("name",)),
    "build": _record({"context": _STR, "repository": _STR, "pip": _BOOL, "base_from": _STR,
                      "requirements_with": _map(_STRS), "inputs": _enum(*sorted(BUILD_INPUTS))},
                     ("context", "repository")),
    "uid": _INT,
    "gid": _INT,
    "image_user": _STR,
    "ports": _map(_record({"container": _INT, "host": _INT, "exposure": _enum("public", "local", "none")},
                          ("container", "host", "exposure"))),
    "volumes": _list(_record({"path": _STR, "target": _STR, "read_only": _BOOL, "when_in_use": _BOOL},
                             ("path", "target"))),
    "depends_on": _STRS,
    "requires": _STRS,
    "optional_deps": _STRS,
    "restart_with": _STRS,
    "secret_files": _map(_STR),
    "secret_env": _map(_STR),
    "secret_env_as_files": _BOOL,
    "init_only": _STRS,
    "database_role": _record({"user": _STR, "database": _STR, "secret": _STR}, ("user", "database", "secret")),
    "script_folders_target": _STR,
    "env": _map(_STR),
    "address": _record({"port": _INT}, ("port",)),
    "external": _record({"secrets": _STRS}),
    "external_env": _map(_map(_STR)),
    "omero_config": _enum("server", "server_ro", "web"),
    "image_of": _STR,
    "worker_of": _STR,
    "swarm": _record({"label": _STR, "mode": _enum("replicated", "global")}),
    "read_only_copies": _record({"read_only_path": _STR, "own_path": _STR}, ("read_only_path", "own_path")),
    "omero_config_dir": _STR,
    "healthcheck": _map(_ANY),
    "resources": _record({"memory": _SCALAR, "cpus": _SCALAR}),
    "ulimits": _map(_record({"soft": _INT, "hard": _INT}, ("soft", "hard"))),
    "extra": _map(_ANY),
    "privileged": _BOOL,
    "devices": _STRS,
    "data_paths_read_only": _BOOL,
    "docker_socket": _enum("ro", "rw"),
    "docker_socket_opt_in": _enum("ro", "rw"),
    "host_mounts": _list(_record({"source": _STR, "target": _STR, "read_only": _BOOL,
                                  "propagation": _enum(*_PROPAGATIONS)}, ("source", "target"))),
    "metrics": _record({"port": _INT, "path": _STR, "target": _enum("service", "localhost"), "probe_path": _STR,
                        "honor_labels": _BOOL}, ("port", "path")),
    "probes": _list(_record({"prober": _STR, "job": _STR, "module": _STR, "target": _STR},
                            ("prober", "job", "module", "target"))),
    "alerting": _record({"port": _INT}, ("port",)),
    "datasource": _map(_ANY),
    "dashboards": _record({"target": _STR}, ("target",)),
    "config_files": _map(_record({"target": _STR, "content": _map(_ANY), "text": _STR,
                                  "derived": _map(_enum(*sorted(set(GENERATORS) | set(TEXT_GENERATORS))))},
                                 ("target",))),
    "proxied": _record({"by": _STR, "path": _STR, "realm": _STR, "args": _STRS, "env": _map(_STR),
                        "clear_authorization": _BOOL, "websocket": _BOOL}, ("by", "path", "realm")),
    "web_backend": _record({"label": _STR, "mentions": _STR}, ("label", "mentions")),
}, ("description", "enabled", "uid", "gid"))

_OMERO_COMPONENT = _record({
    "managed": _map(_STR),
    "defaults": _list(_record({"property": _STR, "value": _ANY, "when_enabled": _STR,
                               "derived": _enum(*sorted(omero_defaults.GENERATORS))})),
})

CATALOG = _record({
    "catalog_version": _INT,
    "services": _map(SERVICE),
    "omero_properties": _record({"server": _OMERO_COMPONENT, "web": _OMERO_COMPONENT}, ("server", "web")),
    "paths": _map(_record({"default": _STR, "uid": _INT, "gid": _INT, "mode": _STR, "service": _STR,
                           "always": _BOOL}, ("default", "mode"))),
    "secrets": _map(_record({"description": _STR, "required_by": _STRS}, ("description",))),
}, ("catalog_version", "services", "omero_properties", "paths", "secrets"))

_TYPES = {"str": (str, "a string"), "int": (int, "an integer"), "bool": (bool, "true or false"),
          "record": (dict, "a mapping"), "map": (dict, "a mapping"), "list": (list, "a list"),
          "scalar": ((str, int, float), "a string or a number")}


def _type_problem(value, spec):
    if spec.kind == "any":
        return None
    if spec.kind == "enum":
        return None if value in spec.arg else "must be one of %s, got %r" % (", ".join(spec.arg), value)
    types, shown = _TYPES[spec.kind]
    if not isinstance(value, types) or (spec.kind in ("int", "scalar") and isinstance(value, bool)):
        return "must be %s, got %r" % (shown, value)
    return None


def check(value, spec, where, problems):
    """Append ``(where, message)`` to ``problems`` for every way ``value`` is not ``spec``."""
    problem = _type_problem(value, spec)
    if problem:
        problems.append((where, problem))
        return
    if spec.kind == "list":
        for i, item in enumerate(value):
            check(item, spec.arg, "%s[%d]" % (where, i), problems)
    elif spec.kind == "map":
        for key in value:
            check(value[key], spec.arg, "%s.%s" % (where, key), problems)
    elif spec.kind == "record":
        for key in value:
            if key not in spec.arg:
                problems.append(("%s.%s" % (where, key), "unknown key; known: %s" % ", ".join(sorted(spec.arg))))
            else:
                check(value[key], spec.arg[key], "%s.%s" % (where, key), problems)
        problems.extend(("%s.%s" % (where, key), "is required") for key in spec.required if key not in value)


def _service_references(svc, catalog):
    """``(key, referenced name, kind)`` of every name ``svc`` uses from elsewhere in the catalog."""
    build = svc.get("build") or {}
    refs = [(key, dep, "services") for key in ("depends_on", "requires", "optional_deps", "restart_with")
            for dep in svc.get(key) or []]
    refs.extend(("build.requirements_with", dep, "services") for dep in build.get("requirements_with") or {})
    if build.get("base_from"):
        refs.append(("build.base_from", build["base_from"], "services"))
    refs.extend(("probes", probe["prober"], "services") for probe in svc.get("probes") or [])
    if svc.get("proxied"):
        refs.append(("proxied.by", svc["proxied"]["by"], "services"))
    refs.extend(("volumes", vol["path"], "paths") for vol in svc.get("volumes") or [])
    refs.extend((key, sname, "secrets") for key in ("secret_files", "secret_env")
                for sname in (svc.get(key) or {}).values())
    refs.extend(("external.secrets", sname, "secrets") for sname in (svc.get("external") or {}).get("secrets") or [])
    refs.extend(("external_env", dep, "services") for dep in svc.get("external_env") or {})
    return [(key, ref, kind) for key, ref, kind in refs if ref not in catalog[kind]]


def _service_problems(name, svc, catalog):
    where = "services.%s" % name
    problems = [("%s.%s" % (where, key), "names %s '%s', which the catalog does not have" % (kind[:-1], ref))
                for key, ref, kind in _service_references(svc, catalog)]
    for probe in svc.get("probes") or []:
        prober = catalog["services"].get(probe["prober"]) or {}
        if prober and not (prober.get("metrics") or {}).get("probe_path"):
            problems.append((where + ".probes", "prober '%s' has no metrics.probe_path" % probe["prober"]))
    for fname, spec in (svc.get("config_files") or {}).items():
        problems.extend(_config_file_problems("%s.config_files.%s" % (where, fname), spec))
    path = (svc.get("proxied") or {}).get("path")
    if path is not None and not (path.startswith("/") and path.endswith("/") and len(path) > 2):
        problems.append((where + ".proxied.path", "'%s' is not a path like /name/" % path))
    targets = set(svc.get("secret_env") or {}) | set(svc.get("secret_files") or {})
    problems.extend(("%s.init_only" % where, "'%s' is not a key of secret_env or secret_files" % key)
                    for key in svc.get("init_only") or [] if key not in targets)
    if svc.get("secret_env_as_files") and not (svc.get("build") or {}).get("pip"):
        problems.append((where + ".secret_env_as_files", "needs a site image with common/ (build.pip), which "
                                                         "holds the hook that reads the files"))
    if bool(svc.get("omero_config")) != bool(svc.get("omero_config_dir")):
        problems.append((where, "takes omero_config and omero_config_dir together"))
    if svc.get("docker_socket") and svc.get("docker_socket_opt_in"):
        problems.append((where, "takes docker_socket (always mounted) or docker_socket_opt_in, not both"))
    if "external" in svc and not svc.get("address"):
        problems.append((where + ".external", "needs address: the port its consumers reach it at"))
    problems.extend((where + ".external_env", "names '%s', which cannot be external" % dep)
                    for dep in svc.get("external_env") or {} if "external" not in catalog["services"].get(dep, {}))
    placed = dict((key, svc.get(key)) for key in ("env", "external_env", "config_files", "probes", "extra"))
    problems.extend(_placeholder_problems(where, placed, catalog))
    return problems


def _config_file_problems(where, spec):
    """A text with line generators (each line there), or YAML content with data generators."""
    if "text" in spec and "content" in spec or not ("text" in spec or "content" in spec or "derived" in spec):
        return [(where, "takes either text (and derived lines), or content and/or derived")]
    kinds = TEXT_GENERATORS if "text" in spec else GENERATORS
    found = [(where + ".derived." + key, "'%s' is not a generator of %s; known: %s" % (
        generator, "text lines" if "text" in spec else "YAML data", ", ".join(sorted(kinds))))
        for key, generator in (spec.get("derived") or {}).items() if generator not in kinds]
    if "text" in spec:
        found.extend((where + ".derived." + key, "the text has no line {derived.%s} alone" % key)
                     for key in spec.get("derived") or {} if not derived_line_re(key).search(spec["text"]))
    return found


def _placeholder_problems(where, value, catalog):
    """Placeholders of ``value`` that name an unknown site key or a service without ``address``."""
    problems = []
    for ref in placeholders.references(value):
        kind, name = ref[0], ref[1]
        if kind == "site" and name not in placeholders.SITE_KEYS:
            problems.append((where, "placeholder {site.%s}: known: %s" % (name, ", ".join(sorted(
                placeholders.SITE_KEYS)))))
        elif kind == "address" and not (catalog["services"].get(name) or {}).get("address"):
            problems.append((where, "placeholder {address.%s.*} names a service without address" % name))
    return problems


def _omero_problems(catalog):
    """Each default of omero_properties is a property with a value or a generator."""
    problems = []
    for component, spec in catalog["omero_properties"].items():
        for i, entry in enumerate(spec.get("defaults") or []):
            where = "omero_properties.%s.defaults[%d]" % (component, i)
            if ("derived" in entry) == ("property" in entry or "value" in entry) or (
                    "property" in entry) != ("value" in entry):
                problems.append((where, "takes either property and value (and when_enabled), or derived"))
            if entry.get("when_enabled") and entry["when_enabled"] not in catalog["services"]:
                problems.append((where + ".when_enabled", "names service '%s', which the catalog does not have"
                                 % entry["when_enabled"]))
            problems.extend(_placeholder_problems(where, entry.get("value"), catalog))
    return problems


def problems(catalog):
    """Every problem of ``catalog`` as ``(where, message)``; empty when it is sound."""
    found = []
    check(catalog, CATALOG, "catalog", found)
    if found:
        return found
    for name, svc in catalog["services"].items():
        found.extend(_service_problems(name, svc, catalog))
    found.extend(_omero_problems(catalog))
    for key, path in catalog["paths"].items():
        if path.get("service") and path["service"] not in catalog["services"]:
            found.append(("paths.%s.service" % key, "names service '%s', which the catalog does not have"
                          % path["service"]))
    for sname, secret in catalog["secrets"].items():
        found.extend(("secrets.%s.required_by" % sname, "names service '%s', which the catalog does not have" % dep)
                     for dep in secret.get("required_by") or [] if dep not in catalog["services"])
    return found
