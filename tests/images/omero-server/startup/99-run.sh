#!/usr/bin/env bash
# Startup step 99: run the stand-in server in the foreground (replaces this shell).
export PYTHONPATH=/opt/omero/standin:/opt/omero/standin/lib
exec /opt/omero/server/venv3/bin/python -m omero_standin.server "$@"
