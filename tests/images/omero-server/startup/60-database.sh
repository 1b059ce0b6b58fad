#!/usr/bin/env bash
# Startup step 60: the official image's database step, after 50-config.py.
#  - host: CONFIG_omero_db_host or, when that is unset, "db", which is also written
#    with `omero config set omero.db.host db` (overwriting any *.omero value);
#  - user, name, password: CONFIG_omero_db_user/_name/_pass, default "omero";
#  - wait for PostgreSQL with psql (STANDIN_DB_WAIT_TRIES tries, default 50, every
#    STANDIN_DB_WAIT_DELAY seconds, default 1, as the official script) and exit 1 when
#    it never answers or refuses the password;
#  - empty database: create the stand-in's schema and set root's password from
#    ROOTPASS (default "omero"); existing schema: leave it and root's password alone.
set -euo pipefail
omero=/opt/omero/server/venv3/bin/omero
logfile="${OMERODIR%/}/var/log/Blitz-0.log"
log() {
  local line
  line="$(date '+%Y-%m-%d %H:%M:%S,%3N') INFO  [        omero.standin.database] (startup   ) $*"
  printf '%s\n' "$line"
  printf '%s\n' "$line" >>"$logfile" 2>/dev/null || true
}
cd /opt/omero/server

if [ -n "${CONFIG_omero_db_host:-}" ]; then
  DBHOST="$CONFIG_omero_db_host"
else
  DBHOST=db
  "$omero" config set omero.db.host "$DBHOST"
fi
DBPORT="${CONFIG_omero_db_port:-5432}"
DBUSER="${CONFIG_omero_db_user:-omero}"
DBNAME="${CONFIG_omero_db_name:-omero}"
DBPASS="${CONFIG_omero_db_pass:-omero}"
ROOTPASS="${ROOTPASS:-omero}"
tries="${STANDIN_DB_WAIT_TRIES:-50}"
delay="${STANDIN_DB_WAIT_DELAY:-1}"
log "Database: host=$DBHOST port=$DBPORT name=$DBNAME user=$DBUSER"

export PGPASSWORD="$DBPASS" PGCONNECT_TIMEOUT=5
i=0
while ! err="$(psql -w -h "$DBHOST" -p "$DBPORT" -U "$DBUSER" -d "$DBNAME" -tAc 'select 1' 2>&1 >/dev/null </dev/null)"; do
  i=$((i + 1))
  err="$(printf '%s' "$err" | tr '\n' ' ')"
  # Every line names the cause, so any tail of the log shows it.
  case "$err" in
    *"password authentication failed"*) why="PostgreSQL refused the password of user $DBUSER" ;;
    *) why="PostgreSQL at $DBHOST:$DBPORT still not reachable" ;;
  esac
  if [ "$i" -ge "$tries" ]; then
    log "FATAL: $why (database $DBNAME, $i tries), giving up: $err"
    exit 1
  fi
  log "waiting ($i/$tries): $why (database $DBNAME): $err"
  sleep "$delay"
done
log "postgres connection established"

# A read-only server (omero.cluster.read_only.db, or the older omero.cluster.read_only)
# never creates or upgrades the schema: the read-write server does.
DB_READ_ONLY=false
config="$("$omero" config get 2>/dev/null || true)"
case $'\n'"$config"$'\n' in
  *$'\n'omero.cluster.read_only.db=true$'\n'* | *$'\n'omero.cluster.read_only=true$'\n'*) DB_READ_ONLY=true ;;
esac
export DBHOST DBPORT DBUSER DBNAME DBPASS ROOTPASS DB_READ_ONLY
state="$(PYTHONPATH=/opt/omero/standin:/opt/omero/standin/lib /opt/omero/server/venv3/bin/python -m omero_standin.dbinit)"
case "$state" in
  initialised) log "Initialising database: stand-in schema created, root password set from ROOTPASS" ;;
  existing) log "Database schema exists: left as it is (root password unchanged)" ;;
  missing) log "FATAL: read-only server (omero.cluster.read_only.db) and the database has no OMERO schema: start the read-write server first"; exit 1 ;;
  *) log "FATAL: unexpected database initialisation result: $state"; exit 1 ;;
esac
