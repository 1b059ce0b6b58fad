# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
"""The stack scenario's webhook receiver: what Alertmanager's webhook sends, one line each.

Listens on 0.0.0.0:8080 (the port of the site's omero_monitoring.alerting.webhooks url)
and prints every POSTed body as one JSON line on stdout, with the time it arrived:
``{"received": <unix time>, "path": ..., "body": <Alertmanager's webhook payload>}``.
The story reads them with `docker logs`. Standard library only.
"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", "replace")}
        print(json.dumps({"received": time.time(), "path": self.path, "body": body}), flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write("webhook: " + (fmt % args) + "\n")


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()  # noqa: S104 - the scenario's network only
