#!/usr/bin/env bash
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
#
# The entrypoint of a web plugin's worker (a companion service of the site's OMERO.web image,
# site_model/plugin_runtime.py): the image's startup steps, as its own entrypoint runs them
# (/startup/* in name order: the *.omero files, then the CONFIG_* variables, applied with
# `omero config`), but 99-run.sh, which starts OMERO.web; then the service's command (a
# Celery worker) with the image's virtualenv first on PATH. secrets-env.sh runs it with the
# site's secrets in the environment (OMERO_STACK_ENTRYPOINT).
set -euo pipefail
if [ "$#" -eq 0 ]; then
    echo "run-command: no command given (omero_web_plugins[].worker.command)" >&2
    exit 2
fi
# The official image's last step, which execs `omero web start --foreground`.
start=/startup/99-run.sh
if [ ! -x "$start" ]; then
    echo "run-command: the image has no $start: its startup is not the OMERO.web image's this script knows" >&2
    exit 2
fi
for f in /startup/*; do
    if [ -f "$f" ] && [ -x "$f" ] && [ "$f" != "$start" ]; then
        echo "run-command: running $f"
        "$f"
    fi
done
export PATH="/opt/omero/web/venv3/bin:$PATH"
echo "run-command: starting $*"
exec "$@"
