#!/usr/bin/env bash
# Run the executable files of /startup in name order, like the official OMERO.web image.
set -e
# shellcheck source=/dev/null
source /opt/omero/web/venv3/bin/activate
for f in /startup/*; do
    if [ -f "$f" ] && [ -x "$f" ]; then
        echo "Running $f $*"
        "$f" "$@"
    fi
done
