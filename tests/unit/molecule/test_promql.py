"""tests/helpers/promql.py: the metric names of a PromQL expression (used by the dashboard
tests and by the stack scenario's check of every dashboard and rule expression)."""

import pytest

from tests.helpers.promql import metric_names


@pytest.mark.parametrize(("expr", "names"), [
    ("sum by (job) (pg_stat_database_numbackends) / on (job) max by (job) (pg_settings_max_connections) > 0.8",
     ["pg_settings_max_connections", "pg_stat_database_numbackends"]),
    ("increase(omero_stack_container_restart_count[15m]) >= 3", ["omero_stack_container_restart_count"]),
    ("probe_ssl_earliest_cert_expiry - time() < 14 * 86400", ["probe_ssl_earliest_cert_expiry"]),
    ('node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes < 0.10',
     ["node_filesystem_avail_bytes", "node_filesystem_size_bytes"]),
    ('{__name__="up", job="x"} == 0', ["up"]),
    ("rate(x_total[5m] offset 1h) and on(instance) y unless ignoring(a, b) z", ["x_total", "y", "z"]),
    ("histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))", ["h_bucket"]),
    ('count(ALERTS{alertstate="firing"}) or vector(0)', ["ALERTS"]),
    ("a * on(x) group_left(y, z) b", ["a", "b"]),
    ("sum without (instance) (rate(c[1h30m]))", ["c"]),
    ('label_replace(up, "dst", "$1", "src", "(.*)")', ["up"]),
    ("time() - node_boot_time_seconds", ["node_boot_time_seconds"]),
    ("topk(5, sum by (service) (omero_stack_container_restart_count))", ["omero_stack_container_restart_count"]),
])
def test_the_metric_names_of_an_expression(expr, names):
    assert metric_names(expr) == names


def test_a_misspelt_function_is_not_a_metric_but_its_argument_and_bare_words_are():
    assert metric_names("rat(x[5m])") == ["x"]
    assert metric_names("x + y_bytes") == ["x", "y_bytes"]
