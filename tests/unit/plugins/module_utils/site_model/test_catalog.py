"""What the catalog's service keys give, read by generic code: a made-up service that only
the catalog describes gets its socket, host mounts, files, scrape job and probes."""

from __future__ import annotations

import copy

import yaml
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import catalog_schema
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import base_site, merged

DEMO = {
    "description": "a made-up exporter",
    "enabled": True,
    "image": {"registry": "", "name": "example/demo-exporter", "tag": "v1.0.0"},
    "uid": 65534,
    "gid": 65534,
    "docker_socket": "rw",
    "host_mounts": [{"source": "/proc", "target": "/host/proc"},
                    {"source": "/srv/spool", "target": "/spool", "read_only": False, "propagation": "rshared"}],
    "devices": ["/dev/fuse"],
    "metrics": {"port": 9999, "path": "/stats", "probe_path": "/check"},
    "probes": [{"prober": "demo-exporter", "job": "demo-self", "module": "self", "target": "demo-exporter:9999"}],
    "datasource": {"name": "Demo", "type": "demo", "url": "http://demo-exporter:9999"},
    "config_files": {
        "demo.yml": {"target": "/etc/demo.yml", "content": {"site": "{site.site_name}", "db": "{site.omero_db_name}"}},
        "demo.txt": {"target": "/etc/demo.txt", "text": "site {site.site_name}\n"},
    },
}


def _model(services, catalog=None):
    site = merged(base_site(), {"omero_services": services}, "/srv/omero-test")
    return build_site_model(site, site.get("omero_secrets"), catalog=catalog)


def _demo_catalog():
    catalog = load_catalog()
    catalog["services"]["demo-exporter"] = copy.deepcopy(DEMO)
    assert catalog_schema.problems(catalog) == []
    return catalog


def _files(model, service):
    return dict((f["path"].rsplit("/", 1)[1], f["content"]) for f in model["files"] if f["service"] == service)


def _binds(svc):
    return dict((v["target"], v) for v in svc.get("volumes", []))


def test_a_service_only_the_catalog_knows():
    model = _model({}, _demo_catalog())
    svc = model["compose"]["services"]["demo-exporter"]
    binds = _binds(svc)
    assert binds["/var/run/docker.sock"]["read_only"] is False
    assert (binds["/host/proc"]["source"], binds["/host/proc"]["read_only"]) == ("/proc", True)
    assert binds["/spool"]["read_only"] is False and binds["/spool"]["bind"]["propagation"] == "rshared"
    assert svc["devices"] == ["/dev/fuse"]
    files = _files(model, "demo-exporter")
    assert yaml.safe_load(files["demo.yml"]) == {"site": "omero-test", "db": "omero"}
    assert files["demo.txt"] == "site omero-test\n"
    assert binds["/etc/demo.yml"]["source"] == "/srv/omero-test/config/demo-exporter/demo.yml"
    scrape = yaml.safe_load(_files(model, "prometheus")["prometheus.yml"])["scrape_configs"]
    jobs = dict((job["job_name"], job) for job in scrape)
    assert jobs["demo-exporter"]["static_configs"] == [{"targets": ["demo-exporter:9999"],
                                                        "labels": {"service": "demo-exporter"}}]
    assert jobs["demo-exporter"]["metrics_path"] == "/stats"
    assert jobs["demo-self"]["metrics_path"] == "/check"
    assert jobs["demo-self"]["relabel_configs"][-1]["replacement"] == "demo-exporter:9999"
    sources = yaml.safe_load(_files(model, "grafana")["grafana-datasources.yml"])["datasources"]
    assert [s["name"] for s in sources] == ["Prometheus", "Loki", "Demo"]


def test_disabled_the_made_up_service_is_nowhere():
    model = _model({"demo-exporter": {"enabled": False}}, _demo_catalog())
    prometheus = _files(model, "prometheus")["prometheus.yml"]
    assert "demo" not in prometheus
    assert "Demo" not in _files(model, "grafana")["grafana-datasources.yml"]


def test_docker_socket_access_comes_from_the_catalog():
    model = _model({"portainer": {"enabled": True}, "crowdsec": {"enabled": True}})
    services = model["compose"]["services"]
    access = dict((name, _binds(services[name])["/var/run/docker.sock"]["read_only"])
                  for name in ("portainer", "crowdsec", "alloy"))
    assert access == {"portainer": False, "crowdsec": True, "alloy": True}
    assert "/var/run/docker.sock" not in _binds(services["omeroweb"])


def test_the_socket_setting_is_for_opt_in_services_only():
    model = _model({"omeroweb": {"docker_socket": True}})
    assert _binds(model["compose"]["services"]["omeroweb"])["/var/run/docker.sock"]["read_only"] is True
    catalog = load_catalog()
    catalog["services"]["grafana"]["docker_socket_opt_in"] = "ro"
    model = _model({"grafana": {"docker_socket": True}}, catalog)
    assert "/var/run/docker.sock" in _binds(model["compose"]["services"]["grafana"])


def test_host_mounts_from_the_catalog():
    services = _model({"cadvisor": {"enabled": True}})["compose"]["services"]
    cadvisor = _binds(services["cadvisor"])
    assert {t: cadvisor[t]["source"] for t in ("/rootfs", "/sys", "/var/lib/docker")} == {
        "/rootfs": "/", "/sys": "/sys", "/var/lib/docker": "/var/lib/docker"}
    assert all(b["read_only"] for b in cadvisor.values())
    assert services["cadvisor"]["devices"] == ["/dev/kmsg"]
    host = _binds(services["node-exporter"])["/host"]
    assert (host["source"], host["read_only"], host["bind"]["propagation"]) == ("/", True, "rslave")


def test_scrape_jobs_follow_the_enabled_services():
    model = _model({"omeroweb": {"enabled": False}})
    scrape = yaml.safe_load(_files(model, "prometheus")["prometheus.yml"])["scrape_configs"]
    jobs = dict((job["job_name"], [t for c in job["static_configs"] for t in c["targets"]]) for job in scrape)
    assert jobs["prometheus"] == ["localhost:9090"]
    assert jobs["redis-exporter"] == ["redis-exporter:9121"]
    # OMERO.web's probe goes with it; the other http probes stay (one job, a target each).
    assert jobs["blackbox-http"] == ["http://prometheus:9090/-/healthy", "http://grafana:3000/api/health",
                                     "http://loki:3100/ready"]
    assert jobs["blackbox-tls"] == ["omeroserver:4064"]
    assert jobs["blackbox-tcp"] == ["database:5432", "database_plugin:5432"]
    assert jobs["blackbox-redis"] == ["redis:6379"]
    assert "cadvisor" not in jobs


def test_each_probe_target_is_labelled_with_the_probed_service():
    scrape = yaml.safe_load(_files(_model({}), "prometheus")["prometheus.yml"])["scrape_configs"]
    labels = dict((target, config["labels"]["service"]) for job in scrape for config in job["static_configs"]
                  for target in config["targets"])
    assert labels["http://omeroweb:4080/webclient/login/"] == "omeroweb"
    assert labels["omeroserver:4064"] == "omeroserver"
    assert labels["container-state-exporter:9112"] == "container-state-exporter"
    honor = [job["job_name"] for job in scrape if job.get("honor_labels")]
    assert honor == ["container-state-exporter"]
