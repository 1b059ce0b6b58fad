"""The monitoring UIs behind the TLS proxy (omero_site_proxy_monitoring, monitoring_uis.py):
exposing nothing renders what a site rendered before the setting existed (no recreation);
an exposed Prometheus or Grafana gets a location behind basic auth in the proxy's
configuration and its own prefix settings; a name the proxy cannot serve is refused,
naming the variable and the fix."""

from __future__ import annotations

import pytest
import yaml
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import REPO_ROOT, base_site, merged

VARIABLE = "omero_site_proxy_monitoring"
# The input hashes of these services of the test site with the proxy on, recorded before
# omero_site_proxy_monitoring existed: a site that exposes nothing must not see them change
# (a deliberate change of one of these services updates its value here).
HASHES_BEFORE = {
    "proxy": "44f44666e01f2a82f6ae357315dcff38de87d882d34290b87e8b8f84044d2d2e",
    "prometheus": "ab123185a5bf098f879f981b4e93ab0e19e0a64b7e8423231973cbe8a983ed2d",
    "grafana": "57269abe00003c9aa39cc09e136e060466d3f637727e5e3d296c6069a6a3e657",
}
PROMETHEUS_ARGS = ["--web.external-url=/prometheus/", "--web.route-prefix=/"]
AUTH = ["auth_basic_user_file /etc/nginx/tls/htpasswd;"]


def _model(exposed=None, proxy=True, **overlay):
    services = dict(overlay.pop("omero_services", {}))
    services["proxy"] = {"enabled": proxy}
    if exposed is not None:
        overlay[VARIABLE] = exposed
    site = merged(base_site(), dict(overlay, omero_services=services), "/x")
    return build_site_model(site, site.get("omero_secrets"))


def _conf(model):
    return next(f for f in model["files"] if f["path"].endswith("/proxy/omero-proxy.conf"))["content"]


def _location(conf, path):
    """The lines of the location block of ``path``."""
    lines = conf.splitlines()
    start = lines.index("    location %s {" % path)
    return [line.strip() for line in lines[start:lines.index("    }", start) + 1]]


def _env(model, name):
    return next(e["env"] for e in model["env_files"] if e["service"] == name)


def _errors(**overlay):
    with pytest.raises(SiteModelError) as info:
        _model(**overlay)
    return [msg for var, msg in info.value.errors if var == VARIABLE]


@pytest.mark.parametrize("exposed", [None, []])
def test_exposing_nothing_changes_no_hash_and_no_file(exposed):
    model = _model(exposed)
    assert {name: model["service_hashes"][name] for name in HASHES_BEFORE} == HASHES_BEFORE
    conf = _conf(model)
    assert "auth_basic" not in conf and "map $http_upgrade" not in conf and "{derived" not in conf
    assert "client_max_body_size 0;\n    location / {\n" in conf
    assert not any(arg in model["compose"]["services"]["prometheus"]["command"] for arg in PROMETHEUS_ARGS)
    assert "GF_SERVER_ROOT_URL" not in _env(model, "grafana")
    assert model["site"]["proxy_monitoring"] == []


def test_prometheus_exposed_behind_basic_auth_with_its_prefix():
    model = _model(["prometheus"])
    location = _location(_conf(model), "/prometheus/")
    assert set(AUTH + ['auth_basic "Prometheus";', "set $prometheus http://prometheus:9090;",
                       "rewrite ^/prometheus/(.*)$ /$1 break;", "proxy_pass $prometheus;",
                       "proxy_set_header X-Forwarded-Proto https;", "proxy_set_header X-Forwarded-Host $http_host;",
                       "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"]) <= set(location)
    # Prometheus takes no credentials of its own: the header may pass; no websocket either.
    assert 'proxy_set_header Authorization "";' not in location and "/grafana/" not in _conf(model)
    assert model["compose"]["services"]["prometheus"]["command"][-2:] == PROMETHEUS_ARGS
    hashes = model["service_hashes"]
    assert hashes["proxy"] != HASHES_BEFORE["proxy"] and hashes["prometheus"] != HASHES_BEFORE["prometheus"]
    assert hashes["grafana"] == HASHES_BEFORE["grafana"]
    assert model["site"]["proxy_monitoring"] == ["prometheus"]


def test_grafana_exposed_without_the_credentials_with_websockets_and_its_root_url():
    model = _model(["grafana"])
    conf = _conf(model)
    location = _location(conf, "/grafana/")
    assert set(AUTH + ['auth_basic "Grafana";', "rewrite ^/grafana/(.*)$ /$1 break;", "proxy_pass $grafana;",
                       'proxy_set_header Authorization "";', "proxy_set_header Upgrade $http_upgrade;",
                       "proxy_set_header Connection $omero_proxy_connection;"]) <= set(location)
    # The map of the Connection header is at the http level, before the servers.
    assert conf.index("map $http_upgrade $omero_proxy_connection {") < conf.index("server {")
    env = _env(model, "grafana")
    assert env["GF_SERVER_ROOT_URL"] == "https://%(domain)s/grafana/"
    assert env["GF_SERVER_SERVE_FROM_SUB_PATH"] == "false"
    assert model["service_hashes"]["prometheus"] == HASHES_BEFORE["prometheus"]


def test_both_exposed_each_in_its_location_before_omero_web():
    conf = _conf(_model(["grafana", "prometheus"]))
    assert conf.index("location /prometheus/ {") < conf.index("location /grafana/ {") < conf.rindex("location / {")


def test_on_a_swarm_the_exposed_prometheus_keeps_its_arguments():
    service = _model(["prometheus"], omero_site_engine="swarm")["stack"]["services"]["prometheus"]
    assert service["command"][-2:] == PROMETHEUS_ARGS


@pytest.mark.parametrize(("overlay", "expected"), [
    ({"exposed": ["loki"]}, "loki: the TLS front serves only grafana, prometheus; remove the other names"),
    ({"exposed": "prometheus"}, "must be a list of service names"),
    ({"exposed": ["prometheus", "prometheus"]}, "names a service twice"),
    ({"exposed": ["prometheus"], "proxy": False},
     "but proxy (the TLS front) is off: set omero_services.proxy.enabled: true"),
    ({"exposed": ["grafana"], "omero_services": {"grafana": {"enabled": False}}},
     "names grafana, which is off: set omero_services.grafana.enabled: true, or remove grafana"),
])
def test_a_name_the_proxy_cannot_serve_is_refused_naming_the_fix(overlay, expected):
    messages = _errors(**overlay)
    assert any(expected in msg for msg in messages), messages


def test_the_tls_directory_has_the_mode_role_site_tls_gives_it():
    # site_layout and site_tls both make it: different modes would change it on every run.
    model = _model(["prometheus"])
    tls = next(d for d in model["directories"] if d["path"] == model["paths"]["tls"])
    role_vars = yaml.safe_load((REPO_ROOT / "roles/site_tls/vars/main.yml").read_text())
    # site_tls takes the model's mode, with the same one when it runs without a model.
    assert "omero_site_model.directories" in role_vars["_site_tls_dir_mode"]
    assert "default('0751', true)" in role_vars["_site_tls_dir_mode"]
    assert (tls["owner"], tls["group"], tls["mode"]) == (0, 0, "0751")
