# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""Monitoring configuration files, derived from the enabled services.

Each function returns ``{file name: content}`` for one service; the content only
names services that are enabled, so Prometheus never scrapes a missing target.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

HEADER = "# Rendered by omero_docker.stack from the site model; local edits are overwritten.\n"

# service -> (port, metrics path) of what Prometheus scrapes
SCRAPE_TARGETS = (
    ("prometheus", 9090, "/metrics"),
    ("grafana", 3000, "/metrics"),
    ("loki", 3100, "/metrics"),
    ("alloy", 12345, "/metrics"),
    ("node-exporter", 9100, "/metrics"),
    ("cadvisor", 8080, "/metrics"),
    ("postgres-exporter", 9187, "/metrics"),
    ("postgres-exporter-plugin", 9187, "/metrics"),
    ("redis-exporter", 9121, "/metrics"),
    ("path-usage-exporter", 9110, "/metrics"),
    ("blackbox-exporter", 9115, "/metrics"),
)


def dump(data):
    if HAS_YAML:
        return HEADER + yaml.safe_dump(data, default_flow_style=False, sort_keys=False)
    return HEADER + json.dumps(data, indent=2, sort_keys=False) + "\n"  # pragma: no cover


def prometheus(enabled, site_name):
    scrape = []
    for svc, port, path in SCRAPE_TARGETS:
        if svc in enabled:
            target = "localhost:%d" % port if svc == "prometheus" else "%s:%d" % (svc, port)
            scrape.append({"job_name": svc, "metrics_path": path, "static_configs": [{"targets": [target]}]})
    if "blackbox-exporter" in enabled:
        probes = []
        if "omeroweb" in enabled:
            probes.append(("blackbox-http", "http_2xx", ["http://omeroweb:4080/webclient/login/"]))
        if "omeroserver" in enabled:
            probes.append(("blackbox-tcp", "tcp_connect", ["omeroserver:4064"]))
        for job, module, targets in probes:
            scrape.append({
                "job_name": job,
                "metrics_path": "/probe",
                "params": {"module": [module]},
                "static_configs": [{"targets": targets}],
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": "blackbox-exporter:9115"},
                ],
            })
    data = {
        "global": {"scrape_interval": "30s", "evaluation_interval": "30s",
                   "external_labels": {"site": site_name}},
        "scrape_configs": scrape,
    }
    return {"prometheus.yml": dump(data)}


def grafana(enabled):
    sources = []
    if "prometheus" in enabled:
        sources.append({"name": "Prometheus", "type": "prometheus", "uid": "prometheus", "access": "proxy",
                        "url": "http://prometheus:9090", "isDefault": True, "editable": False})
    if "loki" in enabled:
        sources.append({"name": "Loki", "type": "loki", "uid": "loki", "access": "proxy",
                        "url": "http://loki:3100", "editable": False})
    return {"grafana-datasources.yml": dump({"apiVersion": 1, "datasources": sources})}


def loki():
    data = {
        "auth_enabled": False,
        "server": {"http_listen_port": 3100, "grpc_listen_port": 9096, "log_level": "warn"},
        "common": {
            "instance_addr": "127.0.0.1",
            "path_prefix": "/loki",
            "storage": {"filesystem": {"chunks_directory": "/loki/chunks", "rules_directory": "/loki/rules"}},
            "replication_factor": 1,
            "ring": {"kvstore": {"store": "inmemory"}},
        },
        "schema_config": {"configs": [{
            "from": "2024-01-01", "store": "tsdb", "object_store": "filesystem", "schema": "v13",
            "index": {"prefix": "index_", "period": "24h"},
        }]},
        "limits_config": {"retention_period": "744h"},
        "compactor": {"working_directory": "/loki/compactor", "retention_enabled": True,
                      "delete_request_store": "filesystem"},
        "analytics": {"reporting_enabled": False},
    }
    return {"loki.yml": dump(data)}


def alloy(site_name):
    text = """// Rendered by omero_docker.stack from the site model; local edits are overwritten.
// Ships the logs of this site's containers (compose project %(site)s) to Loki.
discovery.docker "containers" {
  host = "unix:///var/run/docker.sock"
  filter {
    name   = "label"
    values = ["com.docker.compose.project=%(site)s"]
  }
}

discovery.relabel "containers" {
  targets = discovery.docker.containers.targets
  rule {
    source_labels = ["__meta_docker_container_label_com_docker_compose_service"]
    target_label  = "service"
  }
}

loki.source.docker "containers" {
  host          = "unix:///var/run/docker.sock"
  targets       = discovery.relabel.containers.output
  forward_to    = [loki.write.local.receiver]
  relabel_rules = discovery.relabel.containers.rules
}

loki.write "local" {
  endpoint {
    url = "http://loki:3100/loki/api/v1/push"
  }
  external_labels = { site = "%(site)s" }
}
""" % {"site": site_name}
    return {"config.alloy": text}


def blackbox():
    data = {"modules": {
        "http_2xx": {"prober": "http", "timeout": "10s",
                     "http": {"preferred_ip_protocol": "ip4", "valid_status_codes": [200]}},
        "tcp_connect": {"prober": "tcp", "timeout": "5s", "tcp": {"preferred_ip_protocol": "ip4"}},
    }}
    return {"blackbox.yml": dump(data)}


def config_files(service, enabled, site_name):
    """All monitoring files of ``service`` (empty dict for other services)."""
    if service == "prometheus":
        return prometheus(enabled, site_name)
    if service == "grafana":
        return grafana(enabled)
    if service == "loki":
        return loki()
    if service == "alloy":
        return alloy(site_name)
    if service == "blackbox-exporter":
        return blackbox()
    return {}
