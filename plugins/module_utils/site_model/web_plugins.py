# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The site's OMERO.web plugins (``omero_web_plugins``), as the site model checks them.

Registering them is the job of the images stage (the omero_web_plugins module, with
module_utils/web_plugins.py): the model checks the list once, with that module's own
validator (:func:`~web_plugins.plugin_problems`, one set of messages, each naming the
item, e.g. ``omero_web_plugins[0].pip``) on the list as the site image holds it (a wheel
at its in-image path), before any host changes. It also routes the plugin settings that
are site secrets to OMERO.web's env file, and says where the registration file the images
stage writes is mounted.
"""

from __future__ import annotations

import copy
import json
import posixpath

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import images as imagelib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import omero_config
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import err
from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import REGISTRATION_KEYS, plugin_problems

# Written by the images stage (omero_web_plugins module), loaded before the site's *.omero file.
WEB_PLUGINS_FILE_NAME = "20-plugins.omero"


# Keys of an omero_web_plugins entry the images stage reads besides the module's.
SITE_KEYS = ("requires", "secret_settings", "src", "version", "env", "secret_env", "mounts", "worker")


def _as_in_image(plugin, local_files):
    """An entry as the site image holds it: a wheel found on the controller at its in-image
    path; one not found has no pip here (images.py reports it)."""
    if isinstance(plugin, dict) and "src" in plugin and plugin.get("pip") is None:
        # a plain app folder: the wheel packaged from it on the controller (images.py reports
        # a folder that was not found or cannot be packaged)
        app = imagelib.app_copy(plugin, local_files)
        return dict(plugin, pip=app[0] if app else None)
    if not isinstance(plugin, dict) or not imagelib.is_wheel_file(plugin.get("pip")):
        return plugin
    wheel = imagelib.wheel_copy(plugin["pip"], local_files)
    return dict(plugin, pip=wheel[0] if wheel else None)


def check(plugins, web_ops, local_files, errors):
    """omero_web_plugins checked with the omero_web_plugins module's validator; a copy."""
    apps = dict((json.loads(text), "omero_web_config['omero.web.apps']")
                for op, prop, text in web_ops if op == "append" and prop == "omero.web.apps"
                and isinstance(json.loads(text), str))
    plugins = plugins if isinstance(plugins, list) else []
    errors.extend(plugin_problems([_as_in_image(p, local_files) for p in plugins], "omero_web_plugins",
                                  SITE_KEYS, apps))
    return copy.deepcopy(plugins)


def in_image(plugins, local_files):
    """The checked plugin list as the site image holds it (what the images stage registers)."""
    return imagelib.web_requirements(plugins, [], local_files)[2]


def _web(services, names):
    """The service of ``names`` that runs OMERO.web (catalog ``omero_config: web``), or None."""
    return next((services[n] for n in names if services[n].get("omero_config") == "web"), None)


def secret_env(services, plugins, catalog, errors):
    """Plugin settings whose value is a site secret travel as CONFIG_* variables in
    OMERO.web's root-only env file (never in a rendered *.omero file)."""
    webs = [services[n] for n in sorted(services) if services[n].get("omero_config") == "web"]
    for i, plugin in enumerate(plugins):
        given = plugin.get("secret_settings") if isinstance(plugin, dict) else None
        if given is None:
            continue
        var = "omero_web_plugins[%d].secret_settings" % i
        if not isinstance(given, dict):
            err(errors, var, "maps OMERO.web properties to secret names, e.g. {omero.web.x.db_password: "
                             "plugin_db_password}")
            continue
        for prop, sname in sorted(given.items()):
            problem = omero_config.property_name_problem(prop)
            if problem:
                err(errors, "%s['%s']" % (var, prop), "invalid OMERO property name: %s" % problem)
            elif sname not in catalog["secrets"]:
                err(errors, "%s['%s']" % (var, prop), "'%s' is not a site secret; one of: %s"
                    % (sname, ", ".join(sorted(catalog["secrets"]))))
            else:  # OMERO.web and its plugins' workers (plugin_runtime.py), which load its settings
                for web in webs:
                    web["secret_env"][omero_config.config_env_name(prop)] = sname


def registration_split(web_ops):
    """Site values of the registration lists (``set``) go to the plugin registration as
    its base; appends stay in the site's *.omero file, loaded after it."""
    base, rest = {}, []
    for op, prop, text in web_ops:
        if op == "set" and prop in REGISTRATION_KEYS:
            base[prop] = text
        else:
            rest.append((op, prop, text))
    return base, rest


def registration(paths, services, enabled, plugins, base_config):
    """Where OMERO.web's registration file is written and mounted, and what it holds; None
    without OMERO.web."""
    web = _web(services, enabled)
    if web is None:
        return None
    return {
        "plugins": plugins,
        "base_config": base_config,
        "file": posixpath.join(paths["config"], web["name"], WEB_PLUGINS_FILE_NAME),
        "target": posixpath.join(web["omero_config_dir"], WEB_PLUGINS_FILE_NAME),
    }
