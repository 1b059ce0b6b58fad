#!/bin/sh
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
#
# Secrets as files, by the convention of the Orthanc images: every file directly under
# /run/secrets whose name is an environment variable's (CONFIG_omero_db_pass, ROOTPASS,
# CONFIG_omero_web_secret__key) becomes that variable, with the file's content (trailing
# newlines dropped), for the image's own entrypoint only (or the program OMERO_STACK_ENTRYPOINT
# names, see the end). The site images install this
# script as /usr/local/bin/entrypoint.sh and the image's entrypoint as entrypoint-image.sh,
# so whatever runs it (dumb-init or not) and the image's CMD stay as the image has them.
#
# Precedence, lowest first: the /opt/omero/*/config/*.omero files, then every CONFIG_*
# variable (the image's startup step applies them after the files), where a secret file
# wins over a plain variable of the same name. The values live in this process's
# environment and its children's, never in the container's definition: `docker inspect`
# and `docker service inspect` show none of them.
set -eu
dir="${OMERO_STACK_SECRETS_DIR:-/run/secrets}"
if [ -d "$dir" ]; then
    for file in "$dir"/*; do
        [ -f "$file" ] || continue
        name="${file##*/}"
        case "$name" in
            ''|[0-9]*|*[!A-Za-z0-9_]*) continue ;;
        esac
        if ! value="$(cat "$file")"; then
            echo "secrets-env: cannot read $file (owner or mode): the secret $name is not set" >&2
            exit 1
        fi
        export "$name=$value"
    done
fi
# A companion service of the same image (a web plugin's worker) names another program to run
# instead of the image's entrypoint (files/images/omero-web/run-command.sh); only one the site
# image installs under /usr/local/libexec/omero-stack/.
next="${OMERO_STACK_ENTRYPOINT:-/usr/local/bin/entrypoint-image.sh}"
case "$next" in
    /usr/local/bin/entrypoint-image.sh|/usr/local/libexec/omero-stack/*) ;;
    *) echo "secrets-env: OMERO_STACK_ENTRYPOINT=$next is not a program of the site image" >&2; exit 2 ;;
esac
exec "$next" "$@"
