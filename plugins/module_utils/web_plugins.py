# -*- coding: utf-8 -*-
# Copyright: omero_docker.stack contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""OMERO.web plugins as data: validation, pip requirements and registration config.

Pure functions (no I/O), shared by the ``omero_web_plugins`` module and the roles that
build images from the same plugin list. A plugin entry is a dict::

    name: omero-figure                 # label used in messages (usually the distribution)
    pip: omero-figure==8.0.1           # pinned requirement; null = provided by the image
    app: omero_figure                  # Django app added to omero.web.apps
    top_link: {label: Figure, url: figure_index, title: ..., target: _blank}
    open_with: {url: new_figure, supported_objects: [images], label: OMERO.figure,
                target: _blank, script_url: ..., id: omero_figure}
    center_plugin: {label: Parade, url: omero_parade/init.js.html, div_id: omero_parade}
    right_plugin: {label: ..., url: ..., div_id: ...}
    metadata_pane: {name: ..., label: ..., index: 8}
    settings: {omero.web.viewer.view: omero_iviewer.views.index}

The values produced follow OMERO.web's own formats (``omeroweb/settings.py``):
``omero.web.apps`` is a JSON list of app names; ``omero.web.ui.top_links`` entries are
``[label, url_or_lookup, options]``; ``omero.web.open_with`` entries are
``[id, url_name, options]``; center and right plugins are ``[label, template, div_id]``;
metadata panes are ``{"name", "label", "index"}`` dicts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import shlex

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import omero_config

APPS = "omero.web.apps"
TOP_LINKS = "omero.web.ui.top_links"
OPEN_WITH = "omero.web.open_with"
CENTER_PLUGINS = "omero.web.ui.center_plugins"
RIGHT_PLUGINS = "omero.web.ui.right_plugins"
METADATA_PANES = "omero.web.ui.metadata_panes"

# The OMERO.web properties this module owns, in the order they are written.
REGISTRATION_KEYS = (APPS, TOP_LINKS, OPEN_WITH, CENTER_PLUGINS, RIGHT_PLUGINS, METADATA_PANES)

# The full-image viewer. The standalone OMERO.web image sets it to OMERO.iviewer, which
# fails (500) when omero_iviewer is not registered: unless a plugin (or the site) sets it,
# the webclient's own viewer is used (see fallback_settings).
VIEWER_VIEW = "omero.web.viewer.view"
WEBCLIENT_VIEWER = "omeroweb.webclient.views.image_viewer"
FALLBACK_SETTINGS = {VIEWER_VIEW: WEBCLIENT_VIEWER}

PLUGIN_KEYS = frozenset(
    ("name", "pip", "app", "top_link", "open_with", "center_plugin", "right_plugin", "metadata_pane", "settings")
)
TOP_LINK_KEYS = frozenset(("label", "url", "title", "target", "options"))
OPEN_WITH_KEYS = frozenset(("id", "url", "supported_objects", "label", "script_url", "target", "options"))
PANEL_KEYS = frozenset(("label", "url", "div_id"))
METADATA_PANE_KEYS = frozenset(("name", "label", "index"))

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_PINNED_RE = re.compile(
    r"^(?P<name>%s)\s*(?P<extras>\[[A-Za-z0-9._,\s-]+\])?\s*==\s*(?P<version>[A-Za-z0-9._+!-]+)$" % _NAME
)
_WHEEL_RE = re.compile(
    r"^(?P<name>[A-Za-z0-9_.]+?)-(?P<version>[A-Za-z0-9_.!+]+)(?:-(?P<build>\d[^-]*))?-[^-]+-[^-]+-[^-]+\.whl$"
)
_VCS_RE = re.compile(r"^git\+(?:https?|ssh|file|git)://[^\s#]+$")
_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
APP_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")


class PluginError(ValueError):
    """A plugin list or requirement that cannot be used; the message names the item."""


def canonical_name(name):
    """PEP 503 normalised distribution name (``Omero_Figure`` -> ``omero-figure``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def normalize_version(version):
    """Light normalisation for comparing an exact pin with installed metadata."""
    return str(version).strip().lower().lstrip("v").replace("_", ".").replace("-", ".")


def parse_requirement(req, default_name=None):
    """Validate a pinned pip requirement and describe it.

    Accepted forms:
      * ``name==version`` (optionally ``name[extra]==version``) from an index;
      * an absolute path (or ``file://`` URL) of a wheel, whose file name gives the
        distribution and version;
      * a git URL pinned to a full 40-hex commit: ``git+https://host/repo@<sha>#egg=name``
        or ``name @ git+https://host/repo@<sha>``; without a name, ``default_name``.

    Returns a dict ``{kind, name, version, commit, spec}`` where ``spec`` is what is
    given to pip. Raises PluginError for anything not pinned.
    """
    if not isinstance(req, str) or not req.strip():
        raise PluginError("pip requirement must be a non-empty string, got %r" % (req,))
    text = req.strip()

    m = _PINNED_RE.match(text)
    if m:
        return {
            "kind": "pypi",
            "name": canonical_name(m.group("name")),
            "version": m.group("version"),
            "commit": None,
            "spec": "%s%s==%s" % (m.group("name"), (m.group("extras") or "").replace(" ", ""), m.group("version")),
        }

    if text.endswith(".whl"):
        return _parse_wheel(req, text)
    vcs = _parse_vcs(req, text, default_name)
    if vcs:
        return vcs
    raise PluginError(
        "pip requirement %r is not pinned: use NAME==VERSION, an absolute path to a .whl file, "
        "or a git URL pinned to a 40-hex commit" % req
    )


def _parse_wheel(req, text):
    path = text[len("file://") :] if text.startswith("file://") else text
    if not path.startswith("/"):
        raise PluginError("wheel requirement %r must be an absolute path or a file:// URL" % req)
    w = _WHEEL_RE.match(path.rsplit("/", 1)[-1])
    if not w:
        raise PluginError("%r is not a valid wheel file name (name-version-python-abi-platform.whl)" % req)
    return {"kind": "wheel", "name": canonical_name(w.group("name")), "version": w.group("version"),
            "commit": None, "spec": path}


def _parse_vcs(req, text, default_name):
    """A git requirement pinned to a commit, or None when ``text`` is no VCS URL."""
    name = None
    url = text
    if " @ " in text or re.match(r"^%s\s*@\s*\S+://" % _NAME, text):
        name, url = (part.strip() for part in text.split("@", 1))
    if not url.startswith(("git+", "hg+", "svn+", "bzr+")):
        return None
    fragment = ""
    if "#" in url:
        url, fragment = url.split("#", 1)
    egg = re.search(r"(?:^|&)egg=(%s)" % _NAME, fragment)
    if egg and name and canonical_name(egg.group(1)) != canonical_name(name):
        raise PluginError("%r names two different distributions" % req)
    name = name or (egg.group(1) if egg else None) or default_name
    if not url.startswith("git+") or not _VCS_RE.match(url):
        raise PluginError(
            "VCS requirement %r: only git URLs (git+https://, git+ssh://, git+file://) are supported" % req
        )
    repo, sep, commit = url.rpartition("@")
    if not sep or "://" not in repo or not _COMMIT_RE.match(commit):
        raise PluginError(
            "VCS requirement %r must be pinned to a full 40-hex commit (...@<sha>), not a branch or tag" % req
        )
    if not name:
        raise PluginError("VCS requirement %r does not name its distribution (add #egg=NAME or NAME @ URL)" % req)
    if not re.match("^%s$" % _NAME, name):
        raise PluginError("VCS requirement %r: invalid distribution name %r" % (req, name))
    return {"kind": "vcs", "name": canonical_name(name), "version": None, "commit": commit,
            "spec": "%s @ %s" % (name, url)}


def _options(value, keys):
    options = dict(value.get("options") or {})
    for key in keys:
        if value.get(key) is not None:
            options[key] = value[key]
    return dict(sorted(options.items()))


def top_link_entry(plugin):
    link = plugin["top_link"]
    entry = [link["label"], link["url"]]
    options = _options(link, ("title", "target"))
    if options:
        entry.append(options)
    return entry


def open_with_entry(plugin):
    ow = plugin["open_with"]
    return [ow.get("id") or plugin["app"], ow["url"], _options(ow, ("supported_objects", "label", "script_url",
                                                                    "target"))]


def panel_entry(plugin, what):
    panel = plugin[what]
    return [panel["label"], panel["url"], panel.get("div_id") or plugin["app"]]


def metadata_pane_entry(plugin):
    pane = plugin["metadata_pane"]
    entry = {"name": pane["name"], "label": pane["label"]}
    if pane.get("index") is not None:
        entry["index"] = pane["index"]
    return entry


# For each UI list: how an entry is identified when merging (two entries with the same
# identity are the same registration, whatever their other fields).
def _identity(key, entry):
    if key == APPS:
        return entry
    if key == METADATA_PANES:
        return entry.get("name") if isinstance(entry, dict) else json.dumps(entry, sort_keys=True)
    if not isinstance(entry, list) or len(entry) < 2:
        return json.dumps(entry, sort_keys=True)
    if key == TOP_LINKS:
        return json.dumps(entry[1], sort_keys=True)  # the target view/URL
    if key == OPEN_WITH:
        return entry[0]  # the viewer id
    return entry[2] if len(entry) > 2 else entry[1]  # center/right: the div id


def fallback_settings(plugins, given=()):
    """OMERO.web settings that no plugin of ``plugins`` and no property in ``given`` (the
    site's own) sets, with the collection's value: the webclient's own image viewer.

    They belong after the plugin registration (a site file loaded later), so that a
    plugin's choice, e.g. OMERO.iviewer's ``settings``, is never overridden.
    """
    chosen = set(given)
    for plugin in plugins or []:
        if isinstance(plugin, dict) and isinstance(plugin.get("settings"), dict):
            chosen.update(plugin["settings"])
    return dict((key, value) for key, value in sorted(FALLBACK_SETTINGS.items()) if key not in chosen)


# The UI hooks of a plugin entry: (keys allowed, keys required).
HOOKS = {
    "top_link": (TOP_LINK_KEYS, ("label", "url")),
    "open_with": (OPEN_WITH_KEYS, ("url", "supported_objects")),
    "center_plugin": (PANEL_KEYS, ("label", "url")),
    "right_plugin": (PANEL_KEYS, ("label", "url")),
    "metadata_pane": (METADATA_PANE_KEYS, ("name", "label")),
}
_PIN_HINT = "every pip must be pinned: NAME==VERSION, a wheel file, or a git URL at a 40-hex commit"


def _hook_problems(where, key, hook):
    allowed, required = HOOKS[key]
    var = "%s.%s" % (where, key)
    if not isinstance(hook, dict):
        return [(var, "must be a dictionary with %s" % ", ".join(required))]
    problems = [("%s.%s" % (var, k), "unknown setting; one of: %s" % ", ".join(sorted(allowed)))
                for k in sorted(set(hook) - allowed, key=str)]
    problems += [("%s.%s" % (var, k), "is required") for k in required if hook.get(k) in (None, "", [], {})]
    if hook.get("options") is not None and not isinstance(hook["options"], dict):
        problems.append((var + ".options", "must be a dictionary"))
    if key == "top_link" and hook.get("url") and not isinstance(hook["url"], (str, dict)):
        problems.append((var + ".url", "must be a view name, URL or lookup mapping"))
    supported = hook.get("supported_objects")
    if key == "open_with" and supported and not (isinstance(supported, list)
                                                 and all(isinstance(o, str) for o in supported)):
        problems.append((var + ".supported_objects", "must be a list of strings"))
    index = hook.get("index")
    if key == "metadata_pane" and index is not None and (not isinstance(index, int) or isinstance(index, bool)):
        problems.append((var + ".index", "must be an integer"))
    return problems


def _identity_problems(where, plugin, seen, known):
    problems = [("%s.%s" % (where, k), "unknown setting; one of: %s" % ", ".join(sorted(known)))
                for k in sorted(set(plugin) - known, key=str)]
    name, app = plugin.get("name"), plugin.get("app")
    if not isinstance(name, str) or not name:
        problems.append((where + ".name", "is required (the plugin's name, e.g. omero-figure)"))
    elif name in seen["names"]:
        problems.append((where + ".name", "plugin '%s' is listed twice (also %s)" % (name, seen["names"][name])))
    else:
        seen["names"][name] = where
    if app is None or app == "":
        problems.append((where + ".app", "is required: the Django app to add to omero.web.apps (e.g. omero_figure)"))
    elif not isinstance(app, str) or not APP_RE.match(app):
        problems.append((where + ".app", "'%s' is not a Django app name: a Python module path like omero_figure "
                                         "(letters, digits and '_', dots between; no '-')" % (app,)))
    elif app in seen["apps"]:
        problems.append((where + ".app", "web app '%s' is already registered by %s: list each app once"
                         % (app, seen["apps"][app])))
    else:
        seen["apps"][app] = _named(where, plugin)
    return problems


def _named(where, plugin):
    """An item as other items' messages name it: ``plugins[0] (omero-figure)``."""
    name = plugin.get("name")
    return "%s (%s)" % (where, name) if isinstance(name, str) and name else where


def _requirement_problems(where, plugin, seen):
    if plugin.get("pip") is None:
        return []
    try:
        req = parse_requirement(plugin["pip"], default_name=plugin.get("name") or None)
    except PluginError as exc:
        return [(where + ".pip", str(exc) if "pinned" in str(exc) else "%s (%s)" % (exc, _PIN_HINT))]
    dist = req["name"]
    if dist in seen["dists"]:
        return [(where + ".pip", "distribution %s is already installed by %s" % (dist, seen["dists"][dist]))]
    seen["dists"][dist] = _named(where, plugin)
    return []


def _settings_problems(where, plugin, seen):
    settings = plugin.get("settings")
    if settings is None:
        return []
    if not isinstance(settings, dict):
        return [(where + ".settings", "must be a dictionary of OMERO.web properties to values")]
    problems = []
    for key, value in settings.items():
        var = "%s.settings['%s']" % (where, key)
        problem = omero_config.property_name_problem(key)
        if problem:
            problems.append((var, "invalid OMERO property name: %s" % problem))
        elif key in REGISTRATION_KEYS:
            problems.append((var, "%s is managed from the plugin list (use app/top_link/open_with/... instead)" % key))
        elif omero_config.newline_problem(omero_config.scalar_text(value)):
            problems.append((var, omero_config.newline_problem("\n")))
        elif key in seen["settings"] and seen["settings"][key][1] != value:
            problems.append((var, "conflicts with the value set by %s" % seen["settings"][key][0]))
        else:
            seen["settings"].setdefault(key, (_named(where, plugin), value))
    return problems


def plugin_problems(plugins, var="plugins", extra_keys=(), apps=None):
    """``(variable, message)`` of every problem of a plugin list: the one validator, used by
    the omero_web_plugins module (``var`` ``plugins``) and the site model
    (``omero_web_plugins``, whose entries may hold ``extra_keys``; ``apps`` maps apps the
    site registers otherwise to where). Variables name the item: ``plugins[0].pip``."""
    if plugins is None:
        return []
    if not isinstance(plugins, list):
        return [(var, "must be a list of plugins")]
    seen = {"names": {}, "apps": dict(apps or {}), "dists": {}, "settings": {}}
    known = PLUGIN_KEYS | frozenset(extra_keys)
    problems = []
    for index, plugin in enumerate(plugins):
        where = "%s[%d]" % (var, index)
        if not isinstance(plugin, dict):
            problems.append((where, "must be a dictionary with at least name and app"))
            continue
        problems.extend(_identity_problems(where, plugin, seen, known))
        problems.extend(_requirement_problems(where, plugin, seen))
        for key in HOOKS:
            if plugin.get(key) is not None:
                problems.extend(_hook_problems(where, key, plugin[key]))
        problems.extend(_settings_problems(where, plugin, seen))
    return problems


def validate_plugins(plugins):
    """Check a plugin list (:func:`plugin_problems`); return it normalised (each entry gets
    ``requirement``), or raise PluginError naming every problem and its item."""
    problems = plugin_problems(plugins)
    if problems:
        raise PluginError("; ".join("%s: %s" % problem for problem in problems))
    return [dict(p, requirement=None if p.get("pip") is None else parse_requirement(p["pip"], p["name"]))
            for p in plugins or []]


def _contributions(plugin):
    """{registration key: [entries]} that one plugin adds."""
    out = {APPS: [plugin["app"]]}
    if plugin.get("top_link"):
        out[TOP_LINKS] = [top_link_entry(plugin)]
    if plugin.get("open_with"):
        out[OPEN_WITH] = [open_with_entry(plugin)]
    if plugin.get("center_plugin"):
        out[CENTER_PLUGINS] = [panel_entry(plugin, "center_plugin")]
    if plugin.get("right_plugin"):
        out[RIGHT_PLUGINS] = [panel_entry(plugin, "right_plugin")]
    if plugin.get("metadata_pane"):
        out[METADATA_PANES] = [metadata_pane_entry(plugin)]
    return out


def _as_list(key, value):
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise PluginError("existing value of %s is not JSON: %r" % (key, value)) from None
    if not isinstance(value, list):
        raise PluginError("existing value of %s must be a JSON list" % key)
    return list(value)


def registration(plugins, base=None, removed=None):
    """Compute the OMERO.web registration properties for a plugin list.

    ``base`` maps registration keys to the site's existing values (lists or their JSON
    text), e.g. OMERO.web's defaults or the site's own top links. Each output list is the
    base, in its order and without duplicates, followed by the plugins' entries in plugin
    order; a plugin entry whose identity (app name, link target, viewer id, div id, pane
    name) is already in the base is not added again, so the site's own choice wins.

    ``removed`` lists plugin entries that were registered before and are no longer
    wanted: their contributions are dropped from the base, so that passing the live
    configuration as ``base`` still unregisters them.

    Returns ``{key: list}`` for every key in REGISTRATION_KEYS plus the merged plugin
    ``settings`` under ``"settings"``.
    """
    plugins = validate_plugins(plugins)
    base = base or {}
    unknown = sorted(set(base) - set(REGISTRATION_KEYS))
    if unknown:
        raise PluginError("base values given for properties that are not registration keys: %s" % ", ".join(unknown))
    drop = {key: set() for key in REGISTRATION_KEYS}
    wanted_apps = {p["app"] for p in plugins}
    for old in removed or []:
        if not isinstance(old, dict) or old.get("app") in wanted_apps:
            continue
        try:
            contributions = _contributions(old)
        except (AttributeError, KeyError, PluginError, TypeError):
            continue  # an old entry we cannot read any more: nothing to subtract
        for key, entries in contributions.items():
            drop[key].update(_identity(key, e) for e in entries)

    out = {}
    for key in REGISTRATION_KEYS:
        merged, seen = [], set()
        for entry in _as_list(key, base.get(key)):
            ident = _identity(key, entry)
            if ident in drop[key] or ident in seen:
                continue
            seen.add(ident)
            merged.append(entry)
        for plugin in plugins:
            for entry in _contributions(plugin).get(key, []):
                ident = _identity(key, entry)
                if ident not in seen:
                    seen.add(ident)
                    merged.append(entry)
        out[key] = merged
    settings = {}
    for plugin in plugins:
        settings.update(plugin.get("settings") or {})
    out["settings"] = dict(sorted(settings.items()))
    return out


def render_omero_file(reg, header=None):
    """Render a registration (from ``registration``) as an ``*.omero`` file.

    Every registration key is written with ``config set`` and its whole JSON list: loading
    the file is idempotent (a container restart that reloads it does not append twice)
    and a removed plugin disappears even from a configuration that still lists it.
    The file is read by ``omero load`` (the official images load
    ``/opt/omero/web/config/*.omero`` at start); lines are split with ``shlex``. Values and
    lines are those of the site's own file (site_model/omero_config.py: one renderer).
    """
    ops = [("set", key, omero_config.scalar_text(reg[key])) for key in REGISTRATION_KEYS]
    ops += [("set", key, omero_config.scalar_text(value)) for key, value in reg.get("settings", {}).items()]
    return omero_config.render(ops, "%s\nLoaded with `omero load`; each property is set as a whole so reloading is "
                                    "idempotent." % (header or "OMERO.web plugin registration, managed by "
                                                               "omero_docker.stack; do not edit."))


def parse_omero_file(text):
    """Read back the ``config set`` lines of a rendered file as ``{key: value text}``."""
    values = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        args = shlex.split(line)
        if args[:2] == ["config", "set"]:
            args = [a for a in args[2:] if a != "--"]
            if len(args) == 2:
                values[args[0]] = args[1]
            elif len(args) == 1:
                values.pop(args[0], None)
    return values


def installed_matches(req, dist):
    """Does an installed distribution (``{version, direct_url}``) satisfy a requirement?

    ``direct_url`` is the parsed PEP 610 ``direct_url.json`` of the installed
    distribution (or None). A pin from an index is satisfied by the same version not
    installed from a VCS; a git pin by the same commit; a wheel by the same version.
    """
    if dist is None:
        return False
    direct = dist.get("direct_url") or {}
    if req["kind"] == "vcs":
        vcs = direct.get("vcs_info") or {}
        return vcs.get("commit_id") == req["commit"]
    if normalize_version(dist.get("version")) != normalize_version(req["version"]):
        return False
    if req["kind"] == "pypi" and direct.get("vcs_info"):
        return False
    return True


def plan_distributions(plugins, installed, managed):
    """Decide the pip work that makes the managed distributions match the plugin list.

    ``plugins``: validated plugins (``validate_plugins``); ``installed``: canonical name ->
    ``{version, direct_url}``; ``managed``: canonical names this module installed before.
    Distributions that were never managed (omero-web itself, the image's own packages)
    are never removed. Returns ``{install: [spec], uninstall: [name], keep: [name],
    managed: [name]}`` (``managed`` is the new managed set, in plugin order).
    """
    install, keep, wanted = [], [], []
    for plugin in plugins:
        req = plugin.get("requirement")
        if not req:
            continue
        wanted.append(req["name"])
        if installed_matches(req, installed.get(req["name"])):
            keep.append(req["name"])
        else:
            install.append(req["spec"])
    uninstall = [name for name in sorted(set(managed or [])) if name not in wanted and name in installed]
    return {"install": install, "uninstall": uninstall, "keep": keep, "managed": wanted}
