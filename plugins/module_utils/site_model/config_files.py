# -*- coding: utf-8 -*-
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)

# Note that this module util is private to this collection. It can change at any time.
# Do not use it from other collections or standalone plugins/modules!
"""The generated configuration files of a service (catalog ``config_files``).

Each file is the catalog's ``text`` or ``content`` (YAML data) with its placeholders
filled (placeholders.py), plus the lists of its ``derived`` entries (dotted key ->
generator), which a generator derives from the catalog entries of the enabled services
(an empty list is left out):

- ``scrape_jobs``: Prometheus scrape jobs: one per enabled service with ``metrics``, one
  per ``probes`` entry whose prober is enabled, of every service the site has (enabled,
  or external: its probe target is the existing server's address);
- ``alert_receivers``: where Prometheus sends alerts: the enabled services with ``alerting``;
- ``datasources``: the ``datasource`` of every enabled service.

So a file only names services that are enabled: nothing scrapes a missing target.

A ``text`` file's ``derived`` maps a name to a generator of lines (:data:`TEXT_GENERATORS`):
the line of the text that holds ``{derived.<name>}`` alone is replaced by these lines,
indented as it is, or left out with its newline when there are none (the text is then
what it was without the line):

- ``ui_locations``: the TLS proxy's locations of the monitoring UIs it serves
  (monitoring_uis.py);
- ``ui_maps``: the http-level maps these locations need.
"""

from __future__ import annotations

import json
import re

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import monitoring as monitoring_lib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import monitoring_uis
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.external import provided

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


def _probe_jobs(services, probes, fill):
    """One scrape job per probe job name, one static config per probed target (labelled
    with the probed ``service``), asking the prober for the job's module."""
    jobs = {}
    for service, probe in probes:
        prober = services[probe["prober"]]
        job = jobs.setdefault(probe["job"], {
            "job_name": probe["job"],
            "metrics_path": prober["metrics"]["probe_path"],
            "params": {"module": [probe["module"]]},
            "static_configs": [],
            "relabel_configs": [
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": _address(probe["prober"], prober["metrics"]["port"])},
            ],
        })
        job["static_configs"].append({"targets": [fill(probe["target"])], "labels": {"service": service}})
    return [jobs[name] for name in sorted(jobs)]


def alert_receivers(services, enabled, fill, monitoring):
    """Prometheus' alert receivers: the enabled services with ``alerting``."""
    del fill, monitoring
    targets = [_address(name, spec["port"]) for name, spec in _enabled_with(services, enabled, "alerting")]
    return [{"static_configs": [{"targets": targets}]}] if targets else []


def scrape_jobs(services, enabled, fill, monitoring):
    """Prometheus' scrape jobs: the enabled services' ``metrics`` (labelled with ``service``;
    ``honor_labels``: the exporter's own ``service`` label wins), the provided ones' ``probes``."""
    del monitoring
    jobs = []
    for name, metrics in _enabled_with(services, enabled, "metrics"):
        host = "localhost" if metrics.get("target") == "localhost" else name
        job = {"job_name": name, "metrics_path": metrics["path"],
               "static_configs": [{"targets": [_address(host, metrics["port"])], "labels": {"service": name}}]}
        if metrics.get("honor_labels"):
            job["honor_labels"] = True
        jobs.append(job)
    probes = [(name, probe) for name, entries in _enabled_with(services, provided(services), "probes")
              for probe in entries if probe["prober"] in enabled]
    jobs.extend(_probe_jobs(services, probes, fill))
    return jobs


def datasources(services, enabled, fill, monitoring):
    """Grafana's provisioned data sources: the enabled services' ``datasource``."""
    del fill, monitoring
    return [dict(source) for dummy, source in _enabled_with(services, enabled, "datasource")]


def alert_rules(services, enabled, fill, monitoring):
    """Prometheus' rule groups: the alert rules of monitoring.py for the enabled services."""
    del services, fill
    rules = monitoring_lib.rules(monitoring, enabled)
    return [{"name": "omero-docker-stack", "interval": monitoring["evaluation_interval"], "rules": rules}] \
        if rules else []


def alert_route(services, enabled, fill, monitoring):
    """The alert router's route (omero_monitoring.alerting)."""
    del services, enabled, fill
    return monitoring_lib.alert_route(monitoring)


def alert_destinations(services, enabled, fill, monitoring):
    """The alert router's receivers (omero_monitoring.alerting)."""
    del services, enabled, fill
    return monitoring_lib.alert_destinations(monitoring)


GENERATORS = {"scrape_jobs": scrape_jobs, "alert_receivers": alert_receivers, "datasources": datasources,
              "alert_rules": alert_rules, "alert_route": alert_route, "alert_destinations": alert_destinations}


def ui_locations(services, enabled, fill, monitoring):
    """The TLS proxy's locations of the exposed monitoring UIs (monitoring_uis.py)."""
    del monitoring
    return monitoring_uis.locations(services, enabled, fill)


def ui_maps(services, enabled, fill, monitoring):
    """The http-level maps of these locations (a websocket's Connection header)."""
    del fill, monitoring
    return monitoring_uis.connection_map(services, enabled)


TEXT_GENERATORS = {"ui_locations": ui_locations, "ui_maps": ui_maps}


def derived_line_re(name):
    """The line of a text that holds ``{derived.<name>}`` alone (its indentation in group 1)."""
    return re.compile(r"^([ \t]*)\{derived\.%s\}\n" % re.escape(name), re.MULTILINE)


def _with_lines(text, name, lines):
    pattern = derived_line_re(name)
    return pattern.sub(lambda m: "".join((m.group(1) + line if line else "") + "\n" for line in lines), text,
                       count=1)


def render(spec, services, enabled, fill, fill_text, *, monitoring):
    """The content of one catalog ``config_files`` entry; ``fill`` fills the placeholders of
    YAML data, ``fill_text`` those of a text; ``monitoring``: omero_monitoring, checked."""
    if "text" in spec:
        text = fill_text(spec["text"])
        for name, generator in (spec.get("derived") or {}).items():
            text = _with_lines(text, name, TEXT_GENERATORS[generator](services, enabled, fill_text, monitoring))
        return text
    data = fill(spec.get("content") or {})
    for key, generator in (spec.get("derived") or {}).items():
        value = GENERATORS[generator](services, enabled, fill_text, monitoring)
        if value:
            *parents, last = key.split(".")
            node = data
            for parent in parents:
                node = node.setdefault(parent, {})
            node[last] = value
    return dump(data)
