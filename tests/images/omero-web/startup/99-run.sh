#!/usr/bin/env bash
set -eu
export PATH="/opt/omero/web/venv3/bin:$PATH"
cd /opt/omero/web
echo "Starting OMERO.web"
exec /opt/omero/web/venv3/bin/python /opt/omero/web/venv3/bin/omero web start --foreground
