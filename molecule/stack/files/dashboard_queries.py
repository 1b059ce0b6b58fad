# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""dashboard_queries.py SERVICE...: the Prometheus expressions of the collection's
dashboards for a site running SERVICE... (the stack scenario's enabled services plus
Grafana and Loki, which cannot run there), as JSON: [{source, name, expr}], with Grafana's
variables substituted (dashboards.queries). Runs on the controller, with the collection
on ANSIBLE_COLLECTIONS_PATH; also checks each dashboard's JSON model (check_model) and
exits 1 naming the problems.
"""

import json
import os
import sys

sys.path[:0] = [p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p]

from ansible_collections.omero_docker.stack.plugins.module_utils.site_model import dashboards  # noqa: E402


def main(enabled):
    boards = dashboards.dashboards(enabled)
    problems = dict((name, dashboards.check_model(board)) for name, board in boards.items())
    problems = dict((name, found) for name, found in problems.items() if found)
    if problems:
        print(json.dumps({"problems": problems}))
        return 1
    queries = [{"source": "dashboard " + q["dashboard"], "name": q["panel"], "expr": q["expr"]}
               for board in boards.values() for q in dashboards.queries(board) if q["datasource"] == "prometheus"]
    print(json.dumps({"dashboards": sorted(boards), "queries": queries}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
