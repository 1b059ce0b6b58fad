# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""The shape of OMERO property values, checked before anything is rendered.

``omero load`` accepts any text, so a wrong shape only shows when OMERO.web or
OMERO.server starts, after the host changed. Checked here:

- OMERO.server reads every property as a string: a list or mapping (or an ``append``)
  in ``omero_server_config`` is refused.
- OMERO.web's properties whose value is JSON (:data:`WEB_JSON`) take a list or a mapping
  as their documentation says, given as YAML or as a JSON string; ``append`` only to lists.
  ``omero.web.apps`` items are Django app names.
- OMERO.web's scalar properties (:data:`WEB_SCALARS`, ``omero.mail.*``, ``omero.qa.*``)
  refuse lists and mappings. Other properties (plugins' own settings) are not checked.
- A cache or session engine that needs a service that is off (catalog ``web_backend``:
  Redis).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

WEB_JSON = {
    "omero.web.apps": list, "omero.web.middleware": list, "omero.web.ui.top_links": list,
    "omero.web.ui.center_plugins": list, "omero.web.ui.right_plugins": list, "omero.web.ui.metadata_panes": list,
    "omero.web.open_with": list, "omero.web.server_list": list, "omero.web.cors_origin_whitelist": list,
    "omero.web.secure_proxy_ssl_header": list, "omero.web.staticfile_dirs": list, "omero.web.template_dirs": list,
    "omero.web.django_additional_settings": list, "omero.web.nginx_server_extra_config": list,
    "omero.web.ui.tree.type_order": list, "omero.web.redirect_allowed_hosts": list,
    "omero.web.csrf_trusted_origins": list,
    "omero.web.caches": dict, "omero.web.login_redirect": dict, "omero.web.databases": dict,
    "omero.web.sharing.opengraph": dict, "omero.web.webgateway_cache": dict,
}
WEB_SCALARS = frozenset((
    "omero.web.public.enabled", "omero.web.public.user", "omero.web.public.password", "omero.web.public.server_id",
    "omero.web.public.url_filter", "omero.web.public.get_only", "omero.web.public.cache.enabled",
    "omero.web.public.cache.timeout", "omero.web.session_engine", "omero.web.session_expire_at_browser_close",
    "omero.web.session_cookie_age", "omero.web.session_cookie_name", "omero.web.session_cookie_secure",
    "omero.web.session_cookie_domain", "omero.web.session_cookie_path", "omero.web.csrf_cookie_secure",
    "omero.web.csrf_cookie_httponly", "omero.web.secure", "omero.web.debug", "omero.web.page_size",
    "omero.web.thumbnails_batch", "omero.web.max_table_download_rows", "omero.web.viewer.view",
    "omero.web.viewer.initial_zoom_level", "omero.web.index_template", "omero.web.login_logo",
    "omero.web.login_view", "omero.web.logdir", "omero.web.static_url", "omero.web.static_root",
    "omero.web.prefix", "omero.web.application_server", "omero.web.application_server.host",
    "omero.web.application_server.port", "omero.web.application_server.max_requests", "omero.web.wsgi_workers",
    "omero.web.wsgi_worker_class", "omero.web.wsgi_timeout", "omero.web.wsgi_args", "omero.web.x_frame_options",
    "omero.web.ping_interval", "omero.web.chunk_size", "omero.web.feedback.comment.enabled",
    "omero.web.feedback.error.enabled", "omero.web.html_meta_referrer", "omero.web.use_x_forwarded_host",
    "omero.web.time_zone", "omero.web.user_dropdown", "omero.web.maximum_multifile_download_size",
    "omero.web.api.absolute_url", "omero.web.api.max_limit", "omero.web.api.limit", "omero.web.root_application",
    "omero.web.cors_origin_allow_all", "omero.web.pipeline_staticfile_storage", "omero.web.admins_email",
))
APP_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_KIND = {list: "a list", dict: "a mapping"}


def _split(value):
    """``(op, payload)`` of a property value as omero_config.normalize reads it."""
    if isinstance(value, dict) and value and set(value) <= {"append", "set"} and len(value) == 1:
        return ("append", value["append"]) if "append" in value else ("set", value["set"])
    return "set", value


def _json_value(value):
    """``value`` as the Python value OMERO will read: YAML as it is, a string as JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _items_problem(prop, items):
    if prop != "omero.web.apps":
        return None
    for item in items:
        if not isinstance(item, str) or not APP_RE.match(item):
            return "'%s' is not a Django app name (a Python module path like omero_figure)" % (item,)
    return None


def _json_problem(prop, op, payload, kind):
    if op == "append":
        if kind is not list:
            return "%s takes a mapping: use set, not append" % prop
        if not isinstance(payload, list):
            return None  # omero_config reports it
        return _items_problem(prop, payload)
    value = _json_value(payload)
    if not isinstance(value, kind):
        shown = json.dumps(payload) if not isinstance(payload, str) else "'%s'" % payload
        return "%s takes %s (as YAML, or a JSON string), got %s" % (prop, _KIND[kind], shown)
    return _items_problem(prop, value) if kind is list else None


def _scalar_problem(prop, op, payload):
    if op == "append" or isinstance(payload, (list, dict)):
        return ("%s takes a single value (a string, number or boolean), not %s"
                % (prop, "an append" if op == "append" else _KIND[type(payload)]))
    return None


def problems(config, var_name, component):
    """``(variable, message)`` of every value of the wrong shape in ``config``."""
    errors = []
    if not isinstance(config, dict):
        return errors
    for prop in sorted(config, key=str):
        if not isinstance(prop, str):
            continue
        op, payload = _split(config[prop])
        if component == "server":
            problem = _scalar_problem(prop, op, payload)
        elif prop in WEB_JSON:
            problem = _json_problem(prop, op, payload, WEB_JSON[prop])
        elif prop in WEB_SCALARS or prop.startswith(("omero.mail.", "omero.qa.")):
            problem = _scalar_problem(prop, op, payload)
        else:
            problem = None
        if problem:
            errors.append(("%s['%s']" % (var_name, prop), problem))
    return errors


def _mentions(value, text):
    return text in json.dumps(value).lower()


def _backend_problems(web_config, name, backend):
    """The cache and session engine of ``web_config`` that need the service ``name`` (off)."""
    errors = []
    names = {"name": name, "label": backend["label"]}
    caches = web_config.get("omero.web.caches")
    if caches is not None and _mentions(caches, backend["mentions"]):
        errors.append(("omero_web_config['omero.web.caches']", "uses %(label)s, but the %(name)s service is off: "
                       "enable it (omero_services.%(name)s.enabled: true) or remove the setting" % names))
    engine = _split(web_config.get("omero.web.session_engine"))[1]
    if engine is not None and (_mentions(engine, backend["mentions"])
                               or (str(engine).endswith("sessions.backends.cache") and caches is None)):
        errors.append(("omero_web_config['omero.web.session_engine']", "keeps sessions in a cache that needs the "
                       "%(name)s service, which is off (each OMERO.web worker would have its own sessions): enable "
                       "%(name)s (omero_services.%(name)s.enabled: true) or remove the setting" % names))
    return errors


def backend_problems(web_config, services):
    """A cache or session engine that needs a service (catalog ``web_backend``) that is off."""
    if not isinstance(web_config, dict):
        return []
    errors = []
    for name in sorted(services):
        backend = services[name].get("web_backend")
        if backend and not services[name]["enabled"] and not services[name].get("external"):
            errors.extend(_backend_problems(web_config, name, backend))
    return errors
