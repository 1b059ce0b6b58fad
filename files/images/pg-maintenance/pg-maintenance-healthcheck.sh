#!/bin/sh
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
#
# pg-maintenance-healthcheck: container healthcheck of the pg-maintenance image.
# Reads ${PG_MAINTENANCE_DIR:-/backups}/.pg-maintenance-status (written by
# pg-maintenance). Exit 0 when it says "starting", or "ok <epoch> <file>" with an
# epoch younger than 2 * PG_MAINTENANCE_INTERVAL (default 86400) + 3600 seconds;
# otherwise exit 1 with a one-line reason on stdout.
set -u
status_file="${PG_MAINTENANCE_DIR:-/backups}/.pg-maintenance-status"
interval="${PG_MAINTENANCE_INTERVAL:-86400}"
case "$interval" in
  ''|*[!0-9]*) echo "unhealthy: PG_MAINTENANCE_INTERVAL is not an integer: '$interval'"; exit 1 ;;
esac
if ! IFS= read -r line <"$status_file" 2>/dev/null; then
  echo "unhealthy: no status in $status_file"
  exit 1
fi
# shellcheck disable=SC2086 # split the status line into its fields
set -- $line
case "${1:-}" in
  starting)
    echo "starting"
    exit 0 ;;
  ok)
    epoch="${2:-}"
    case "$epoch" in
      ''|*[!0-9]*) echo "unhealthy: bad status line: $line"; exit 1 ;;
    esac
    age=$(( $(date +%s) - epoch ))
    max=$(( 2 * interval + 3600 ))
    if [ "$age" -gt "$max" ]; then
      echo "unhealthy: last successful cycle ${age}s ago (limit ${max}s): ${3:-}"
      exit 1
    fi
    echo "ok: last dump ${age}s ago: ${3:-}"
    exit 0 ;;
  failed)
    shift 2 2>/dev/null || shift $#
    echo "unhealthy: last cycle failed: $*"
    exit 1 ;;
  *)
    echo "unhealthy: bad status line: $line"
    exit 1 ;;
esac
