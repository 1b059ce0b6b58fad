"""A Celery task for the plugin's worker (stories/plugin_change.yml): it answers with a
digest of the plugin's secret as the worker reads it, so the story sees the worker ran it
and got the secret from its file (site_model/plugin_runtime.py), never from the inspect."""

import hashlib
import os

from celery import Celery

app = Celery("e2e_plain_app", broker=os.environ["E2E_BROKER_URL"], backend=os.environ["E2E_BROKER_URL"])


@app.task
def add(x, y):
    digest = hashlib.sha256(os.environ["E2E_SECRET"].encode("utf-8")).hexdigest()[:12]
    return "%d %s %s" % (x + y, digest, os.environ.get("HOSTNAME", ""))
