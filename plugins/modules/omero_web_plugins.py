#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: omero_docker.stack contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Install, register and verify OMERO.web plugins inside an OMERO.web installation.

Why a custom module: no stock module does this job as one idempotent step.
``ansible.builtin.pip`` installs what it is given but cannot make a virtualenv contain
*exactly* the listed plugin distributions (it does not know which ones it installed
before and must now remove, and does not compare git pins by commit). ``omero config
append``, as used by the official images' ``*.omero`` files, appends again every time
the file is reloaded (a container restart registers a plugin twice) and never
unregisters a removed plugin. And "the plugin works" can only be checked in the
OMERO.web Python itself, with Django set up from OMERO.web's settings. This module runs
with the OMERO.web virtualenv's Python (for example through the community.docker.docker
connection) and does all three with check mode and diff.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: omero_web_plugins
short_description: Install, register and verify OMERO.web plugins
version_added: "0.1.0"
description:
  - Runs with the Python of an OMERO.web virtualenv (for example C(/opt/omero/web/venv3/bin/python) inside an
    OMERO.web container, through the M(community.docker.docker) connection plugin).
  - Makes the virtualenv contain exactly the plugin distributions listed, at the pinned versions. Only distributions
    this module installed before (recorded in O(state_file)) are ever uninstalled; OMERO.web itself and packages of
    the image are left alone. Installed distributions are inspected with C(importlib.metadata), including
    PEP 610 C(direct_url.json) for git pins.
  - Writes the registration as an C(*.omero) file of C(config set) lines (C(omero.web.apps), top links, open-with
    viewers, center and right panels, metadata panes, plugin settings). The official OMERO.web images load
    C(/opt/omero/web/config/*.omero) with C(omero load) at every start. Each list is set as a whole, so loading
    the file again after a restart registers nothing twice, and a plugin removed from the list is unregistered.
  - Verifies, in a throw-away copy of the configuration into which the real C(omero) CLI loads what the next start
    will load (the C(*.omero) files of the config directory with the new file, then the C(CONFIG_*) variables), and
    with Django set up from OMERO.web's settings, that each registered app imports and exposes a C(urls) module
    with C(urlpatterns). A failure names the plugin, and the registration file is then left unchanged.
  - An invalid plugin list fails before anything changes, each problem named by its item (C(plugins[0].pip)), with the
    validator and messages the site model uses for C(omero_web_plugins).
  - Why a custom module is needed, in short, is explained in the module's source docstring.
author:
  - omero_docker.stack developers (@omero-docker)
options:
  plugins:
    description:
      - The wanted plugins, in registration order. Each entry has C(name) and C(app), and optionally C(pip),
        C(top_link), C(open_with), C(center_plugin), C(right_plugin), C(metadata_pane) and C(settings).
      - C(pip) must be pinned, either as C(NAME==VERSION), as the absolute path of a wheel file, or as a git URL
        pinned to a full 40-hex commit (C(git+https://host/repo@SHA#egg=NAME) or C(NAME @ git+https://...@SHA)).
        Without C(pip) the app is registered only (it must already be installed, for example by the image).
      - C(top_link) is C({label, url, title?, target?, options?}), giving C([label, url, options]) in
        C(omero.web.ui.top_links). C(open_with) is C({url, supported_objects, label?, script_url?, target?, id?})
        giving C([id, url, options]) in C(omero.web.open_with) (C(id) defaults to C(app)). C(center_plugin) and
        C(right_plugin) are C({label, url, div_id?}) giving C([label, url, div_id]) (C(div_id) defaults to
        C(app)). C(metadata_pane) is C({name, label, index?}). C(settings) maps dotted OMERO.web properties to
        values (lists and mappings are written as JSON).
    type: list
    elements: dict
    required: true
  base_config:
    description:
      - The site's own values of the registration properties (C(omero.web.apps), C(omero.web.ui.top_links),
        C(omero.web.open_with), C(omero.web.ui.center_plugins), C(omero.web.ui.right_plugins),
        C(omero.web.ui.metadata_panes)), as lists or JSON text. Plugin entries are merged after them without
        duplicates.
      - For a property not given here, OMERO.web's own default from the installed C(omeroweb) package is used
        (so the default Data/History/Help links stay), or an empty list when OMERO.web is not installed.
      - Set these properties here rather than with C(CONFIG_*) variables, which the official entrypoint applies
        after the C(*.omero) files and which would replace the merged lists.
    type: dict
    default: {}
  config_file:
    description: The C(*.omero) file to write.
    type: path
    default: /opt/omero/web/config/20-plugins.omero
  state_file:
    description:
      - JSON file recording which distributions this module manages and the plugin list last applied.
      - Defaults to C(omero-stack-web-plugins.json) in the virtualenv (C(sys.prefix)), so an image that was built
        with the plugins can ship it.
    type: path
  install:
    description:
      - Install and uninstall distributions with pip. When V(false), only check that the installation already
        matches the list (for example in an image built with the plugins) and fail otherwise.
    type: bool
    default: true
  pip_args:
    description: Extra arguments for C(pip install), for example C(--no-index) and C(--find-links=/wheels).
    type: list
    elements: str
    default: []
  verify:
    description: Import each registered app and its C(urls) module with OMERO.web's settings.
    type: bool
    default: true
  verify_user:
    description:
      - User (name or uid) that runs the OMERO CLI and the import checks when the module runs as root (the OMERO
        CLI refuses root, and OMERO.web never runs as root).
      - Defaults to the owner of C($OMERODIR), else of the directory of O(config_file).
    type: str
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Nothing is installed or written; verification runs only when no pip work is pending.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows the C(*.omero) file and the managed distributions before and after.
notes:
  - The pip process inherits the task environment; behind a TLS-inspecting proxy set C(PIP_CERT) with the
    C(environment) keyword.
  - Dependencies pulled in by a removed plugin stay installed (pip does not track why a package was installed).
seealso:
  - name: OMERO.web configuration properties
    description: Formats of omero.web.apps, omero.web.ui.top_links, omero.web.open_with and the UI plugin lists.
    link: https://omero.readthedocs.io/en/stable/sysadmins/config.html
"""

EXAMPLES = r"""
- name: Install and register the site's OMERO.web plugins in the omeroweb container
  omero_docker.stack.omero_web_plugins:
    plugins:
      - name: omero-figure
        pip: omero-figure==8.0.1
        app: omero_figure
        top_link: {label: Figure, url: figure_index, title: Open Figure in new tab, target: _blank}
        open_with: {url: new_figure, supported_objects: [images], target: _blank, label: OMERO.figure}
      - name: omero-iviewer
        pip: omero-iviewer==0.19.1
        app: omero_iviewer
        open_with:
          url: omero_iviewer_index
          supported_objects: [images, dataset, well]
          script_url: omero_iviewer/openwith.js
          label: OMERO.iviewer
        settings:
          omero.web.viewer.view: omero_iviewer.views.index
      - name: omero-parade
        pip: omero-parade==0.2.4
        app: omero_parade
        center_plugin: {label: Parade, url: omero_parade/init.js.html, div_id: omero_parade}
  environment:
    PIP_CERT: /etc/ssl/certs/ca-certificates.crt
  vars:
    ansible_connection: community.docker.docker
    ansible_host: omeroweb
    ansible_docker_extra_args: --user root
    ansible_python_interpreter: /opt/omero/web/venv3/bin/python

- name: In a built image, only check the plugins are there and register them
  omero_docker.stack.omero_web_plugins:
    plugins: "{{ omero_web_plugins }}"
    install: false
"""

RETURN = r"""
installed:
  description: Requirements given to pip install (empty when nothing was needed).
  returned: always
  type: list
  elements: str
  sample: [omero-parade==0.2.4]
uninstalled:
  description: Managed distributions removed because their plugin left the list.
  returned: always
  type: list
  elements: str
managed:
  description: Canonical names of the distributions now managed by this module.
  returned: always
  type: list
  elements: str
  sample: [omero-figure, omero-iviewer, omero-parade]
registration:
  description: The registration properties written, as lists, plus C(settings).
  returned: always
  type: dict
  sample: {"omero.web.apps": ["omero_figure"], "settings": {}}
config_file:
  description: Path of the C(*.omero) file.
  returned: always
  type: str
content:
  description:
    - The text of the C(*.omero) file as written (or, in check mode, as it would be written), for copying it
      elsewhere, for example from a throw-away container of a built image to the host.
  returned: always
  type: str
verified:
  description:
    - Per app, the plugin name and the URL prefix Django routes to it (C(/LABEL/), the app's AppConfig label),
      when verification ran with OMERO.web's settings.
  returned: always
  type: dict
  sample: {"omero_figure": {"plugin": "omero-figure", "url": "/figure/"}}
"""

# Imports follow DOCUMENTATION/EXAMPLES/RETURN, as validate-modules requires.
import glob  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pwd  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.omero_config import (  # noqa: E402
    CONFIG_ENV_PREFIX,
    property_from_config_env,
    render,
)
from ansible_collections.omero_docker.stack.plugins.module_utils.web_plugins import (  # noqa: E402
    APPS,
    REGISTRATION_KEYS,
    PluginError,
    plan_distributions,
    registration,
    render_omero_file,
    validate_plugins,
)

STATE_FILE_NAME = "omero-stack-web-plugins.json"

# Runs in the target Python: what is installed, by canonical name (first on sys.path wins).
INSPECT_SCRIPT = r"""
import importlib.metadata as md, json, re
out = {}
for dist in md.distributions():
    name = dist.metadata["Name"]
    if not name:
        continue
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in out:
        continue
    direct = dist.read_text("direct_url.json")
    try:
        direct = json.loads(direct) if direct else None
    except ValueError:
        direct = None
    out[key] = {"version": dist.version, "direct_url": direct}
print(json.dumps(out))
"""

# Runs in the target Python with OMERODIR set to a scratch copy: OMERO.web's defaults for
# the registration properties, or {} when OMERO.web is not installed.
DEFAULTS_SCRIPT = r"""
import json, sys
keys = json.loads(sys.argv[1])
try:
    from omeroweb.settings import CUSTOM_SETTINGS_MAPPINGS as m
except ImportError:
    print("{}")
else:
    print(json.dumps({k: m[k][2](m[k][1]) for k in keys if k in m}))
"""

# Runs in the target Python: import every app and its urls module. With OMERO.web
# installed, Django is set up from omeroweb.settings first (OMERODIR is a scratch copy
# with the new registration loaded), as `omero web start` would.
VERIFY_SCRIPT = r"""
import importlib, json, sys, traceback
apps = json.loads(sys.argv[1])
result = {"django": False, "setup_error": None, "apps": {}}
labels = {}
try:
    import omeroweb  # noqa: F401
except ImportError:
    pass
else:
    import os
    os.environ["DJANGO_SETTINGS_MODULE"] = "omeroweb.settings"
    try:
        import django
        django.setup()
        from django.apps import apps as registry
        labels = {c.name: c.label for c in registry.get_app_configs()}
        result["django"] = True
    except Exception as exc:
        result["setup_error"] = "%s: %s" % (type(exc).__name__, exc)
for app in apps:
    try:
        importlib.import_module(app)
        urls = importlib.import_module(app + ".urls")
        if not isinstance(getattr(urls, "urlpatterns", None), (list, tuple)):
            raise ImportError("%s.urls defines no urlpatterns list" % app)
        entry = {"ok": True}
        if app in labels:
            entry["url"] = "/%s/" % labels[app]
        elif result["django"]:
            raise ImportError("Django did not load app %s (not in omero.web.apps?)" % app)
    except Exception as exc:
        entry = {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc),
                 "trace": traceback.format_exc(limit=3)}
    result["apps"][app] = entry
print(json.dumps(result))
"""


class ModuleFailure(Exception):
    """A failure reported to Ansible with fail_json (``changed`` if pip already acted)."""

    changed = False


def _run(cmd, env=None, stdin=None, runas=None):
    kwargs = {}
    if runas:
        kwargs = {"user": runas[0], "group": runas[1], "extra_groups": []}
    proc = subprocess.run(
        cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, check=False, **kwargs
    )
    return proc.returncode, proc.stdout, proc.stderr


def _json_from(python, script, args=(), env=None, runas=None):
    rc, out, err = _run([python, "-c", script, *args], env=env, runas=runas)
    if rc != 0:
        raise ModuleFailure("%s failed (rc %d): %s" % (python, rc, (err or out).strip()[-2000:]))
    return json.loads(out.strip().splitlines()[-1])


def verification_identity(params):
    """(uid, gid) to run OMERO code as, or None to run as the current user.

    The OMERO CLI refuses to run as root, and OMERO.web itself never does: as root the
    checks run as O(verify_user), else as the owner of $OMERODIR (omero-web in the
    official images) or of the config file's directory when that is not root.
    """
    if os.geteuid() != 0:
        return None
    user = params.get("verify_user")
    if user:
        try:
            entry = pwd.getpwuid(int(user)) if str(user).isdigit() else pwd.getpwnam(user)
        except KeyError:
            raise ModuleFailure("verify_user %s does not exist" % user) from None
        return entry.pw_uid, entry.pw_gid
    for path in (os.environ.get("OMERODIR"), os.path.dirname(params["config_file"])):
        if path and os.path.exists(path):
            st = os.stat(path)
            if st.st_uid != 0:
                return st.st_uid, st.st_gid
    return None  # nothing owned by an OMERO user here: stay root (the OMERO CLI will say so)


def installed_distributions(python):
    """{canonical name: {version, direct_url}} as seen by importlib.metadata in ``python``."""
    return _json_from(python, INSPECT_SCRIPT)


def read_state(path):
    if not path or not os.path.exists(path):
        return {"managed": [], "plugins": []}
    with open(path) as handle:
        try:
            state = json.load(handle)
        except ValueError as exc:
            raise ModuleFailure("state file %s is not JSON: %s" % (path, exc)) from None
    return {"managed": list(state.get("managed") or []), "plugins": list(state.get("plugins") or [])}


def _write_atomic(path, text, mode=0o644):
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def startup_config_text(config_file, new_text, environ=None):
    """What the official entrypoint will load at the next start, with the new file.

    The ``*.omero`` files of the config file's directory in name order (the new text in
    place of the config file), then ``config set`` lines for the ``CONFIG_*`` variables
    named as the entrypoint names them (site_model/omero_config.py, the one rule), which it
    applies after the files.
    """
    directory = os.path.dirname(config_file) or "."
    names = set(glob.glob(os.path.join(directory, "*.omero"))) | {config_file}
    parts = []
    for path in sorted(names):
        if path == config_file:
            parts.append(new_text)
        else:
            with open(path) as handle:
                parts.append(handle.read())
    environ = os.environ if environ is None else environ
    ops = [("set", property_from_config_env(name), environ[name]) for name in sorted(environ)
           if name.startswith(CONFIG_ENV_PREFIX)]
    if ops:
        parts.append(render(ops))
    return "".join(part if part.endswith("\n") else part + "\n" for part in parts)


def _scratch_omerodir(load_text=None, python=None, runas=None):
    """A throw-away OMERODIR: a copy of the real config.xml with ``load_text`` loaded."""
    scratch = tempfile.mkdtemp(prefix="omero-web-plugins-")
    os.makedirs(os.path.join(scratch, "etc", "grid"))
    os.makedirs(os.path.join(scratch, "var", "log"))
    real = os.environ.get("OMERODIR")
    if real and os.path.isfile(os.path.join(real, "etc", "grid", "config.xml")):
        shutil.copyfile(
            os.path.join(real, "etc", "grid", "config.xml"), os.path.join(scratch, "etc", "grid", "config.xml")
        )
    env = dict(os.environ, OMERODIR=scratch)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if runas:
        env["HOME"] = scratch  # OMERO keeps ~/omero/tmp
        for root, dirs, files in os.walk(scratch):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.chown(name, runas[0], runas[1])
    if load_text is not None and python is not None:
        omero = os.path.join(os.path.dirname(python), "omero")
        if os.path.exists(omero):
            path = os.path.join(scratch, "plugins.omero")
            with open(path, "w") as handle:
                handle.write(load_text)
            rc, out, err = _run([omero, "load", path], env=env, runas=runas)
            if rc != 0:
                shutil.rmtree(scratch, ignore_errors=True)
                raise ModuleFailure(
                    "omero load of the configuration files with the new registration failed%s: %s"
                    % (" (running as root: set verify_user)" if os.geteuid() == 0 and not runas else "",
                       (err or out).strip()[-2000:])
                )
    return scratch, env


def omeroweb_defaults(python, runas=None):
    scratch, env = _scratch_omerodir(runas=runas)
    try:
        return _json_from(python, DEFAULTS_SCRIPT, [json.dumps(list(REGISTRATION_KEYS))], env=env, runas=runas)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def verify_apps(python, plugins, load_text, runas=None):
    """Import every registered app and its urls module; return {app: {plugin, url}}.

    ``load_text`` (``startup_config_text``) is loaded into a scratch copy of the
    configuration first. Raises ModuleFailure naming the plugin(s) whose app does not import.
    """
    apps = [p["app"] for p in plugins]
    scratch, env = _scratch_omerodir(load_text, python, runas)
    try:
        result = _json_from(python, VERIFY_SCRIPT, [json.dumps(apps)], env=env, runas=runas)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    by_app = {p["app"]: p["name"] for p in plugins}
    failed = [(by_app[a], a, r["error"]) for a, r in result["apps"].items() if not r["ok"]]
    if failed:
        raise ModuleFailure(
            "OMERO.web plugin(s) failed to load: "
            + "; ".join("%s (app %s): %s" % item for item in failed)
            + (" [Django setup: %s]" % result["setup_error"] if result.get("setup_error") else "")
        )
    if result.get("setup_error"):
        raise ModuleFailure("OMERO.web's Django setup failed with the new registration: %s" % result["setup_error"])
    verified = {}
    for app, entry in result["apps"].items():
        verified[app] = {"plugin": by_app[app]}
        if entry.get("url"):
            verified[app]["url"] = entry["url"]
    return verified


def _pip(python, args, what):
    rc, out, err = _run([python, "-m", "pip", "--disable-pip-version-check", "--no-input", *args])
    if rc != 0:
        raise ModuleFailure("pip %s failed (rc %d): %s" % (what, rc, (err or out).strip()[-3000:]))
    return out


def _dists_text(names, installed):
    return "".join("%s==%s\n" % (n, (installed.get(n) or {}).get("version", "?")) for n in sorted(names))


def _base_values(params, python, runas):
    """The site's values of the registration lists, else OMERO.web's defaults."""
    given = params.get("base_config") or {}
    base = {}
    missing = [k for k in REGISTRATION_KEYS if k not in given and k != APPS]
    if missing:
        defaults = omeroweb_defaults(python, runas)
        base.update({k: defaults[k] for k in missing if k in defaults})
    base.update(given)
    return base


def _diff(work):
    plan, installed = work["plan"], work["installed"]
    after = []
    for plugin in work["plugins"]:
        req = plugin["requirement"]
        if req:
            kept = req["name"] in plan["keep"]
            after.append("%s==%s" % (req["name"], installed[req["name"]]["version"]) if kept else req["spec"])
    return [
        {
            "before_header": work["config_file"],
            "after_header": work["config_file"],
            "before": work["before_text"],
            "after": work["text"],
        },
        {
            "before_header": "managed distributions",
            "after_header": "managed distributions",
            "before": _dists_text([n for n in work["state"]["managed"] if n in installed], installed),
            "after": "".join("%s\n" % line for line in sorted(after)),
        },
    ]


def decide(params, python):
    """Everything the module would do, without doing it."""
    try:
        plugins = validate_plugins(params["plugins"])
    except PluginError as exc:
        raise ModuleFailure(str(exc)) from None
    state_file = params.get("state_file")
    if not state_file:
        prefix = sys.prefix if python == sys.executable else os.path.dirname(os.path.dirname(python))
        state_file = os.path.join(prefix, STATE_FILE_NAME)
    work = {"plugins": plugins, "state_file": state_file, "config_file": params["config_file"]}
    work["runas"] = verification_identity(params)
    work["state"] = read_state(state_file)
    work["installed"] = installed_distributions(python)
    work["plan"] = plan = plan_distributions(plugins, work["installed"], work["state"]["managed"])
    work["pip_work"] = bool(plan["install"] or plan["uninstall"])
    if work["pip_work"] and not params.get("install", True):
        raise ModuleFailure(
            "installation does not match the plugin list (install=false): missing or wrong version: %s; "
            "managed but no longer listed: %s"
            % (", ".join(plan["install"]) or "none", ", ".join(plan["uninstall"]) or "none")
        )
    # What is stored and merged is the list as given (without the parsed requirement).
    work["stored_plugins"] = [{k: v for k, v in p.items() if k != "requirement"} for p in plugins]
    try:
        work["registration"] = registration(
            work["stored_plugins"], base=_base_values(params, python, work["runas"]), removed=work["state"]["plugins"]
        )
    except PluginError as exc:
        raise ModuleFailure(str(exc)) from None
    work["text"] = render_omero_file(work["registration"])
    work["before_text"] = ""
    if os.path.exists(work["config_file"]):
        with open(work["config_file"]) as handle:
            work["before_text"] = handle.read()
    work["file_changed"] = work["before_text"] != work["text"]
    work["state_changed"] = (
        work["state"]["managed"] != plan["managed"] or work["state"]["plugins"] != work["stored_plugins"]
    )
    return work


def apply(work, params, python):
    """Do the pip work, record the state, verify, then write the registration file."""
    plan, plugins = work["plan"], work["plugins"]
    if plan["uninstall"]:
        _pip(python, ["uninstall", "-y", *plan["uninstall"]], "uninstall")
    if plan["install"]:
        _pip(python, ["install", *params.get("pip_args", []), *plan["install"]], "install")
    if work["pip_work"]:
        after = installed_distributions(python)
        wrong = [p["name"] for p in plugins if p["requirement"] and plan_distributions([p], after, [])["install"]]
        if wrong:
            raise ModuleFailure("after pip install, still not at the pinned version: %s" % ", ".join(wrong))
    if work["state_changed"] or work["pip_work"]:
        state = {"managed": plan["managed"], "plugins": work["stored_plugins"]}
        _write_atomic(work["state_file"], json.dumps(state, indent=1) + "\n")
    verified = {}
    if params.get("verify", True):
        load_text = startup_config_text(work["config_file"], work["text"])
        verified = verify_apps(python, plugins, load_text, work["runas"])
    # Written last: a plugin that does not load is never registered.
    if work["file_changed"]:
        _write_atomic(work["config_file"], work["text"])
    return verified


def converge(params, check_mode=False, python=None):
    """The module's work, callable without Ansible. Returns the result dict."""
    python = python or sys.executable
    work = decide(params, python)
    plan = work["plan"]
    result = {
        "changed": work["pip_work"] or work["file_changed"] or work["state_changed"],
        "installed": plan["install"],
        "uninstalled": plan["uninstall"],
        "managed": plan["managed"],
        "registration": work["registration"],
        "config_file": work["config_file"],
        "content": work["text"],
        "state_file": work["state_file"],
        "verified": {},
        "diff": _diff(work),
    }
    if check_mode:
        if params.get("verify", True) and not work["pip_work"]:
            load_text = startup_config_text(work["config_file"], work["text"])
            result["verified"] = verify_apps(python, work["plugins"], load_text, work["runas"])
        return result
    try:
        result["verified"] = apply(work, params, python)
    except ModuleFailure as exc:
        exc.changed = work["pip_work"]
        raise
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "plugins": {"type": "list", "elements": "dict", "required": True},
            "base_config": {"type": "dict", "default": {}},
            "config_file": {"type": "path", "default": "/opt/omero/web/config/20-plugins.omero"},
            "state_file": {"type": "path"},
            "install": {"type": "bool", "default": True},
            "pip_args": {"type": "list", "elements": "str", "default": []},
            "verify": {"type": "bool", "default": True},
            "verify_user": {"type": "str"},
        },
        supports_check_mode=True,
    )
    try:
        result = converge(module.params, check_mode=module.check_mode)
    except ModuleFailure as exc:
        module.fail_json(msg=str(exc), changed=exc.changed)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
