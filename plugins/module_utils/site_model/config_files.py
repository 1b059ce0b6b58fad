# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The generated configuration files of a service (catalog ``config_files``).

Each file is the catalog's ``text`` or ``content`` (YAML data) with its ``{site.*}``
placeholders filled, plus the lists of its ``derived`` entries (dotted key -> generator),
which a generator derives from the catalog entries of the enabled services (an empty
list is left out):

- ``scrape_jobs``: Prometheus scrape jobs: one per enabled service with ``metrics``, one
  per ``probes`` entry whose prober is enabled;
- ``alert_receivers``: where Prometheus sends alerts: the enabled services with ``alerting``;
- ``datasources``: the ``datasource`` of every enabled service.

So a file only names services that are enabled: nothing scrapes a missing target.
"""

from __future__ import annotations

import json

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

HEADER = "# Rendered by omero_docker.stack from the site model; local edits are overwritten.\n"


def dump(data):
    if HAS_YAML:
        return HEADER + yaml.safe_dump(data, default_flow_style=False, sort_keys=False)
    return HEADER + json.dumps(data, indent=2, sort_keys=False) + "\n"  # pragma: no cover


def _enabled_with(services, enabled, key):
    """``(name, value of key)`` of the enabled services that have ``key``, in catalog order."""
    return [(name, svc[key]) for name, svc in services.items() if name in enabled and svc.get(key)]


def _address(name, port):
    return "%s:%d" % (name, port)


def _probe_job(services, probe):
    prober = services[probe["prober"]]
    return {
        "job_name": probe["job"],
        "metrics_path": prober["metrics"]["probe_path"],
        "params": {"module": [probe["module"]]},
        "static_configs": [{"targets": [probe["target"]]}],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": _address(probe["prober"], prober["metrics"]["port"])},
        ],
    }


def alert_receivers(services, enabled):
    """Prometheus' alert receivers: the enabled services with ``alerting``."""
    targets = [_address(name, spec["port"]) for name, spec in _enabled_with(services, enabled, "alerting")]
    return [{"static_configs": [{"targets": targets}]}] if targets else []


def scrape_jobs(services, enabled):
    """Prometheus' scrape jobs: the enabled services' ``metrics`` and ``probes``."""
    jobs = []
    for name, metrics in _enabled_with(services, enabled, "metrics"):
        host = "localhost" if metrics.get("target") == "localhost" else name
        jobs.append({"job_name": name, "metrics_path": metrics["path"],
                     "static_configs": [{"targets": [_address(host, metrics["port"])]}]})
    probes = [probe for dummy, entries in _enabled_with(services, enabled, "probes") for probe in entries
              if probe["prober"] in enabled]
    jobs.extend(_probe_job(services, probe) for probe in sorted(probes, key=lambda p: p["job"]))
    return jobs


def datasources(services, enabled):
    """Grafana's provisioned data sources: the enabled services' ``datasource``."""
    return [dict(source) for dummy, source in _enabled_with(services, enabled, "datasource")]


GENERATORS = {"scrape_jobs": scrape_jobs, "alert_receivers": alert_receivers, "datasources": datasources}


def _filled(value, fill):
    if isinstance(value, dict):
        return dict((key, _filled(item, fill)) for key, item in value.items())
    if isinstance(value, list):
        return [_filled(item, fill) for item in value]
    return fill(value)


def render(spec, services, enabled, fill):
    """The content of one catalog ``config_files`` entry; ``fill`` fills ``{site.*}``."""
    if "text" in spec:
        return fill(spec["text"])
    data = _filled(spec.get("content") or {}, fill)
    for key, generator in (spec.get("derived") or {}).items():
        value = GENERATORS[generator](services, enabled)
        if value:
            *parents, last = key.split(".")
            node = data
            for parent in parents:
                node = node.setdefault(parent, {})
            node[last] = value
    return dump(data)
