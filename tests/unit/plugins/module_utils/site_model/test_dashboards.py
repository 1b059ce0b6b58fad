"""The Grafana dashboards the collection ships (site_model/dashboards.py, dashboard_specs/*.yml).

Every generated dashboard, for several sets of enabled services, passes check_model; its
expressions name only the metrics this stack's Prometheus has (METRICS, checked with a
small PromQL tokenizer that is tested itself) and only Loki's labels; ``when_enabled``
leaves out what needs a service that is off.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import dashboards as dashboardlib
from ansible_collections.omero_docker.stack.plugins.module_utils.site_model.catalog import load_catalog

from tests.helpers.promql import names, tokens

# ----------------------------------------------------------------------------- data

# The metric names this stack's Prometheus has; an expression naming another one fails.
METRICS = {
    # container-state-exporter
    "omero_stack_container_up", "omero_stack_container_health_status", "omero_stack_container_restart_count",
    "omero_stack_container_start_time_seconds", "omero_stack_container_info", "omero_stack_container_state_up",
    # blackbox-exporter probes
    "probe_success", "probe_duration_seconds", "probe_http_status_code", "probe_ssl_earliest_cert_expiry",
    "probe_dns_lookup_time_seconds",
    # every scrape job
    "up", "scrape_duration_seconds", "scrape_samples_scraped",
    # node-exporter
    "node_cpu_seconds_total", "node_load1", "node_load5", "node_load15", "node_memory_MemTotal_bytes",
    "node_memory_MemAvailable_bytes", "node_filesystem_size_bytes", "node_filesystem_avail_bytes",
    "node_disk_read_bytes_total", "node_disk_written_bytes_total", "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total", "node_boot_time_seconds", "node_time_seconds", "node_textfile_mtime_seconds",
    "node_textfile_scrape_error",
    # pg-maintenance through node-exporter's textfile collector
    "omero_stack_maintenance_last_run_timestamp_seconds", "omero_stack_maintenance_last_success_timestamp_seconds",
    "omero_stack_maintenance_last_run_ok", "omero_stack_maintenance_last_duration_seconds",
    "omero_stack_maintenance_interval_seconds", "omero_stack_maintenance_last_dump_bytes",
    # path-usage-exporter
    "omero_stack_path_usage_bytes", "omero_stack_path_apparent_bytes", "omero_stack_path_files",
    "omero_stack_path_filesystem_size_bytes", "omero_stack_path_filesystem_avail_bytes",
    "omero_stack_path_usage_scans_total",
    # postgres-exporter 0.17
    "pg_up", "pg_stat_database_numbackends", "pg_settings_max_connections", "pg_stat_database_xact_commit",
    "pg_stat_database_xact_rollback", "pg_stat_database_blks_hit", "pg_stat_database_blks_read",
    "pg_stat_database_tup_inserted", "pg_stat_database_tup_updated", "pg_stat_database_tup_deleted",
    "pg_stat_database_deadlocks", "pg_database_size_bytes", "pg_locks_count", "pg_postmaster_start_time_seconds",
    # redis-exporter
    "redis_up", "redis_connected_clients", "redis_memory_used_bytes", "redis_memory_max_bytes",
    "redis_commands_processed_total", "redis_keyspace_hits_total", "redis_keyspace_misses_total", "redis_db_keys",
    "redis_evicted_keys_total", "redis_uptime_in_seconds",
    # Prometheus
    "prometheus_tsdb_head_series", "prometheus_rule_evaluation_failures_total", "ALERTS",
    "prometheus_notifications_dropped_total",
    # alertmanager
    "alertmanager_alerts", "alertmanager_notifications_total", "alertmanager_notifications_failed_total",
    # cadvisor
    "container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
}

# Labels of those series (matchers, by/without/on, legends).
PROMETHEUS_LABELS = {
    "job", "service", "instance", "status", "container", "image", "state", "mode", "mountpoint", "fstype", "device",
    "file", "task", "database", "path", "datname", "db", "integration", "alertname", "alertstate", "severity", "name",
}
LOKI_LABELS = {"site", "service", "container", "level", "source", "filename"}

# PromQL's functions and aggregation operators; LogQL's that the Loki panels may use.
PROMQL_FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg", "avg_over_time", "bottomk", "ceil", "changes", "clamp", "clamp_max",
    "clamp_min", "count", "count_over_time", "count_values", "day_of_month", "day_of_week", "days_in_month", "delta",
    "deriv", "exp", "floor", "group", "histogram_quantile", "holt_winters", "hour", "idelta", "increase", "irate",
    "label_join", "label_replace", "last_over_time", "ln", "log2", "log10", "max", "max_over_time", "min",
    "min_over_time", "minute", "month", "predict_linear", "quantile", "quantile_over_time", "rate", "resets",
    "round", "scalar", "sort", "sort_desc", "sqrt", "stddev", "stdvar", "sum", "sum_over_time", "time", "timestamp",
    "topk", "vector", "year",
}
LOGQL_FUNCTIONS = {"sum", "count", "max", "min", "avg", "topk", "count_over_time", "rate", "bytes_over_time",
                   "bytes_rate"}

# The dashboards, by uid: stable (Grafana's links and bookmarks use them).
UIDS = {"omero-stack-" + name for name in (
    "overview", "omero-server", "omero-web", "postgresql", "redis", "host", "data", "maintenance", "logs",
    "monitoring")}

CATALOG = load_catalog()
ALL = set(CATALOG["services"])
DEFAULT = {name for name, service in CATALOG["services"].items() if service["enabled"]}
MINIMAL = {"omeroserver", "omeroweb", "database", "prometheus", "grafana", "postgres-exporter", "blackbox-exporter",
           "node-exporter", "container-state-exporter"}
BARE = {"prometheus", "grafana"}
CASES = {"all": ALL, "default": DEFAULT, "minimal": MINIMAL, "bare": BARE}


def _generated():
    return [(case, file_name, model) for case, enabled in CASES.items()
            for file_name, model in dashboardlib.dashboards(enabled).items()]


GENERATED = _generated()
IDS = ["%s/%s" % (case, file_name) for case, file_name, _model in GENERATED]


def _panels(model):
    return [p for p in model["panels"] if p["type"] != "row"]


def _titles(model):
    return [p["title"] for p in model["panels"]]


def test_the_tokenizer_finds_metrics_functions_and_labels():
    expr = ('sum by (service) (rate(foo_total{job="x", a=~"b|c"}[5m])) / on (instance) group_left (name) '
            'bar_seconds offset 1h > bool 0')
    assert names(expr) == ({"foo_total", "bar_seconds"}, {"sum", "rate"}, {"service", "job", "a", "instance", "name"})
    assert names("count(up == 0) or vector(0)") == ({"up"}, {"count", "vector"}, set())
    assert names("max without (job) (a) + min(b) by (c)") == ({"a", "b"}, {"max", "min"}, {"job", "c"})
    assert names("time() - max(node_boot_time_seconds)") == ({"node_boot_time_seconds"}, {"time", "max"}, set())
    assert names('deriv(x_bytes{path=~".+"}[6h]) * 86400 + 1.5e3')[0] == {"x_bytes"}
    assert names('sum(rate(y[1h:5m])) by (job) and z unless w')[0:2] == ({"y", "z", "w"}, {"sum", "rate"})
    # A name in a string is no metric; a misspelled one is found (and would fail the check).
    assert names('up{job="redis_up"}')[0] == {"up"}
    assert names("sum(rate(not_a_metric_total[5m]))")[0] - METRICS == {"not_a_metric_total"}
    assert names('{service=~".+", level="error"}') == (set(), set(), {"service", "level"})
    with pytest.raises(AssertionError):
        tokens("sum(x) # y")


# ------------------------------------------------------------------------ specs


def _when(item):
    value = item.get("when_enabled") or []
    return [value] if isinstance(value, str) else list(value)


def _spec_panels(spec):
    for row in spec["rows"]:
        for panel in row["panels"]:
            yield row, panel


def test_the_specs_load_in_a_stable_order_with_names_of_their_own():
    specs = dashboardlib.load_specs()
    assert [s["name"] for s in specs] == sorted(s["name"] for s in specs)
    assert {dashboardlib.UID_PREFIX + s["name"] for s in specs} == UIDS
    assert all(dashboardlib.spec_problems(s) == [] for s in specs)
    assert dashboardlib.load_specs() == specs


def test_every_when_enabled_names_a_catalog_service():
    unknown = []
    for spec in dashboardlib.load_specs():
        items = [spec] + spec["rows"] + [panel for _row, panel in _spec_panels(spec)]
        items += [option for variable in spec.get("variables") or [] for option in variable.get("options") or []]
        unknown += [(spec["name"], name) for item in items for name in _when(item) if name not in ALL]
    assert unknown == []


def test_loki_panels_say_when_enabled_loki():
    missing = []
    for spec in dashboardlib.load_specs():
        for row, panel in _spec_panels(spec):
            if (panel.get("datasource") or spec.get("datasource")) == "loki":
                if "loki" not in _when(spec) + _when(row) + _when(panel):
                    missing.append((spec["name"], panel["title"]))
            assert panel["type"] != "logs" or (panel.get("datasource") or spec.get("datasource")) == "loki"
    assert missing == []


def test_spec_problems_finds_typos():
    spec = {"name": "x", "title": "X", "rows": [{"panels": [
        {"title": "p", "type": "timeseries", "unit": "s", "querys": []},
        {"title": "q", "type": "gauge", "queries": [{"expr": ""}]}]}], "when_enabled": 3}
    problems = "; ".join(dashboardlib.spec_problems(spec))
    for part in ("unknown key 'querys'", "queries must be a non-empty list", "type must be one of",
                 "unit is required", "expr is required", "when_enabled must be"):
        assert part in problems


# ------------------------------------------------------------------ the models


@pytest.mark.parametrize(("case", "file_name", "model"), GENERATED, ids=IDS)
def test_every_dashboard_passes_check_model(case, file_name, model):
    del case
    assert dashboardlib.check_model(model) == []
    assert file_name == model["uid"] + ".json"
    assert model["uid"] in UIDS
    assert model["title"].startswith("OMERO stack / ")
    assert model["tags"] == ["omero-docker-stack"]
    assert model["editable"] is False
    assert model["schemaVersion"] == 39
    assert model["time"] == {"from": "now-6h", "to": "now"}
    assert model["refresh"] == "1m"
    assert _panels(model)
    assert json.loads(json.dumps(model)) == model


@pytest.mark.parametrize(("case", "file_name", "model"), GENERATED, ids=IDS)
def test_every_query_is_complete_and_substituted(case, file_name, model):
    del case, file_name
    found = dashboardlib.queries(model)
    assert len(found) == sum(len(p["targets"]) for p in _panels(model))
    for query in found:
        assert query["dashboard"] == model["uid"]
        assert query["panel"]
        assert query["datasource"] in ("prometheus", "loki")
        assert query["expr"].strip()
        assert "$" not in query["expr"] and "[[" not in query["expr"], query
        assert dashboardlib.syntax_problems(query["expr"]) == [], query
        tokens(query["expr"])
    for panel in _panels(model):
        assert [t["refId"] for t in panel["targets"]] == [chr(ord("A") + i) for i in range(len(panel["targets"]))]
        assert all(t["datasource"] == panel["datasource"] for t in panel["targets"])
        if panel["type"] != "logs":
            assert panel["fieldConfig"]["defaults"]["unit"]


def test_prometheus_expressions_name_only_the_stacks_metrics():
    bad = []
    for model in dashboardlib.dashboards(ALL).values():
        for query in dashboardlib.queries(model):
            if query["datasource"] != "prometheus":
                continue
            metrics, functions, labels = names(query["expr"])
            assert metrics, query
            where = "%s / %s" % (query["dashboard"], query["panel"])
            bad += ["%s: metric %s" % (where, m) for m in metrics - METRICS]
            bad += ["%s: function %s" % (where, f) for f in functions - PROMQL_FUNCTIONS]
            bad += ["%s: label %s" % (where, lb) for lb in labels - PROMETHEUS_LABELS]
    assert bad == []


def test_loki_expressions_use_loki_labels_and_functions():
    found = [q for model in dashboardlib.dashboards(ALL).values() for q in dashboardlib.queries(model)
             if q["datasource"] == "loki"]
    assert found
    for query in found:
        metrics, functions, labels = names(query["expr"])
        assert metrics == set(), query
        assert functions <= LOGQL_FUNCTIONS, query
        assert labels and labels <= LOKI_LABELS, query
        assert "{" in query["expr"], query


def test_legends_and_variables_use_known_labels():
    for model in dashboardlib.dashboards(ALL).values():
        for panel in _panels(model):
            known = LOKI_LABELS if panel["datasource"]["uid"] == "loki" else PROMETHEUS_LABELS
            for target in panel["targets"]:
                assert set(re.findall(r"{{\s*(\w+)\s*}}", target.get("legendFormat", ""))) <= known, target
        for variable in model["templating"]["list"]:
            if variable["type"] != "query":
                continue
            match = re.match(r"^label_values\((?:(\w+),\s*)?(\w+)\)$", variable["query"])
            assert match, variable
            metric, label = match.groups()
            if variable["datasource"]["uid"] == "loki":
                assert metric is None and label in LOKI_LABELS
            else:
                assert metric in METRICS and label in PROMETHEUS_LABELS


def test_uids_are_unique_and_stable():
    models = dashboardlib.dashboards(ALL)
    assert {model["uid"] for model in models.values()} == UIDS
    assert len(models) == len(UIDS)
    assert sorted(models) == sorted(uid + ".json" for uid in UIDS)
    assert dashboardlib.dashboards(sorted(ALL)) == models
    assert json.dumps(dashboardlib.dashboards(ALL), sort_keys=True) == json.dumps(models, sort_keys=True)
    for case, enabled in CASES.items():
        assert {m["uid"] for m in dashboardlib.dashboards(enabled).values()} <= UIDS, case


# ----------------------------------------------------------------- when_enabled


def _loki_panels(model):
    return [p["title"] for p in _panels(model) if p["datasource"]["uid"] == "loki"]


def test_without_loki_its_panels_rows_and_dashboard_are_left_out():
    with_loki = dashboardlib.dashboards(DEFAULT)
    without = dashboardlib.dashboards(DEFAULT - {"loki"})
    assert "loki" in DEFAULT
    assert "omero-stack-logs.json" in with_loki and "omero-stack-logs.json" not in without
    server, bare_server = with_loki["omero-stack-omero-server.json"], without["omero-stack-omero-server.json"]
    assert "Log files" in _titles(server) and "Log files" not in _titles(bare_server)
    assert "Logs" in _titles(server) and "Logs" not in _titles(bare_server)  # the row, left empty
    assert _loki_panels(server) == ["Errors and warnings", "Log files"]
    assert all(_loki_panels(model) == [] for model in without.values())
    assert len(_panels(bare_server)) == len(_panels(server)) - 2
    assert dashboardlib.check_model(bare_server) == []


def test_when_enabled_follows_each_service():
    default = dashboardlib.dashboards(DEFAULT)
    everything = dashboardlib.dashboards(ALL)
    minimal = dashboardlib.dashboards(MINIMAL)
    assert "CPU by container" not in _titles(default["omero-stack-host.json"])
    assert "CPU by container" in _titles(everything["omero-stack-host.json"])
    assert "Notifications" not in _titles(default["omero-stack-monitoring.json"])
    assert "Notifications" in _titles(everything["omero-stack-monitoring.json"])
    for name in ("redis", "maintenance", "data", "logs"):
        assert "omero-stack-%s.json" % name in default and "omero-stack-%s.json" % name not in minimal
    assert "Redis clients" not in _titles(minimal["omero-stack-omero-web.json"])
    options = [o["value"] for o in default["omero-stack-postgresql.json"]["templating"]["list"][0]["options"]]
    assert options == ["postgres-exporter", "postgres-exporter-plugin"]
    options = [o["value"] for o in minimal["omero-stack-postgresql.json"]["templating"]["list"][0]["options"]]
    assert options == ["postgres-exporter"]
    bare = dashboardlib.dashboards(BARE)
    assert sorted(bare) == ["omero-stack-monitoring.json", "omero-stack-overview.json"]
    assert "Services up" in _titles(minimal["omero-stack-overview.json"])
    assert _titles(bare["omero-stack-overview.json"]) == ["Status", "Firing alerts", "Alerts",
                                                          "Pending and firing alerts"]
    assert dashboardlib.dashboards(set()) == {}


def _spec(*rows, **keys):
    spec = {"name": "demo", "title": "Demo", "rows": list(rows)}
    spec.update(keys)
    return spec


def _stat(title, **keys):
    panel = {"title": title, "type": "stat", "unit": "none", "queries": [{"expr": "up"}]}
    panel.update(keys)
    return panel


def test_a_dashboard_or_row_left_without_panels_is_left_out():
    spec = _spec({"title": "a", "panels": [_stat("only with x", when_enabled="x")]},
                 {"title": "b", "panels": [_stat("with x and y", when_enabled=["x", "y"])]})
    assert dashboardlib.dashboards({"prometheus"}, specs=[spec]) == {}
    model = dashboardlib.dashboards({"prometheus", "x"}, specs=[spec])["omero-stack-demo.json"]
    assert _titles(model) == ["a", "only with x"]
    model = dashboardlib.dashboards({"prometheus", "x", "y"}, specs=[spec])["omero-stack-demo.json"]
    assert _titles(model) == ["a", "only with x", "b", "with x and y"]
    assert dashboardlib.dashboards({"prometheus", "x"}, specs=[dict(spec, when_enabled="z")]) == {}
    # A panel whose data source's service is off is left out too.
    assert dashboardlib.dashboards({"x"}, specs=[spec]) == {}


# ------------------------------------------------------------------- layout


def test_the_layout_fills_rows_of_24_columns_without_overlap():
    spec = _spec({"title": "stats", "panels": [_stat("s%d" % i) for i in range(7)]},
                 {"title": "graphs", "panels": [
                     {"title": "t%d" % i, "type": "timeseries", "unit": "s", "queries": [{"expr": "up"}]}
                     for i in range(4)] + [
                     {"title": "wide", "type": "table", "unit": "none", "width": 16, "queries": [{"expr": "up"}]},
                     {"title": "logs", "type": "logs", "datasource": "loki", "queries": [{"expr": '{site=~".+"}'}]}]})
    model = dashboardlib.dashboard(spec, {"prometheus", "loki"})
    grid = {p["title"]: (p["gridPos"]["x"], p["gridPos"]["y"], p["gridPos"]["w"], p["gridPos"]["h"])
            for p in model["panels"]}
    assert grid["stats"] == (0, 0, 24, 1)
    assert [grid["s%d" % i] for i in range(7)] == [(0, 1, 4, 4), (4, 1, 4, 4), (8, 1, 4, 4), (12, 1, 3, 4),
                                                   (15, 1, 3, 4), (18, 1, 3, 4), (21, 1, 3, 4)]
    assert grid["graphs"] == (0, 5, 24, 1)
    assert [grid["t%d" % i] for i in range(4)] == [(0, 6, 24, 8), (0, 14, 24, 8), (0, 22, 24, 8), (0, 30, 24, 8)]
    assert grid["wide"] == (0, 38, 16, 8)
    assert grid["logs"] == (0, 46, 24, 12)
    assert [p["id"] for p in model["panels"]] == list(range(1, 16))
    assert dashboardlib.check_model(model) == []


def test_panels_of_a_row_share_its_columns():
    graphs = [{"title": "t%d" % i, "type": "timeseries", "unit": "s", "queries": [{"expr": "up"}]} for i in range(5)]
    model = dashboardlib.dashboard(_spec({"title": "r", "panels": graphs}), {"prometheus"})
    assert [(p["gridPos"]["x"], p["gridPos"]["y"], p["gridPos"]["w"]) for p in model["panels"][1:]] == [
        (0, 1, 8), (8, 1, 8), (16, 1, 8), (0, 9, 12), (12, 9, 12)]
    with pytest.raises(dashboardlib.DashboardSpecError):
        dashboardlib.dashboard(_spec({"title": "r", "panels": [_stat("a", width=20), _stat("b", width=5)]}),
                               {"prometheus"})


# ---------------------------------------------------------------- check_model


def _model():
    spec = _spec({"title": "r", "panels": [
        {"title": "a", "type": "timeseries", "unit": "s",
         "queries": [{"expr": 'rate(up{job=~"$job"}[$__rate_interval])'}, {"expr": "up"}]},
        _stat("b")]},
        variables=[{"name": "job", "query": "label_values(up, job)", "multi": True, "all": True}])
    return dashboardlib.dashboard(spec, {"prometheus"})


def _problems(change):
    model = _model()
    change(model)
    return "; ".join(dashboardlib.check_model(model))


def test_check_model_accepts_a_sound_model():
    assert dashboardlib.check_model(_model()) == []


BROKEN = [
    (lambda m: m.pop("templating"), "missing key 'templating'"),
    (lambda m: m.update(uid="other"), "does not start with"),
    (lambda m: m.update(editable=True), "editable must be false"),
    (lambda m: m["panels"][2].update(id=2), "panel ids must be integers of their own"),
    (lambda m: m["panels"][2]["gridPos"].update(x=20), "outside the 24 columns"),
    (lambda m: m["panels"][2]["gridPos"].update(x=6), "overlap"),
    (lambda m: m["panels"][1]["targets"][1].update(refId="A"), "refId of its own"),
    (lambda m: m["panels"][1]["targets"][1].pop("expr"), "expr is required"),
    (lambda m: m["panels"][1]["targets"][1].update(datasource={"type": "prometheus", "uid": "x"}), "datasource"),
    (lambda m: m["panels"][1]["targets"][1].update(datasource={"type": "loki", "uid": "prometheus"}),
     "is not that of"),
    (lambda m: m["panels"][1].update(datasource=None), "datasource must be"),
    (lambda m: m["panels"][1].update(targets=[]), "no targets"),
    (lambda m: m["panels"][1]["fieldConfig"]["defaults"].pop("unit"), "no fieldConfig.defaults.unit"),
    (lambda m: m["panels"][1].update(type="graph"), "is not one of"),
    (lambda m: m["templating"].update(list=[]), "variable $job is not defined"),
    (lambda m: m["panels"][1]["targets"][1].update(expr="up{job=\"$job\"}"), "outside the value of a =~ matcher"),
    (lambda m: m["panels"][1]["targets"][1].update(expr="rate(up[$__auto])"), "unknown built-in variable"),
    (lambda m: m["panels"][1]["targets"][1].update(expr="sum(rate(up[5m])"), "unclosed"),
    (lambda m: m["panels"][1]["targets"][1].update(expr="rate(up[5 minutes])"), "is not a duration"),
    (lambda m: m["panels"][1]["targets"][1].update(expr='up{job="x}'), "unclosed string"),
]


@pytest.mark.parametrize(("change", "expected"), BROKEN, ids=[expected for _change, expected in BROKEN])
def test_check_model_finds(change, expected):
    assert expected in _problems(change)


# ---------------------------------------------------------------- substitution


def test_queries_substitute_grafanas_variables():
    model = copy.deepcopy(_model())
    model["panels"][1]["targets"][1]["expr"] = (
        'increase(x{a=~"${job}", b=~"[[job]]", c=~"${job:regex}", d!~"pre-$job"}[$__range]) '
        '/ rate(y[$__interval]) + $jobs')
    found = dashboardlib.queries(model)
    assert found[0] == {"dashboard": "omero-stack-demo", "panel": "a", "datasource": "prometheus",
                        "expr": 'rate(up{job=~".+"}[5m])'}
    assert found[1]["expr"] == ('increase(x{a=~".+", b=~".+", c=~".+", d!~"pre-.+"}[1h]) / rate(y[1m]) + $jobs')
    assert [q["panel"] for q in found] == ["a", "a", "b"]
    assert dashboardlib.substitute("$__rate_interval $__interval $__range", []) == "5m 1m 1h"
    replace = 'label_replace(up{job=~"$job"}, "a", "$1", "job", "(.*)")'
    assert dashboardlib.substitute(replace, ["job"]) == 'label_replace(up{job=~".+"}, "a", "$1", "job", "(.*)")'
