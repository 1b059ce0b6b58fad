"""Alertmanager, added by catalog data alone: its service, its config, Prometheus' view of it."""

from __future__ import annotations

import yaml
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.image_refs import image_reference
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import base_site, merged


def _model(services):
    site = merged(base_site(), {"omero_services": services}, "/srv/omero-test")
    return build_site_model(site, site.get("omero_secrets"))


def _file(model, service, name):
    files = [f for f in model["files"] if f["service"] == service and f["path"].endswith("/" + name)]
    assert len(files) == 1, [f["path"] for f in model["files"]]
    return files[0]


def _prometheus(model):
    text = _file(model, "prometheus", "prometheus.yml")["content"]
    return yaml.safe_load(text)


def test_off_by_default():
    model = _model({})
    assert "alertmanager" not in model["enabled_services"]
    assert "alertmanager" not in model["compose"]["services"]
    config = _prometheus(model)
    assert "alerting" not in config
    assert "alertmanager" not in [job["job_name"] for job in config["scrape_configs"]]
    assert "/srv/omero-test/config/alertmanager" in model["stale_paths"]


def test_enabled_it_runs_with_a_healthcheck_and_its_data_path():
    model = _model({"alertmanager": {"enabled": True}})
    svc = model["compose"]["services"]["alertmanager"]
    assert svc["image"] == image_reference(load_catalog()["services"]["alertmanager"]["image"])
    assert svc["healthcheck"]["test"] == ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9093/-/healthy"]
    assert "ports" not in svc
    mounts = {(v["source"], v["target"], v["read_only"]) for v in svc["volumes"]}
    assert ("/srv/omero-test/data/alertmanager", "/alertmanager", False) in mounts
    assert ("/srv/omero-test/config/alertmanager/alertmanager.yml", "/etc/alertmanager/alertmanager.yml",
            True) in mounts
    data = [d for d in model["directories"] if d["path"] == "/srv/omero-test/data/alertmanager"]
    assert data and (data[0]["owner"], data[0]["group"], data[0]["mode"]) == (65534, 65534, "0750")


def test_enabled_its_config_routes_everything_to_a_null_receiver():
    model = _model({"alertmanager": {"enabled": True}})
    config = _file(model, "alertmanager", "alertmanager.yml")
    assert (config["owner"], config["mode"]) == (0, "0644")
    assert yaml.safe_load(config["content"]) == {
        "route": {"receiver": "null", "group_by": ["alertname", "service"], "group_wait": "30s",
                  "group_interval": "5m", "repeat_interval": "4h"},
        "receivers": [{"name": "null"}]}


def test_enabled_prometheus_scrapes_it_and_sends_it_alerts():
    config = _prometheus(_model({"alertmanager": {"enabled": True}}))
    assert config["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]}
    jobs = dict((job["job_name"], job) for job in config["scrape_configs"])
    assert jobs["alertmanager"] == {"job_name": "alertmanager", "metrics_path": "/metrics",
                                    "static_configs": [{"targets": ["alertmanager:9093"],
                                                        "labels": {"service": "alertmanager"}}]}


def test_enabling_it_recreates_only_the_services_that_see_it():
    off, on = _model({}), _model({"alertmanager": {"enabled": True}})
    changed = sorted(n for n in off["service_hashes"] if off["service_hashes"][n] != on["service_hashes"][n])
    # Prometheus' config names it (a scrape job, a probe, its alert rules); the path usage
    # exporter mounts its data path; the container-state exporter expects its container;
    # Grafana gets its dashboard panels.
    assert changed == ["container-state-exporter", "grafana", "path-usage-exporter", "prometheus"]


def test_without_prometheus_it_runs_alone():
    model = _model({"alertmanager": {"enabled": True}, "prometheus": {"enabled": False},
                    "grafana": {"enabled": False}})
    assert "alertmanager" in model["compose"]["services"]
    assert "prometheus" not in model["compose"]["services"]
