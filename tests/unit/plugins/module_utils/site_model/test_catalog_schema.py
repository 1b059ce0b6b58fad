"""The catalog's shape (catalog_schema.py): the real catalog is sound, mistakes are refused."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import catalog_schema
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import (
    CatalogError,
    load_catalog,
)

CATALOG = load_catalog()


def _problems(service, changes):
    """Problems of the catalog with ``changes`` (key -> value, None removes) on ``service``."""
    catalog = copy.deepcopy(CATALOG)
    for key, value in changes.items():
        if value is None:
            catalog["services"][service].pop(key, None)
        else:
            catalog["services"][service][key] = value
    return catalog_schema.problems(catalog)


def _where(problems):
    return [where for where, dummy in problems]


def test_the_catalog_is_sound():
    assert catalog_schema.problems(load_catalog()) == []


def test_load_refuses_an_unsound_catalog(tmp_path):
    bad = tmp_path / "catalog.yml"
    bad.write_text("catalog_version: 1\nservices: {}\npaths: {}\nsecrets: {}\nextra_top_level: 1\n")
    with pytest.raises(CatalogError, match="catalog.extra_top_level: unknown key"):
        load_catalog(str(bad))


@pytest.mark.parametrize(("service", "changes", "where"), [
    ("redis", {"metric": {"port": 9121, "path": "/metrics"}}, "catalog.services.redis.metric"),
    ("redis-exporter", {"metrics": {"port": "9121", "path": "/metrics"}},
     "catalog.services.redis-exporter.metrics.port"),
    ("redis-exporter", {"metrics": {"port": 9121}}, "catalog.services.redis-exporter.metrics.path"),
    ("prometheus", {"metrics": {"port": 9090, "path": "/metrics", "target": "self"}},
     "catalog.services.prometheus.metrics.target"),
    ("alloy", {"docker_socket": True}, "catalog.services.alloy.docker_socket"),
    ("omeroweb", {"docker_socket_opt_in": "read-only"}, "catalog.services.omeroweb.docker_socket_opt_in"),
    ("cadvisor", {"host_mounts": [{"source": "/sys"}]}, "catalog.services.cadvisor.host_mounts[0].target"),
    ("cadvisor", {"host_mounts": [{"source": "/sys", "target": "/sys", "mode": "ro"}]},
     "catalog.services.cadvisor.host_mounts[0].mode"),
    ("node-exporter", {"host_mounts": [{"source": "/", "target": "/host", "propagation": "slaved"}]},
     "catalog.services.node-exporter.host_mounts[0].propagation"),
    ("cadvisor", {"devices": "/dev/kmsg"}, "catalog.services.cadvisor.devices"),
    ("omeroweb", {"probes": [{"prober": "blackbox-exporter", "job": "x", "module": "http_2xx"}]},
     "catalog.services.omeroweb.probes[0].target"),
    ("loki", {"datasource": ["Loki"]}, "catalog.services.loki.datasource"),
    ("alertmanager", {"alerting": {"port": 9093, "path": "/"}}, "catalog.services.alertmanager.alerting.path"),
    ("loki", {"config_files": {"loki.yml": {"content": {}}}}, "catalog.services.loki.config_files.loki.yml.target"),
    ("prometheus", {"config_files": {"p.yml": {"target": "/p.yml", "derived": {"scrape_configs": "scrape"}}}},
     "catalog.services.prometheus.config_files.p.yml.derived.scrape_configs"),
    ("prometheus", {"config_files": {"p.yml": {"target": "/p.yml", "generator": "scrape_jobs"}}},
     "catalog.services.prometheus.config_files.p.yml.generator"),
    ("redis", {"web_backend": {"label": "Redis"}}, "catalog.services.redis.web_backend.mentions"),
    ("redis", {"enabled": "yes"}, "catalog.services.redis.enabled"),
    ("redis", {"uid": True}, "catalog.services.redis.uid"),
    ("redis", {"description": None}, "catalog.services.redis.description"),
])
def test_wrong_keys_and_types_are_refused(service, changes, where):
    assert where in _where(_problems(service, changes))


def test_unknown_build_inputs_are_refused():
    build = dict(CATALOG["services"]["omeroweb"]["build"], inputs="plugins")
    assert "catalog.services.omeroweb.build.inputs" in _where(_problems("omeroweb", {"build": build}))


@pytest.mark.parametrize(("service", "changes", "where", "text"), [
    ("omeroweb", {"probes": [{"prober": "nowhere", "job": "j", "module": "m", "target": "t"}]},
     "services.omeroweb.probes", "service 'nowhere'"),
    ("omeroweb", {"probes": [{"prober": "redis", "job": "j", "module": "m", "target": "t"}]},
     "services.omeroweb.probes", "no metrics.probe_path"),
    ("grafana", {"depends_on": ["prometheus", "graphite"]}, "services.grafana.depends_on", "service 'graphite'"),
    ("redis", {"volumes": [{"path": "redis_data", "target": "/data"}]}, "services.redis.volumes", "path 'redis_data'"),
    ("grafana", {"secret_files": {"pw": "grafana_password"}}, "services.grafana.secret_files",
     "secret 'grafana_password'"),
    ("loki", {"config_files": {"l.yml": {"target": "/l.yml", "text": "x", "content": {}}}},
     "services.loki.config_files.l.yml", "either text"),
    ("loki", {"config_files": {"l.yml": {"target": "/l.yml"}}}, "services.loki.config_files.l.yml", "either text"),
    ("loki", {"config_files": {"l": {"target": "/l", "text": "x\n", "derived": {"a": "ui_locations"}}}},
     "services.loki.config_files.l.derived.a", "no line {derived.a} alone"),
    ("loki", {"config_files": {"l": {"target": "/l", "text": "  {derived.a}\n", "derived": {"a": "scrape_jobs"}}}},
     "services.loki.config_files.l.derived.a", "not a generator of text lines"),
    ("loki", {"config_files": {"l": {"target": "/l", "content": {}, "derived": {"a": "ui_maps"}}}},
     "services.loki.config_files.l.derived.a", "not a generator of YAML data"),
    ("loki", {"proxied": {"by": "nginx", "path": "/loki/", "realm": "Loki"}}, "services.loki.proxied.by",
     "service 'nginx'"),
    ("loki", {"proxied": {"by": "proxy", "path": "/loki", "realm": "Loki"}}, "services.loki.proxied.path",
     "not a path like /name/"),
    ("omeroweb", {"docker_socket": "ro"}, "services.omeroweb", "not both"),
    ("omeroweb", {"omero_config_dir": None}, "services.omeroweb", "omero_config and omero_config_dir"),
    ("database", {"init_only": ["POSTGRES_PASSWORD"]}, "services.database.init_only", "'POSTGRES_PASSWORD'"),
])
def test_references_and_combinations_are_checked(service, changes, where, text):
    found = _problems(service, changes)
    assert any(w == where and text in message for w, message in found), found


@pytest.mark.parametrize(("service", "changes", "where"), [
    # external needs the address its consumers reach it at
    ("redis", {"external": {}, "address": None}, "services.redis.external"),
    ("database", {"external": {"secrets": ["no_such_secret"]}}, "services.database.external.secrets"),
    ("database", {"external": {"allowed": True}}, "catalog.services.database.external.allowed"),
    ("pg-maintenance", {"external_env": {"redis": {"X": "y"}}}, "services.pg-maintenance.external_env"),
    ("pg-maintenance", {"env": {"PGHOST": "{address.node-exporter.host}"}}, "services.pg-maintenance"),
    ("pg-maintenance", {"env": {"PGUSER": "{site.db_user}"}}, "services.pg-maintenance"),
    ("omeroweb", {"address": {"port": "4080"}}, "catalog.services.omeroweb.address.port"),
])
def test_external_service_mistakes_are_refused(service, changes, where):
    assert where in _where(_problems(service, changes))


@pytest.mark.parametrize(("entry", "where"), [
    ({"property": "omero.web.x", "derived": "router"}, "omero_properties.web.defaults[0]"),
    ({"property": "omero.web.x"}, "omero_properties.web.defaults[0]"),
    ({"derived": "no_such_generator"}, "catalog.omero_properties.web.defaults[0].derived"),
    ({"property": "omero.web.x", "value": 1, "when_enabled": "nope"}, "omero_properties.web.defaults[0].when_enabled"),
    ({"property": "omero.web.x", "value": "{address.alloy.host}"}, "omero_properties.web.defaults[0]"),
])
def test_omero_property_mistakes_are_refused(entry, where):
    catalog = copy.deepcopy(CATALOG)
    catalog["omero_properties"]["web"]["defaults"] = [entry]
    assert where in _where(catalog_schema.problems(catalog))
