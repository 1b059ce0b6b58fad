"""The TLS proxy (catalog service proxy): off by default; on, nginx publishes 443 and 80,
mounts the site's TLS directory read-only, finds OMERO.web through the engine's DNS (no
Compose dependency, so a recreated OMERO.web leaves it alone), and OMERO.web trusts it
(forwarded scheme and host, secure cookies) unless the site says otherwise."""

from __future__ import annotations

import json

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import base_site, merged

BEHIND_PROXY = {
    "omero.web.secure_proxy_ssl_header": json.dumps(["HTTP_X_FORWARDED_PROTO", "https"], separators=(",", ":")),
    "omero.web.use_x_forwarded_host": "true",
    "omero.web.session_cookie_secure": "true",
    "omero.web.csrf_cookie_secure": "true",
}


def _model(**overlay):
    site = merged(base_site(), overlay, "/x")
    return build_site_model(site, site.get("omero_secrets"))


def _on(**overlay):
    services = dict(overlay.pop("omero_services", {}))
    services["proxy"] = dict(services.get("proxy", {}), enabled=True)
    return _model(omero_services=services, **overlay)


def _web(model):
    return {o["property"]: o["value"] for o in model["omero"]["web"] if o["op"] == "set"}


def _conf(model):
    return next(f for f in model["files"] if f["path"].endswith("/proxy/omero-proxy.conf"))["content"]


def test_off_by_default_and_omero_web_not_told_of_a_proxy():
    model = _model()
    assert "proxy" not in model["enabled_services"]
    assert not set(BEHIND_PROXY) & set(_web(model))


def test_on_it_publishes_https_and_http_and_mounts_the_tls_directory_read_only():
    model = _on()
    proxy = model["compose"]["services"]["proxy"]
    assert sorted((p["target"], p["published"]) for p in proxy["ports"]) == [(80, "80"), (443, "443")]
    mounts = {v["target"]: v for v in proxy["volumes"]}
    assert mounts["/etc/nginx/tls"]["source"] == model["paths"]["tls"] and mounts["/etc/nginx/tls"]["read_only"]
    assert mounts["/etc/nginx/conf.d/default.conf"]["read_only"]
    assert "depends_on" not in proxy


def test_its_configuration_redirects_http_sends_hsts_and_resolves_omero_web_at_each_request():
    conf = _conf(_on())
    assert "return 301 https://$host$request_uri;" in conf
    assert 'add_header Strict-Transport-Security "max-age=31536000" always;' in conf
    assert "resolver 127.0.0.11 valid=10s" in conf
    assert "set $omeroweb http://omeroweb:4080;" in conf and "proxy_pass $omeroweb;" in conf
    assert "proxy_set_header X-Forwarded-Proto https;" in conf
    assert "{" + "address" not in conf


def test_omero_web_trusts_the_proxy_and_a_site_value_wins():
    assert BEHIND_PROXY.items() <= _web(_on()).items()
    web = _web(_on(omero_web_config={"omero.web.session_cookie_secure": False}))
    assert web["omero.web.session_cookie_secure"] == "false"
    assert web["omero.web.csrf_cookie_secure"] == "true"


def test_a_changed_web_property_changes_omero_web_only():
    before = _on()["service_hashes"]
    after = _on(omero_web_config={"omero.web.page_size": 77})["service_hashes"]
    assert [name for name in before if before[name] != after[name]] == ["omeroweb"]


def test_it_requires_omero_web():
    with pytest.raises(SiteModelError) as info:
        _on(omero_services={"omeroweb": {"enabled": False}})
    assert "the enabled service 'proxy' depends on it" in dict(info.value.errors)["omero_services.omeroweb.enabled"]


def test_on_a_swarm_it_runs_on_a_web_node_with_host_ports():
    service = _on(omero_site_engine="swarm")["stack"]["services"]["proxy"]
    assert service["deploy"]["placement"]["constraints"] == ["node.labels.web == true"]
    assert {(p["target"], p["mode"]) for p in service["ports"]} == {(80, "host"), (443, "host")}
