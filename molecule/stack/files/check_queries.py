# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""check_queries.py PROMETHEUS_URL QUERIES_JSON: checks every PromQL expression of
QUERIES_JSON (a list of {source, name, expr}: the dashboards' panels and the rendered
alert rules) against a running Prometheus: each must evaluate (GET /api/v1/query; a
syntax error is HTTP 400) and name only metrics Prometheus has
(/api/v1/label/__name__/values; names as tests/helpers/promql.py reads them).

Prints one JSON object: {"checked": N, "metrics": M, "invalid": [...], "unknown": [...]}
and exits 1 when a list is not empty. Runs on the stack scenario's test host (python3,
standard library; promql.py copied beside it).
"""

import json
import sys
import urllib.error
import urllib.parse
import urllib.request

from promql import metric_names


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - the scenario's Prometheus
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def main(base, queries_file):
    with open(queries_file, encoding="utf-8") as handle:
        queries = json.load(handle)
    status, names = get(base + "/api/v1/label/__name__/values")
    if status != 200:
        print(json.dumps({"error": "cannot list the metric names", "status": status}))
        return 1
    have = set(names["data"])
    invalid, unknown = [], []
    for query in queries:
        status, answer = get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": query["expr"]}))
        if status != 200 or answer.get("status") != "success":
            invalid.append(dict(query, error=answer.get("error")))
        missing = [name for name in metric_names(query["expr"]) if name not in have]
        if missing:
            unknown.append(dict(query, missing=missing))
    print(json.dumps({"checked": len(queries), "metrics": len(have), "invalid": invalid, "unknown": unknown}))
    return 1 if invalid or unknown else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
