# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The site's OMERO.web plugins (``omero_web_plugins``), as the site model checks them.

Registering them is the job of the images stage (the omero_web_plugins module, with
module_utils/web_plugins.py): the model checks the list twice, loosely first (each
entry's shape, names and apps listed once), then, when nothing else is wrong, with that
module's own rules on the list as the site image holds it. It also routes the plugin
settings that are site secrets to OMERO.web's env file, and says where the registration
file the images stage writes is mounted.
"""

from __future__ import annotations

import copy
import json
import posixpath

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import images as imagelib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import omero_config
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.common import err
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.omero_values import APP_RE
from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import (
    REGISTRATION_KEYS,
    PluginError,
    parse_requirement,
    validate_plugins,
)

# Written by the images stage (omero_web_plugins module), loaded before the site's *.omero file.
WEB_PLUGINS_FILE_NAME = "20-plugins.omero"


def _check_plugin_parts(item, var, errors):
    for key in ("top_link", "center_plugin", "right_plugin"):
        link = item.get(key)
        if link is not None and (not isinstance(link, dict) or not link.get("label") or not link.get("url")):
            err(errors, "%s.%s" % (var, key), "takes {label: TEXT, url: URL}")
    for key in ("open_with", "settings"):
        if item.get(key) is not None and not isinstance(item[key], dict):
            err(errors, "%s.%s" % (var, key), "must be a dictionary")
    settings = item.get("settings") if isinstance(item.get("settings"), dict) else {}
    for prop, value in settings.items():
        problem = omero_config.property_name_problem(prop)
        if problem:
            err(errors, "%s.settings['%s']" % (var, prop), "invalid OMERO property name: %s" % problem)
        elif omero_config.newline_problem(omero_config.scalar_text(value)):
            err(errors, "%s.settings['%s']" % (var, prop), omero_config.newline_problem("\n"))


def check(plugins, web_ops, errors):
    """Loose validation of omero_web_plugins (registration is the web plugins role's job)."""
    result = []
    apps = dict((json.loads(text), "omero_web_config['omero.web.apps']")
                for op, prop, text in web_ops if op == "append" and prop == "omero.web.apps"
                and isinstance(json.loads(text), str))
    names = set()
    for i, item in enumerate(plugins or []):
        var = "omero_web_plugins[%d]" % i
        if not isinstance(item, dict):
            err(errors, var, "must be a dictionary with at least name and app")
            continue
        name, app = item.get("name"), item.get("app")
        if not isinstance(name, str) or not name:
            err(errors, var + ".name", "is required (the plugin's name, e.g. omero-figure)")
        elif name in names:
            err(errors, var + ".name", "plugin '%s' is listed twice" % name)
        names.add(name if isinstance(name, str) else "")
        if app is None or app == "":
            err(errors, var + ".app", "is required: the Django app to add to omero.web.apps (e.g. omero_figure)")
        elif not isinstance(app, str) or not APP_RE.match(app):
            err(errors, var + ".app", "'%s' is not a Django app name: a Python module path like omero_figure "
                                      "(letters, digits and '_', dots between; no '-')" % (app,))
        elif app in apps:
            err(errors, var + ".app", "web app '%s' is already registered by %s: list each app once"
                % (app, apps[app]))
        else:
            apps[app] = var
        _check_plugin_parts(item, var, errors)
        result.append(copy.deepcopy(item))
    return result


def strict(plugins, local_files, errors):
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
            err(errors, "omero_web_plugins[%d].pip" % i, str(exc) if "pinned" in str(exc) else "%s (%s)"
                % (exc, hint))
            bad_pips += 1
    for i in range(len(in_image) if not bad_pips else 0):
        try:
            validate_plugins(in_image[:i + 1])
        except PluginError as exc:
            err(errors, "omero_web_plugins[%d]" % i, str(exc))
            break
    return in_image


def secret_env(services, plugins, catalog, errors):
    """Plugin settings whose value is a site secret travel as CONFIG_* variables in
    OMERO.web's root-only env file (never in a rendered *.omero file)."""
    web = services.get("omeroweb")
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
            elif web is not None:
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


def registration(paths, enabled, plugins, base_config):
    """Where OMERO.web's registration file is written and mounted, and what it holds; None
    without OMERO.web."""
    if "omeroweb" not in enabled:
        return None
    web_dir = posixpath.join(paths["config"], "omeroweb")
    return {
        "plugins": plugins,
        "base_config": base_config,
        "file": posixpath.join(web_dir, WEB_PLUGINS_FILE_NAME),
        "target": "/opt/omero/web/config/" + WEB_PLUGINS_FILE_NAME,
    }
