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

This is the entry point; each concept lives in its own module, called in order:

- site_settings.py: the ``omero_site_*`` settings and the shape of the other variables;
- services.py: the catalog's services with the ``omero_services`` overrides, and their
  dependencies (ports.py: published ports; resources.py: resources, ulimits, restart;
  image_users.py: the accounts of the images; external.py: services provided from
  outside, reached by address);
- paths.py: the host paths and directories of the site;
- monitoring.py: ``omero_monitoring`` (intervals, retentions, alert rules, alert routes);
- monitoring_uis.py: ``omero_site_proxy_monitoring``, the monitoring UIs the TLS proxy
  serves;
- secrets.py: the secrets the enabled services need, and their strength;
- omero_defaults.py: the OMERO properties, the collection's (catalog data, with the
  placeholders of placeholders.py) and the site's;
- web_plugins.py, scripts.py, accounts.py: omero_web_plugins, omero_scripts,
  omero_groups and omero_users (the last three, with the read-write flag of
  omero_defaults.py, published in ``bootstrap``: see :func:`bootstrap`);
- images.py: the site images built on the services' base images, each with the
  build-input labels of labels.py (``labels``, for the images role to set);
- compose.py: the Compose definition, files, env files and secret files per service,
  with the labels of labels.py (the inputs hash and one label per input category).

Built on its output, not called here: plan.py, the change plan (create, recreate,
unchanged or remove per service, with reasons) from the running containers' labels
(the ``site_plan`` filter); swarm.py (groundwork of a later issue), the Compose
definition as a ``docker stack deploy`` stack file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import (
    accounts,
    compose,
    external,
    image_users,
    monitoring,
    monitoring_uis,
    omero_defaults,
    omero_values,
    placeholders,
    plugin_runtime,
    ports,
    read_only,
    rotation,
    site_settings,
)
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import images as imagelib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import labels as labellib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import paths as pathlib_
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import scripts as scriptlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import secrets as secretlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import services as servicelib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import swarm as swarmlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import web_plugins as pluginlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.image_refs import (
    image_reference,
    parse_image,
)

MODEL_SCHEMA = 1

# The names the action plugin and the tests import from here, defined in the modules above.
HASH_LABEL = compose.HASH_LABEL
SITE_DEFAULTS = site_settings.SITE_DEFAULTS
OUTPUT_VARIABLES = site_settings.OUTPUT_VARIABLES
LIST_VARIABLES = site_settings.LIST_VARIABLES
DICT_VARIABLES = site_settings.DICT_VARIABLES

__all__ = [
    "DICT_VARIABLES", "HASH_LABEL", "LIST_VARIABLES", "MODEL_SCHEMA", "OUTPUT_VARIABLES", "SITE_DEFAULTS",
    "SiteModelError", "build_site_model", "enabled_services", "image_reference", "parse_image", "secrets_needed",
]


def _derived(site, catalog):
    """The site and the catalog with the services the site adds (read-only servers, web plugin
    workers) and what its web plugins need at run time (plugin_runtime.py)."""
    site = read_only.site_for(site, catalog)
    catalog = read_only.catalog_for(catalog, site)
    site = plugin_runtime.site_for(site, catalog)
    return site, plugin_runtime.catalog_for(catalog, site)


def enabled_services(site, catalog=None):
    """Names of the services the site enables (tolerant of other mistakes)."""
    site, catalog = _derived(site, catalog or load_catalog())
    errors = []
    services = servicelib.from_catalog(catalog, site.get("omero_services"), errors)
    return servicelib.enabled(services)


def secrets_needed(site, catalog=None):
    """Secret names the site needs and the collection may generate (tolerant of other
    mistakes), for the action plugin: never one an external server holds."""
    site, catalog = _derived(site, catalog or load_catalog())
    services = servicelib.from_catalog(catalog, site.get("omero_services"), [])
    return sorted(secretlib.generatable(catalog, services))


def _checked(site, secret_values, catalog, local_files, image_ids):
    """Every check of the site description, in order: what the derivation needs, or a
    :class:`SiteModelError` with all the problems."""
    errors = []
    settings = site_settings.site_settings(site, errors)
    services = servicelib.from_catalog(catalog, site.get("omero_services"), errors)
    image_users.apply(services, image_ids, errors)
    settings[placeholders.MONITORING] = monitoring.settings(site, services, errors)
    monitoring.attach_secrets(services, settings[placeholders.MONITORING])
    settings[monitoring_uis.VARIABLE] = monitoring_uis.apply(settings, services, errors)
    scripts_given = site.get("omero_scripts") if isinstance(site.get("omero_scripts"), list) else []
    errors.extend(scriptlib.src_problems(scripts_given, local_files))
    local_files = dict(local_files or {})
    raw_plugins = site.get("omero_web_plugins") if isinstance(site.get("omero_web_plugins"), list) else []
    pluginlib.secret_env(services, raw_plugins, catalog, errors)
    servicelib.secret_env_as_files(services)
    read_only.problems(site, catalog, services, errors)
    plugin_runtime.problems(site, catalog, services, errors)
    servicelib.check_dependencies(services, errors)
    ports.published_ports(services, settings, errors)
    layout = pathlib_.site_paths(catalog, services, settings, errors)
    secrets = secretlib.validate(site, secret_values, catalog, services, errors,
                                 held=monitoring.held_secrets(settings[placeholders.MONITORING]))
    server_ops, web_ops = omero_defaults.site_config(site, catalog, errors)
    plugins = pluginlib.check(site.get("omero_web_plugins"), web_ops, local_files, errors)
    scripts, script_folders = scriptlib.site_scripts(site, errors)
    groups, users = accounts.site_accounts(site, errors)
    errors.extend(omero_values.backend_problems(site.get("omero_web_config"), services))
    imagelib.validate_inputs(site, raw_plugins, local_files, errors)
    imagelib.pin_conflicts(services, site, local_files, errors)
    in_image_plugins = [] if errors else pluginlib.in_image(raw_plugins, local_files)
    if errors:
        raise SiteModelError(errors)
    return {"settings": settings, "services": services, "local_files": local_files, "layout": layout,
            "secrets": secrets, "server_ops": server_ops, "web_ops": web_ops, "plugins": plugins,
            "in_image_plugins": in_image_plugins, "scripts": scripts, "script_folders": script_folders,
            "groups": groups, "users": users}


def bootstrap(site, checked):
    """What the omero_bootstrap role applies, as the modules it feeds take it (no secrets)::

        read_write: false when omero_server_config makes the server read-only
        external_server: {host, port} of an existing OMERO.server the site does not run
                    (only then): the role cannot bootstrap it and says so
        groups:     omero_group's groups (omero_groups, checked)
        users:      omero_user's users (omero_users, checked), without password: the
                    action plugin returns the passwords with the secret values
        scripts:    official: [patterns], official_version: "5.10.0" or None,
                    site: [{path, content} | {path, url, checksum}] (omero_script's options;
                    a src is read on the controller by the action plugin)
    """
    groups, users = accounts.bootstrap_accounts(checked["groups"], checked["users"])
    result = {"read_write": omero_defaults.read_write(site.get("omero_server_config"))}
    result.update(("external_server", dict(svc["external"])) for svc in checked["services"].values()
                  if svc.get("omero_config") == "server" and svc.get("external"))
    result.update({"groups": groups, "users": users,
                   "scripts": scriptlib.bootstrap_scripts(checked["scripts"], checked["local_files"])})
    return result


def build_site_model(site, secret_values=None, catalog=None, generated=(), local_files=None, *, image_ids=None):
    """Validate ``site`` and return the site model (plain dict, no secret values).

    ``secret_values`` maps secret names to values (inventory ``omero_secrets`` merged
    with generated ones); ``generated`` names those that were generated. ``local_files``
    maps wheel files and script ``src`` files named in the site description to
    ``{path, sha256}`` on the controller, scripts also to their ``content`` (found and read
    by the action plugin). ``image_ids`` maps services to the
    ``{uid, gid}`` of their image's account, read on the host (see image_users.py).
    """
    site, catalog = _derived(dict(site or {}), catalog or load_catalog())
    checked = _checked(site, secret_values, catalog, local_files, image_ids)

    # ---- derivation (the description is valid from here on) ----
    settings, services, plugins = checked["settings"], checked["services"], checked["in_image_plugins"]
    paths, directories, used_paths = checked["layout"]
    values, given, needed = checked["secrets"]
    enabled = servicelib.enabled(services)
    server_ops, web_ops = omero_defaults.ops(catalog, settings, services, (checked["server_ops"], checked["web_ops"]),
                                             plugins)
    registration_base, web_ops = pluginlib.registration_split(web_ops)
    images = imagelib.site_images(services, enabled, settings, site, checked["local_files"])
    for spec in images.values():
        # Set at build time by the images role, for the change plan to name the input.
        spec["labels"] = labellib.image_input_labels(spec)
    web_registration = pluginlib.registration(paths, services, enabled, plugins, registration_base)
    renderer = compose.Renderer(catalog, settings, services, paths=paths, used_paths=used_paths,
                                secrets=(values, given, set(generated)),
                                omero_files=omero_defaults.render_files(server_ops, web_ops),
                                web_registration=web_registration, script_folders=checked["script_folders"])
    renderer.render_all(needed | set(values))
    mirror = settings["omero_site_registry_mirror"]

    model = {
        "schema": MODEL_SCHEMA,
        "site": site_settings.summary(settings, HASH_LABEL),
        "enabled_services": enabled,
        "services": renderer.summary(),
        "paths": paths,
        "directories": pathlib_.unique_directories(
            directories + scriptlib.site_directories(services, paths, checked["script_folders"])
            + renderer.directories),
        "secrets": renderer.secret_refs,
        "secret_files": renderer.secret_files,
        "env_files": renderer.env_files,
        "stale_paths": renderer.stale_paths(),
        "files": renderer.files,
        "compose": renderer.compose(),
        "service_hashes": renderer.hashes,
        "image_users": image_users.lookups(services, enabled, lambda svc: image_reference(svc["image"], mirror)),
        "databases": rotation.databases(services, external.provided(services),
                                        lambda v: placeholders.fill_text(v, renderer.context)),
        "init_only_secrets": rotation.init_only_secrets(services, enabled),
        "omero": omero_defaults.summary(server_ops, web_ops,
                                        scriptlib.mounted(checked["script_folders"], services, enabled)),
        "web_plugins": checked["plugins"],
        "images": images,
        "web_registration": web_registration,
        "bootstrap": bootstrap(site, checked),
    }
    if settings["omero_site_engine"] == "swarm":
        model["stack"] = stack(model, services, values)
    return model


def stack(model, services, values):
    """The site as a stack file for ``docker stack deploy`` (swarm.py): each service on the
    nodes labelled as its catalog ``swarm.label`` says, or on every node (``mode: global``)."""
    spec = dict((name, services[name].get("swarm") or {}) for name in model["enabled_services"])
    return swarmlib.stack_file(
        model["compose"], dict((name, s["label"]) for name, s in spec.items() if s.get("label")),
        secret_digests=swarmlib.secret_digests_of(model, values), secret_owners=swarmlib.secret_owners_of(model),
        global_services=[name for name, s in spec.items() if s.get("mode") == "global"])
