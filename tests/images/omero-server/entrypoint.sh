#!/usr/bin/env bash
# Run the executable files of /startup in name order, like the official OMERO.server
# image; the last one (99-run.sh) replaces this shell, so dumb-init's signals reach
# the server directly.
set -e
# shellcheck source=/dev/null
source /opt/omero/server/venv3/bin/activate
steps=()
for f in /startup/*; do
    if [ -f "$f" ] && [ -x "$f" ]; then
        steps+=("$f")
    fi
done
last=$((${#steps[@]} - 1))
for i in "${!steps[@]}"; do
    echo "Running ${steps[$i]} $*"
    if [ "$i" -eq "$last" ]; then
        exec "${steps[$i]}" "$@"
    fi
    "${steps[$i]}" "$@"
done
