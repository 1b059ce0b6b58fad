#!/usr/bin/env bash
# OMEROHOST, when set, replaces omero.web.server_list with that single server.
set -eu
if [ -n "${OMEROHOST:-}" ]; then
    /opt/omero/web/venv3/bin/omero config set omero.web.server_list "[[\"$OMEROHOST\", 4064, \"omero\"]]"
fi
