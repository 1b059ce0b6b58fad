#!/usr/bin/env bash
# Copyright: contributors to omero_docker.stack
# Apache License 2.0 (see galaxy.yml)
#
# pg-maintenance: scheduled dumps and VACUUM ANALYZE of the OMERO database.
# Entrypoint of the pg-maintenance image (runs as 999:999, writes to /backups).
#
# Connection: libpq environment PGHOST, PGUSER, PGDATABASE (required), PGPORT
# (optional). Password: PGPASSWORD_FILE, a file holding it (a compose secret such as
# /run/secrets/omero_db_password), so that it is never in the container's environment
# (docker inspect shows that); it is handed to libpq through a private pgpass file
# (PGPASSFILE, mode 0600, removed at exit). PGPASSFILE or PGPASSWORD given directly are
# left to libpq; PGPASSWORD_FILE with PGPASSWORD is a configuration error.
# Settings:
#   PG_MAINTENANCE_INTERVAL       seconds between cycles (default 86400)
#   PG_MAINTENANCE_KEEP           complete dumps kept, >= 1 (default 7)
#   PG_MAINTENANCE_VACUUM         true|false: vacuumdb --analyze after the dump (default true)
#   PG_MAINTENANCE_RETRIES        retries of a failed cycle before exiting 1 (default 5)
#   PG_MAINTENANCE_RETRY_DELAY    seconds before a retry (default 60)
#   PG_MAINTENANCE_READY_TIMEOUT  seconds a cycle waits for pg_isready (default 120)
#   PG_MAINTENANCE_DIR            backup directory (default /backups)
#   PG_MAINTENANCE_METRICS_DIR    directory of node-exporter's textfile collector: after
#                                 every cycle pg-maintenance.prom is written there
#                                 (atomically, mode 0644); empty: none (default)
# A bad setting exits 2 naming the variable. One cycle runs at start, then one every
# INTERVAL: pg_dump -Fc to DIR/<PGDATABASE>-<UTC YYYYmmddTHHMMSSZ>.dump (written as
# .partial, renamed once pg_dump and pg_restore --list succeed), removal of the oldest
# complete dumps beyond KEEP, then vacuumdb --analyze. A failed cycle is logged to
# stderr and retried after RETRY_DELAY, RETRIES times, then the process exits 1.
# Status (atomic) in DIR/.pg-maintenance-status: "starting", "ok <epoch> <file>" or
# "failed <epoch> <reason>"; read by pg-maintenance-healthcheck. The same in metrics
# (labels task="pg-maintenance", database): omero_stack_maintenance_last_run_timestamp_seconds,
# _last_success_timestamp_seconds, _last_run_ok (1|0), _last_duration_seconds,
# _interval_seconds and _last_dump_bytes, so a failed or stale run fires an alert. SIGTERM/SIGINT stop
# it at once (exit 0), removing a .partial being written.
set -euo pipefail

PROG=pg-maintenance
log() { printf '%s: %s\n' "$PROG" "$*"; }
err() { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; }
config_error() { printf '%s: configuration error: %s\n' "$PROG" "$*" >&2; exit 2; }

# int_setting VAR DEFAULT MIN: print the value of VAR (an integer >= MIN) or exit 2
int_setting() {
  local var="$1" def="$2" min="$3" val
  val="${!var:-$def}"
  if ! [[ "$val" =~ ^[0-9]{1,9}$ ]] || [ "$((10#$val))" -lt "$min" ]; then
    config_error "$var must be an integer >= $min, got '$val'"
  fi
  printf '%s\n' "$((10#$val))"
}

INTERVAL="$(int_setting PG_MAINTENANCE_INTERVAL 86400 1)"
KEEP="$(int_setting PG_MAINTENANCE_KEEP 7 1)"
RETRIES="$(int_setting PG_MAINTENANCE_RETRIES 5 0)"
RETRY_DELAY="$(int_setting PG_MAINTENANCE_RETRY_DELAY 60 0)"
READY_TIMEOUT="$(int_setting PG_MAINTENANCE_READY_TIMEOUT 120 1)"
case "${PG_MAINTENANCE_VACUUM:-true}" in
  true|True|TRUE|yes|1) VACUUM=true ;;
  false|False|FALSE|no|0) VACUUM=false ;;
  *) config_error "PG_MAINTENANCE_VACUUM must be true or false, got '${PG_MAINTENANCE_VACUUM}'" ;;
esac
for var in PGHOST PGUSER PGDATABASE; do
  [ -n "${!var:-}" ] || config_error "$var is not set"
done
if [[ "$PGDATABASE" == */* || "$PGDATABASE" == .* || "$PGDATABASE" == *[[:space:]]* ]]; then
  config_error "PGDATABASE '$PGDATABASE' cannot name a dump file (no '/', spaces or leading '.')"
fi
if [ -n "${PGPORT:-}" ]; then
  port="$(int_setting PGPORT 5432 1)"
  [ "$port" -le 65535 ] || config_error "PGPORT must be a port number, got '$PGPORT'"
fi
# password_file: make libpq read the password of $PGPASSWORD_FILE from a private pgpass
# file (its fields escape '\' and ':'); exits 2 when the file cannot be used
password_file() {
  local password="" escaped
  [ -z "${PGPASSWORD:-}" ] || config_error "set PGPASSWORD_FILE or PGPASSWORD, not both"
  if [ ! -f "$PGPASSWORD_FILE" ] || [ ! -r "$PGPASSWORD_FILE" ]; then
    config_error "PGPASSWORD_FILE $PGPASSWORD_FILE is not a readable file (uid $(id -u))"
  fi
  IFS= read -r password <"$PGPASSWORD_FILE" || true
  [ -n "$password" ] || config_error "PGPASSWORD_FILE $PGPASSWORD_FILE holds no password on its first line"
  escaped="${password//\\/\\\\}"
  escaped="${escaped//:/\\:}"
  PASSDIR="$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/pg-maintenance-pass.XXXXXX")"
  (umask 077 && printf '*:*:*:*:%s\n' "$escaped" >"$PASSDIR/pgpass")
  export PGPASSFILE="$PASSDIR/pgpass"
  unset PGPASSWORD_FILE
}
PASSDIR=""
trap '[ -z "$PASSDIR" ] || rm -rf -- "$PASSDIR"' EXIT
if [ -n "${PGPASSWORD_FILE:-}" ]; then
  password_file
fi

DIR="${PG_MAINTENANCE_DIR:-/backups}"
if ! { [ -d "$DIR" ] && [ -w "$DIR" ]; }; then
  config_error "PG_MAINTENANCE_DIR $DIR is not a writable directory (uid $(id -u))"
fi

STATUS="$DIR/.pg-maintenance-status"
METRICS_DIR="${PG_MAINTENANCE_METRICS_DIR:-}"
if [ -n "$METRICS_DIR" ] && ! { [ -d "$METRICS_DIR" ] && [ -w "$METRICS_DIR" ]; }; then
  config_error "PG_MAINTENANCE_METRICS_DIR $METRICS_DIR is not a writable directory (uid $(id -u))"
fi
umask 0027
child=""      # pid of the command being waited for
partial=""    # .partial file being written
errfile="$(mktemp "${TMPDIR:-/tmp}/pg-maintenance.XXXXXX")"

on_signal() {
  log "$1: stopping"
  if [ -n "$child" ]; then
    kill "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [ -n "$partial" ]; then
    rm -f -- "$partial"
    log "removed unfinished $partial"
  fi
  rm -f -- "$errfile" "$STATUS.tmp.$$"
  [ -z "$METRICS_DIR" ] || rm -f -- "$METRICS_DIR/.pg-maintenance.prom.$$"
  exit 0
}
trap 'on_signal SIGTERM' TERM
trap 'on_signal SIGINT' INT

write_status() {
  printf '%s\n' "$*" >"$STATUS.tmp.$$"
  mv -f -- "$STATUS.tmp.$$" "$STATUS"
}

# write_metrics OK STARTED: the textfile of the last cycle (OK 1|0, STARTED its epoch);
# the last success and dump size are carried over from the previous file on a failure
LAST_SUCCESS="" LAST_BYTES=""
labels="task=\"pg-maintenance\",database=\"${PGDATABASE//\"/}\""
write_metrics() {
  [ -n "$METRICS_DIR" ] || return 0
  local ok="$1" started="$2" now file tmp
  now="$(date -u +%s)"
  file="$METRICS_DIR/pg-maintenance.prom"
  tmp="$METRICS_DIR/.pg-maintenance.prom.$$"
  if ! metrics_text "$ok" "$((now - started))" "$now" >"$tmp" || ! chmod 0644 "$tmp" || ! mv -f -- "$tmp" "$file"; then
    err "cannot write $file"
    rm -f -- "$tmp"
  fi
}

# metrics_text OK DURATION NOW: the textfile's content (labels in $labels)
metrics_text() {
  local ok="$1" duration="$2" now="$3"
  {
    printf '# HELP omero_stack_maintenance_last_run_timestamp_seconds End of the last maintenance run.\n'
    printf '# TYPE omero_stack_maintenance_last_run_timestamp_seconds gauge\n'
    printf 'omero_stack_maintenance_last_run_timestamp_seconds{%s} %s\n' "$labels" "$now"
    printf '# HELP omero_stack_maintenance_last_run_ok 1 when the last maintenance run succeeded.\n'
    printf '# TYPE omero_stack_maintenance_last_run_ok gauge\n'
    printf 'omero_stack_maintenance_last_run_ok{%s} %s\n' "$labels" "$ok"
    printf '# HELP omero_stack_maintenance_last_duration_seconds Duration of the last run.\n'
    printf '# TYPE omero_stack_maintenance_last_duration_seconds gauge\n'
    printf 'omero_stack_maintenance_last_duration_seconds{%s} %s\n' "$labels" "$duration"
    printf '# HELP omero_stack_maintenance_interval_seconds Seconds between runs.\n'
    printf '# TYPE omero_stack_maintenance_interval_seconds gauge\n'
    printf 'omero_stack_maintenance_interval_seconds{%s} %s\n' "$labels" "$INTERVAL"
    if [ -n "$LAST_SUCCESS" ]; then
      printf '# HELP omero_stack_maintenance_last_success_timestamp_seconds End of the last successful run.\n'
      printf '# TYPE omero_stack_maintenance_last_success_timestamp_seconds gauge\n'
      printf 'omero_stack_maintenance_last_success_timestamp_seconds{%s} %s\n' "$labels" "$LAST_SUCCESS"
      printf '# HELP omero_stack_maintenance_last_dump_bytes Size of the last complete dump.\n'
      printf '# TYPE omero_stack_maintenance_last_dump_bytes gauge\n'
      printf 'omero_stack_maintenance_last_dump_bytes{%s} %s\n' "$labels" "${LAST_BYTES:-0}"
    fi
  }
}

# run CMD...: run in the background (so that a signal is handled at once), stderr
# to $errfile; returns the command's status
run() {
  local rc=0
  "$@" 2>"$errfile" &
  child=$!
  wait "$child" || rc=$?
  child=""
  return "$rc"
}

# pause SECONDS: an interruptible sleep
pause() { run sleep "$1" || true; }

# step_failed WHAT RC: log the failure with the command's stderr, set REASON
step_failed() {
  local what="$1" rc="$2" line last=""
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    err "$what: $line"
    last="$line"
  done <"$errfile"
  REASON="$what failed (exit $rc)${last:+: $last}"
  err "$REASON"
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT)) rc
  while :; do
    rc=0
    run pg_isready -q -t 5 || rc=$?
    [ "$rc" -eq 0 ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      REASON="server ${PGHOST}:${PGPORT:-5432} not ready after ${READY_TIMEOUT}s (pg_isready exit $rc)"
      err "$REASON"
      return 1
    fi
    pause 2
  done
}

# prune: keep the newest KEEP complete dumps of PGDATABASE (names sort by time)
prune() {
  local -a dumps
  local f n
  shopt -s nullglob
  mapfile -t dumps < <(printf '%s\n' \
    "$DIR/$PGDATABASE"-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z.dump \
    | { grep -v '^$' || true; } | LC_ALL=C sort)
  shopt -u nullglob
  n=$((${#dumps[@]} - KEEP))
  for f in "${dumps[@]:0:$((n > 0 ? n : 0))}"; do
    if rm -f -- "$f"; then
      log "removed old dump $f"
    else
      REASON="cannot remove old dump $f"
      err "$REASON"
      return 1
    fi
  done
}

# cycle: one dump + prune + vacuum; on failure REASON says why and it returns 1
cycle() {
  local stamp final size rc=0
  wait_ready || return 1
  stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  final="$DIR/$PGDATABASE-$stamp.dump"
  while [ -e "$final" ]; do   # same second as the previous dump (a quick retry)
    pause 1
    stamp="$(date -u +%Y%m%dT%H%M%SZ)"
    final="$DIR/$PGDATABASE-$stamp.dump"
  done
  partial="$final.partial"
  log "dump of database $PGDATABASE on ${PGHOST}:${PGPORT:-5432} to $partial"
  run pg_dump -Fc --no-password -f "$partial" "$PGDATABASE" || rc=$?
  if [ "$rc" -ne 0 ]; then
    step_failed "pg_dump of $PGDATABASE" "$rc"
    rm -f -- "$partial"; partial=""
    return 1
  fi
  run pg_restore --list -f /dev/null "$partial" || rc=$?
  if [ "$rc" -ne 0 ]; then
    step_failed "pg_restore --list of $partial" "$rc"
    rm -f -- "$partial"; partial=""
    return 1
  fi
  if ! mv -f -- "$partial" "$final"; then
    REASON="cannot rename $partial to $final"
    err "$REASON"
    rm -f -- "$partial"; partial=""
    return 1
  fi
  partial=""
  size="$(stat -c %s -- "$final")"
  DUMP_BYTES="$size"
  log "dump $final ($size bytes) ok"
  DUMP="$final"
  prune || return 1
  if [ "$VACUUM" = true ]; then
    run vacuumdb --analyze --quiet --no-password --dbname "$PGDATABASE" || rc=$?
    if [ "$rc" -ne 0 ]; then
      step_failed "vacuumdb --analyze of $PGDATABASE" "$rc"
      return 1
    fi
    log "vacuum analyze of $PGDATABASE ok"
  fi
}

# one instance per directory; unfinished dumps of a killed instance are removed
exec 9>"$DIR/.pg-maintenance.lock"
if ! flock -n 9; then
  err "another pg-maintenance holds $DIR/.pg-maintenance.lock"
  exit 1
fi
for f in "$DIR/$PGDATABASE"-*.dump.partial; do
  [ -e "$f" ] || continue
  rm -f -- "$f" && log "removed stale $f"
done

# the last success of an earlier instance (a recreated container) stays known
if [ -n "$METRICS_DIR" ] && [ -r "$METRICS_DIR/pg-maintenance.prom" ]; then
  LAST_SUCCESS="$(awk '/^omero_stack_maintenance_last_success_timestamp_seconds[{ ]/ {print $NF}' \
    "$METRICS_DIR/pg-maintenance.prom")"
  LAST_BYTES="$(awk '/^omero_stack_maintenance_last_dump_bytes[{ ]/ {print $NF}' "$METRICS_DIR/pg-maintenance.prom")"
  [[ "$LAST_SUCCESS" =~ ^[0-9]+$ ]] || LAST_SUCCESS=""
  [[ "$LAST_BYTES" =~ ^[0-9]+$ ]] || LAST_BYTES=""
fi
write_status starting
log "started: database $PGDATABASE on ${PGHOST}:${PGPORT:-5432}, every ${INTERVAL}s, keep $KEEP, vacuum $VACUUM, dir $DIR"
failures=0
while :; do
  REASON="" DUMP="" DUMP_BYTES=""
  started="$(date -u +%s)"
  if cycle; then
    failures=0
    write_status "ok $(date -u +%s) $DUMP"
    LAST_SUCCESS="$(date -u +%s)" LAST_BYTES="$DUMP_BYTES"
    write_metrics 1 "$started"
    log "cycle ok; next in ${INTERVAL}s"
    pause "$INTERVAL"
  else
    failures=$((failures + 1))
    write_status "failed $(date -u +%s) ${REASON:-unknown error}"
    write_metrics 0 "$started"
    if [ "$failures" -gt "$RETRIES" ]; then
      err "cycle failed $failures times in a row (PG_MAINTENANCE_RETRIES=$RETRIES): exiting"
      rm -f -- "$errfile"
      exit 1
    fi
    err "cycle failed; retry $failures of $RETRIES in ${RETRY_DELAY}s"
    pause "$RETRY_DELAY"
  fi
done
