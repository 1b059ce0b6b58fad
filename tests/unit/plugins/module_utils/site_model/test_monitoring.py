"""omero_monitoring: intervals, retentions, alert rules and routes, checked and rendered."""

from __future__ import annotations

import re

import pytest
import yaml
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import monitoring
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.errors import SiteModelError
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.model import build_site_model

from tests.helpers.sites import base_site, merged


def _model(services=None, **site_vars):
    site = merged(base_site(), {"omero_services": services or {}}, "/srv/omero-test")
    site.update(site_vars)
    return build_site_model(site, site.get("omero_secrets"))


def _errors(services=None, **site_vars):
    with pytest.raises(SiteModelError) as caught:
        _model(services, **site_vars)
    return str(caught.value)


def _content(model, service, name):
    files = [f for f in model["files"] if f["service"] == service and f["path"].endswith("/" + name)]
    assert len(files) == 1, [f["path"] for f in model["files"]]
    return yaml.safe_load(files[0]["content"])


def _rules(model):
    groups = _content(model, "prometheus", "alert-rules.yml")["groups"]
    assert [g["name"] for g in groups] == ["omero-docker-stack"]
    return dict((rule["alert"], rule) for rule in groups[0]["rules"])


def test_defaults_render_the_intervals_the_rule_file_and_the_retentions():
    model = _model()
    config = _content(model, "prometheus", "prometheus.yml")
    assert config["global"]["scrape_interval"] == "30s" and config["global"]["evaluation_interval"] == "30s"
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    command = model["compose"]["services"]["prometheus"]["command"]
    assert "--storage.tsdb.retention.time=30d" in command
    loki = _content(model, "loki", "loki.yml")
    assert loki["limits_config"]["retention_period"] == "744h"
    mounts = dict((v["target"], v["source"]) for v in model["compose"]["services"]["prometheus"]["volumes"])
    assert mounts["/etc/prometheus/rules/omero-docker-stack.yml"].endswith("/config/prometheus/alert-rules.yml")


def test_the_site_sets_intervals_and_retentions():
    model = _model(omero_monitoring={"scrape_interval": "10s", "evaluation_interval": "15s",
                                     "metrics_retention": "90d", "logs_retention": "2160h"})
    config = _content(model, "prometheus", "prometheus.yml")
    assert (config["global"]["scrape_interval"], config["global"]["evaluation_interval"]) == ("10s", "15s")
    assert "--storage.tsdb.retention.time=90d" in model["compose"]["services"]["prometheus"]["command"]
    assert _content(model, "loki", "loki.yml")["limits_config"]["retention_period"] == "2160h"
    assert _content(model, "prometheus", "alert-rules.yml")["groups"][0]["interval"] == "15s"


def test_a_rule_is_rendered_only_while_the_services_it_reads_run():
    every = _rules(_model({"alertmanager": {"enabled": True}}))
    assert {"ServiceDown", "EndpointDown", "CertificateExpiresSoon", "DatabaseConnectionsNearLimit",
            "MaintenanceFailed", "MaintenanceStale", "RepositoryFilling", "AlertNotificationsFailing"} <= set(every)
    assert every["ServiceDown"]["expr"] == "omero_stack_container_up == 0"
    assert every["ServiceDown"]["labels"] == {"severity": "critical"}
    assert "{{ $labels.service }}" in every["ServiceDown"]["annotations"]["summary"]
    assert "when_enabled" not in every["CertificateExpiresSoon"]
    fewer = _rules(_model({"pg-maintenance": {"enabled": False}, "container-state-exporter": {"enabled": False}}))
    assert not {"MaintenanceFailed", "MaintenanceStale", "ServiceDown", "AlertNotificationsFailing"} & set(fewer)
    assert "DatabaseDown" in fewer
    # One of the two database exporters is enough for the database rules.
    one = _rules(_model({"postgres-exporter": {"enabled": False}}))
    assert "DatabaseConnectionsNearLimit" in one
    none = _rules(_model({"postgres-exporter": {"enabled": False}, "postgres-exporter-plugin": {"enabled": False}}))
    assert "DatabaseDown" not in none


def test_the_site_changes_disables_and_adds_rules():
    rules = _rules(_model(omero_monitoring={"alert_rules": [
        {"alert": "ServiceDown", "for": "10s", "labels": {"severity": "page"}},
        {"alert": "DiskFilling", "enabled": False},
        {"alert": "TooManyImports", "expr": "sum(rate(x_total[5m])) > 3", "for": "5m",
         "annotations": {"summary": "imports"}},
    ]}))
    assert rules["ServiceDown"]["for"] == "10s" and rules["ServiceDown"]["labels"] == {"severity": "page"}
    assert rules["ServiceDown"]["expr"] == "omero_stack_container_up == 0"
    assert "DiskFilling" not in rules
    assert rules["TooManyImports"] == {"alert": "TooManyImports", "expr": "sum(rate(x_total[5m])) > 3", "for": "5m",
                                       "annotations": {"summary": "imports"}}


def test_changing_a_rule_recreates_prometheus_only():
    before = _model()["service_hashes"]
    after = _model(omero_monitoring={"alert_rules": [{"alert": "ServiceDown", "for": "1m"}]})["service_hashes"]
    assert sorted(n for n in before if before[n] != after[n]) == ["prometheus"]


def test_alerts_go_to_the_webhooks_and_email_the_site_gives():
    model = _model({"alertmanager": {"enabled": True}}, omero_monitoring={"alerting": {
        "webhooks": [{"url": "http://hooks.example.org/omero"}],
        "email": {"to": "ops@example.org", "from": "omero@example.org", "smarthost": "mail.example.org:25"},
        "group_wait": "5s"}})
    config = _content(model, "alertmanager", "alertmanager.yml")
    assert config["route"]["receiver"] == "site" and config["route"]["group_wait"] == "5s"
    site = [r for r in config["receivers"] if r["name"] == "site"][0]
    assert site["webhook_configs"] == [{"send_resolved": True, "url": "http://hooks.example.org/omero"}]
    assert site["email_configs"][0]["to"] == "ops@example.org"
    assert site["email_configs"][0]["smarthost"] == "mail.example.org:25"


@pytest.mark.parametrize(("value", "expected"), [
    ({"scrape_interval": "30"}, "omero_monitoring.scrape_interval: '30' is not a Prometheus duration"),
    ({"logs_retention": "30d"}, "omero_monitoring.logs_retention: '30d' is not a number of hours"),
    ({"alert_rules": [{"alert": "NoSuchRule", "for": "5m"}]}, "omero_monitoring.alert_rules[0].expr: 'NoSuchRule'"),
    ({"alert_rules": [{"alert": "ServiceDown", "for": "soon"}]}, "omero_monitoring.alert_rules[0].for: 'soon'"),
    ({"alert_rules": [{"alert": "ServiceDown", "severity": "x"}]}, "unknown key(s) severity"),
    ({"alert_rules": [{"alert": "ServiceDown", "labels": {"severity": 1}}]},
     "omero_monitoring.alert_rules[0].labels: must map names to strings"),
    ({"alerting": {"webhooks": [{"url": "hooks.example.org"}]}}, "omero_monitoring.alerting.webhooks[0].url: needs an"),
    ({"alerting": {"webhooks": [{"send_resolved": True}]}}, "omero_monitoring.alerting.webhooks[0]: needs url"),
    ({"alerting": {"email": {"to": "ops", "from": "a@b", "smarthost": "mail"}}},
     "omero_monitoring.alerting.email.to: needs an email address"),
    ({"alerting": {"email": {"to": "o@b", "from": "a@b", "smarthost": "mail:25", "auth_password": "x"}}},
     "the relay's password goes in omero_secrets.alertmanager_smtp_password"),
    ({"retention": "1d"}, "omero_monitoring: unknown key(s) retention"),
])
def test_mistakes_are_refused_naming_the_variable(value, expected):
    assert expected in _errors({"alertmanager": {"enabled": True}}, omero_monitoring=value)


def test_routes_without_alertmanager_are_refused_with_the_fix():
    message = _errors(omero_monitoring={"alerting": {"webhooks": [{"url": "http://hooks.example.org/x"}]}})
    assert "omero_monitoring.alerting: routes alerts, but no alert router runs: " \
           "set omero_services.alertmanager.enabled: true" in message


def test_every_default_rule_names_services_of_the_catalog_and_valid_fields():
    services = set(load_catalog()["services"])
    names = []
    for rule in monitoring.load_rules():
        names.append(rule["alert"])
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "when_enabled", "when_any_enabled"}
        needs = rule.get("when_enabled") or []
        needs = [needs] if isinstance(needs, str) else needs
        assert set(needs) | set(rule.get("when_any_enabled") or []) <= services, rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert "for" not in rule or monitoring.is_duration(rule["for"])
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    assert len(names) == len(set(names))


def test_the_container_state_exporter_expects_the_enabled_services():
    model = _model({"alertmanager": {"enabled": True}})
    env = [f for f in model["env_files"] if f["path"].endswith("/container-state-exporter.env")][0]["env"]
    assert env["CONTAINER_STATE_SERVICES"] == ",".join(model["enabled_services"])
    assert env["CONTAINER_STATE_PROJECT"] == "omero-test"


def test_pg_maintenance_writes_its_status_where_node_exporter_reads_it():
    model = _model()
    services = model["compose"]["services"]
    maintenance = dict((v["target"], v) for v in services["pg-maintenance"]["volumes"])
    node = dict((v["target"], v) for v in services["node-exporter"]["volumes"])
    assert maintenance["/metrics"]["source"] == node["/textfile"]["source"] == "/srv/omero-test/data/metrics"
    assert not maintenance["/metrics"]["read_only"] and node["/textfile"]["read_only"]
    assert "--collector.textfile.directory=/textfile" in services["node-exporter"]["command"]
    directory = [d for d in model["directories"] if d["path"] == "/srv/omero-test/data/metrics"][0]
    assert (directory["owner"], directory["mode"]) == (999, "0755")
    # Without pg-maintenance it is still there (node-exporter reads it), owned by root.
    off = _model({"pg-maintenance": {"enabled": False}})
    directory = [d for d in off["directories"] if d["path"] == "/srv/omero-test/data/metrics"][0]
    assert (directory["owner"], directory["group"]) == (0, 0)


def test_every_long_running_service_has_a_health_check():
    for name, svc in load_catalog()["services"].items():
        assert svc.get("healthcheck"), name


def test_alloy_reads_omero_log_files_only_while_their_service_runs():
    mounts = dict((v["target"], v) for v in _model()["compose"]["services"]["alloy"]["volumes"])
    assert mounts["/logs/omeroserver"]["read_only"] and mounts["/logs/omeroweb"]["read_only"]
    without = _model({"omeroweb": {"enabled": False}})["compose"]["services"]["alloy"]["volumes"]
    assert "/logs/omeroweb" not in [v["target"] for v in without]


def _alloy_config(model):
    files = [f for f in model["files"] if f["service"] == "alloy" and f["path"].endswith("/config.alloy")]
    return files[0]["content"]


def test_alloy_config_ships_the_omero_log_files_with_service_source_and_level():
    """Alloy cannot run here: its rendered configuration is checked as text (balanced blocks,
    the components wired to each other, the labels the dashboards' LogQL uses)."""
    text = _alloy_config(_model())
    # Blocks and lists balance outside comments and strings ("...", raw `...`).
    code = re.sub(r'//[^\n]*|`[^`]*`|"(?:[^"\\]|\\.)*"', "", text)
    assert code.count("{") == code.count("}") > 10 and code.count("[") == code.count("]") > 3
    for component in ('local.file_match "omero"', 'loki.source.file "omero"', 'loki.process "omero_files"',
                      'loki.process "level"', 'loki.source.docker "containers"', 'loki.write "local"'):
        assert component + " {" in text, component
    assert '{"__path__" = "/logs/omeroserver/*.log", "service" = "omeroserver", "source" = "file"}' in text
    assert '{"__path__" = "/logs/omeroweb/*.log", "service" = "omeroweb", "source" = "file"}' in text
    assert len(re.findall(r"forward_to\s*=\s*\[loki\.process\.omero_files\.receiver\]", text)) == 1
    # container output and the files both go through the level stage
    assert len(re.findall(r"forward_to\s*=\s*\[loki\.process\.level\.receiver\]", text)) == 2
    assert 'labels        = {"source" = "container"}' in text
    assert 'values = {"level" = ""}' in text
    assert 'url = "http://loki:3100/loki/api/v1/push"' in text
    assert 'external_labels = {"site" = "omero-test"}' in text
    assert 'values = ["com.docker.compose.project=omero-test"]' in text


def test_the_level_expression_reads_omero_and_common_log_lines():
    """The regular expression of Alloy's level stage (RE2; Python's re reads this one the same)."""
    text = _alloy_config(_model())
    expression = re.search(r"expression = `([^`]*)`", text).group(1)
    level = re.compile(expression)

    def read(line):
        match = level.search(line)
        return match.group("level").lower() if match else None

    assert read("2026-12-05 04:25:47,753 INFO  [               omero.standin] (MainThread) Server ready") == "info"
    assert read("2026-12-05 04:25:47,753 ERROR [ome.services.util.ServiceHandler] (l.Server-7) Failed") == "error"
    assert read("2026-12-05 04:25:47,753 WARN  [  ome.formats.importer] (main) slow") == "warn"
    assert read('ts=2026-12-05T04:25:47Z caller=main.go:1 level=warn msg="x"') == "warn"
    assert read("[ERROR] something broke") == "error"
    assert read("a plain line without a level") is None


def test_postgres_exporters_collect_the_server_start_time():
    services = _model()["compose"]["services"]
    assert services["postgres-exporter"]["command"] == ["--collector.postmaster"]
    assert services["postgres-exporter-plugin"]["command"] == ["--collector.postmaster"]
