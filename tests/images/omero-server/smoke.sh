#!/usr/bin/env bash
# Usage: tests/images/omero-server/smoke.sh
# End-to-end check of the OMERO.server stand-in image against the PostgreSQL test image,
# on a private network, with omero-py clients run inside the stand-in container (the
# collection's way: omero.client(host, port, pmap) over the default ssl router, 4064):
#  1. start with CONFIG_omero_db_* (host "database") and a *.omero file that says
#     otherwise: 4064 opens first and logins answer "internal server error" while
#     "Blitz starts"; then root logs in with ROOTPASS over ssl, a wrong password answers
#     "Password check failed"; `omero config get` shows the CONFIG_ values (they win over
#     the file); Blitz-0.log has the db values and the login results; IAdmin rules;
#     createClient(secure=False) joins the session over omero.router.insecure (tcp 4063);
#  2. scripts: uploadOfficialScript into a bind-mounted lib/scripts folder and into the
#     image's own folder; "Path already exists" for a registered path;
#  3. recreate with the mount (and another ROOTPASS): the mounted script keeps its id,
#     the other one is gone, root's password is unchanged; recreate without the mount:
#     the mounted script is gone too; SIGTERM stops the server at once;
#  4. without CONFIG_omero_db_host: omero.db.host becomes "db" (over the *.omero value)
#     and the container exits non-zero after the (shortened) wait;
#  5. a wrong database password: exits non-zero, its log says the password was refused.
# The collection's omero_group/omero_user/omero_script modules run against it too
# (smoke-modules.yml, docker connection): changed, then unchanged; during the startup
# phase they fail (the error_kind they report is logged, not asserted: that is the
# collection's business, see omero_client.classify_exception).
# Everything it starts is removed on exit; images stay cached (keyed).
source "$(dirname "$0")/../../../tools/common.sh"
here="$REPO_ROOT/tests/images/omero-server"
venv="$("$REPO_ROOT/tools/venv.sh" test)"
ANSIBLE_COLLECTIONS_PATH="$(collections_dir)"
export PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH ANSIBLE_NOCOLOR=1 ANSIBLE_DEPRECATION_WARNINGS=0
pg_image="${OMERO_STACK_TEST_POSTGRES_IMAGE:-omero-stack-test/postgres:17}"
started=$SECONDS

image="$("$here/build.sh")"
docker image inspect "$pg_image" >/dev/null 2>&1 || "$REPO_ROOT/tests/images/services/build.sh" postgres >/dev/null

run_id="omero-server-smoke-$$-$RANDOM"
net="$run_id"
db="$run_id-db"
tmp="$(mktemp -d)"
cleanup() {
  local ids
  mapfile -t ids < <(docker ps -aq --filter "label=org.omero-stack.smoke=$run_id")
  [ "${#ids[@]}" -eq 0 ] || docker rm -f -v "${ids[@]}" >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
current=""
fail() {
  if [ -n "$current" ]; then
    log "last log lines of $current:"
    docker logs --tail 40 "$current" >&2 2>&1 || true
  fi
  die "$*"
}

DB_USER=omero_site DB_NAME=omero_site_db DB_PASS="db-secret-$RANDOM" ROOTPASS="root-secret-$RANDOM"
docker network create "$net" >/dev/null
docker run -d --name "$db" --label "org.omero-stack.smoke=$run_id" --network "$net" --network-alias database \
  -e "POSTGRES_USER=$DB_USER" -e "POSTGRES_PASSWORD=$DB_PASS" -e "POSTGRES_DB=$DB_NAME" "$pg_image" >/dev/null
for _ in $(seq 1 60); do
  docker exec "$db" pg_isready -h 127.0.0.1 -U "$DB_USER" -d "$DB_NAME" >/dev/null 2>&1 && break
  sleep 1
done
docker exec "$db" pg_isready -h 127.0.0.1 -U "$DB_USER" -d "$DB_NAME" >/dev/null || { current="$db"; fail "PostgreSQL did not start"; }
log "PostgreSQL up ($db)"

# A *.omero file that points elsewhere: CONFIG_* variables must win over it.
mkdir -p "$tmp/config" "$tmp/site_scripts"
cat >"$tmp/config/10-site.omero" <<'OMERO'
config set omero.db.host from-the-file
config set omero.smoke.from_file loaded
OMERO
chmod 0644 "$tmp/config/10-site.omero"
chown 1000:1000 "$tmp/site_scripts"
mount_args=(-v "$tmp/site_scripts:/opt/omero/server/OMERO.server/lib/scripts/omero/site_scripts")

start() { # name [docker run args...]
  local name="$1"; shift  # later -e options override the defaults here
  current="$name"
  docker run -d --name "$name" --label "org.omero-stack.smoke=$run_id" --network "$net" \
    -v "$tmp/config:/opt/omero/server/config:ro" -e STANDIN_STARTUP_SECONDS=8 -e "ROOTPASS=$ROOTPASS" "$@" "$image" >/dev/null
}
start_ok() { # name [docker run args...]: with the right database settings
  local name="$1"; shift
  start "$name" -e CONFIG_omero_db_host=database -e "CONFIG_omero_db_user=$DB_USER" \
    -e "CONFIG_omero_db_name=$DB_NAME" -e "CONFIG_omero_db_pass=$DB_PASS" "$@"
}
client() { # container command args... -> one JSON line
  docker exec -i "$1" /opt/omero/server/venv3/bin/python - "${@:2}" <"$here/smoke_client.py"
}
modules() { # container extra-args... -> the SMOKE-RESULT json of smoke-modules.yml
  # The one way tests run ansible-playbook: tests/helpers/playbook.py (json callback).
  python3 "$REPO_ROOT/tests/helpers/playbook.py" --log "$tmp/play.log" --result 'SMOKE-RESULT ' \
    "$here/smoke-modules.yml" "$1," -e "smoke_password=$ROOTPASS" "${@:2}" \
    || { cat "$tmp/play.log" >&2; fail "smoke-modules.yml failed"; }
}
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$1" "$2"; }
# Whole logs into a variable first: `docker logs | grep -q` fails under pipefail when
# grep stops reading early (SIGPIPE).
logs_have() { local out; out="$(docker logs "$1" 2>&1)"; grep -qF "$2" <<<"$out"; }
fatal_line() { local out; out="$(docker logs "$1" 2>&1)"; grep -F ') FATAL: ' <<<"$out" | sed 's/.*) FATAL: //' | cut -c1-90; }
wait_log() { # container text seconds
  for _ in $(seq 1 "$3"); do
    logs_have "$1" "$2" && return 0
    [ "$(docker inspect -f '{{.State.Running}}' "$1")" = true ] || fail "$1 exited before logging '$2'"
    sleep 1
  done
  fail "$1 did not log '$2' within $3 s"
}
# The deadlines are generous: under CI's load (2 cores, other scenarios beside) a start
# once took 90 s to open its ports; what is asserted is the order of the phases.
wait_login() { # container: until root logs in; prints seconds waited
  local res
  for i in $(seq 1 180); do
    res="$(client "$1" login root "$ROOTPASS")"
    [ "$(field "$res" ok)" = True ] && { echo "$i"; return 0; }
    sleep 1
  done
  fail "root never logged in on $1: $res"
}
wait_exit() { # container seconds -> exit code
  for _ in $(seq 1 "$2"); do
    [ "$(docker inspect -f '{{.State.Running}}' "$1")" = false ] && { docker inspect -f '{{.State.ExitCode}}' "$1"; return 0; }
    sleep 1
  done
  fail "$1 still running after $2 s"
}

# --- 1. start, startup phase, logins, configuration ----------------------------------
s1="$run_id-server1"
start_ok "$s1" "${mount_args[@]}" -e 'CONFIG_omero_router_insecure=OMERO.Glacier2/router:tcp -p 4063 -h @omero.host@'
wait_log "$s1" "Glacier2 router listening" 180
docker exec "$s1" bash -c '</dev/tcp/127.0.0.1/4064' || fail "4064 is not open"
res="$(client "$s1" login root "$ROOTPASS")"
{ [ "$(field "$res" ok)" = False ] && [ "$(field "$res" reason)" = "internal server error" ]; } \
  || fail "login during startup: expected 'internal server error', got $res"
log "startup phase: 4064 open, login answers: $(field "$res" type) $(field "$res" reason)"
waited="$(wait_login "$s1")"
res="$(client "$s1" login root "$ROOTPASS")"
{ [ "$(field "$res" user)" = root ] && [ "$(field "$res" admin)" = True ] && [ "$(field "$res" session)" = True ]; } \
  || fail "root login: $res"
[[ "$(field "$res" router)" == "OMERO.Glacier2/router:ssl -p 4064 -h 127.0.0.1" ]] || fail "not the ssl router: $res"
log "root logged in over $(field "$res" router) after ~${waited} s of retries"
res="$(client "$s1" login root wrong-password)"
[[ "$(field "$res" reason)" == "Password check failed for 'root'"* ]] || fail "wrong password: $res"
log "wrong password: $(field "$res" type) $(field "$res" reason)"
res="$(client "$s1" insecure "$ROOTPASS")"
{ [ "$(field "$res" ok)" = True ] && [ "$(field "$res" router)" = "OMERO.Glacier2/router:tcp -p 4063 -h 127.0.0.1" ]; } \
  || fail "createClient(secure=False): $res"
log "secure=false: joined the session over $(field "$res" router) (omero.router.insecure)"

cfg="$(docker exec "$s1" /opt/omero/server/venv3/bin/omero config get)"
for want in "omero.db.host=database" "omero.db.user=$DB_USER" "omero.db.name=$DB_NAME" "omero.smoke.from_file=loaded"; do
  grep -qxF "$want" <<<"$cfg" || { printf '%s\n' "$cfg" >&2; fail "omero config get lacks $want"; }
done
[ "$(docker exec "$s1" /opt/omero/server/venv3/bin/omero config get omero.db.pass)" = "$DB_PASS" ] \
  || fail "omero.db.pass is not the CONFIG_omero_db_pass value"
log "omero config get: db host/user/name/pass from CONFIG_*, the *.omero file loaded first"
blitz="$(docker exec "$s1" cat /opt/omero/server/OMERO.server/var/log/Blitz-0.log)"
for want in "Database: host=database port=5432 name=$DB_NAME user=$DB_USER" "Initialising database" \
            "Login of 'root' refused: server is starting" "Login of 'root' succeeded" \
            "Login of 'root' refused: password check failed"; do
  grep -qF "$want" <<<"$blitz" || { printf '%s\n' "$blitz" >&2; fail "Blitz-0.log lacks: $want"; }
done
grep -qF "$ROOTPASS" <<<"$blitz" && fail "Blitz-0.log holds the root password"
[ "$(docker exec "$s1" id -u):$(docker exec "$s1" id -g)" = "1000:1000" ] || fail "not running as 1000:1000"
[ "$(docker exec "$s1" stat -c %U /opt/omero/server/OMERO.server/lib/scripts/omero/util_scripts/Example.py)" = omero-server ] \
  || fail "official scripts are not owned by omero-server"
[ "$(docker exec "$s1" stat -c %U /opt/omero/server/venv3)" = root ] || fail "the venv is not root's"
docker exec "$s1" psql --version >/dev/null || fail "no psql in the image"
log "Blitz-0.log has the db values and each login result; uid 1000, venv root's, psql present"

res="$(client "$s1" admin "$ROOTPASS")"
[ "$(field "$res" ok)" = True ] || fail "IAdmin checks: $res"
python3 -c 'import json, sys; [print("   ", c) for c in json.loads(sys.argv[1])["checks"]]' "$res" >&2
res="$(client "$s1" login smoke-user pw-2)"
{ [ "$(field "$res" ok)" = True ] && [ "$(field "$res" group)" = smoke-lab ]; } || fail "smoke-user login: $res"
log "IAdmin: groups, users, server rules; smoke-user logs in with its new password"

# --- 2. scripts -------------------------------------------------------------------------
before="$(client "$s1" scripts "$ROOTPASS")"
example_id="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["scripts"]["/omero/util_scripts/Example.py"]["id"])' "$before")"
kept="$(field "$(client "$s1" upload "$ROOTPASS" /omero/site_scripts/Smoke.py '# kept on the host')" id)"
lost="$(field "$(client "$s1" upload "$ROOTPASS" /omero/util_scripts/Smoke_Layer.py '# in the layer')" id)"
[[ "$kept" =~ ^[0-9]+$ && "$lost" =~ ^[0-9]+$ ]] || fail "uploads did not return ids ($kept, $lost)"
res="$(client "$s1" upload "$ROOTPASS" /omero/site_scripts/Smoke.py '# again')"
[[ "$(field "$res" message)" == "Path already exists"* ]] || fail "a second upload: $res"
[ -f "$tmp/site_scripts/Smoke.py" ] || fail "the upload is not in the mounted folder"
log "uploaded Smoke.py (id $kept, mounted) and Smoke_Layer.py (id $lost, container layer); re-upload refused"
all_changed() { python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(sorted(set(d.values())))' "$1"; }
res="$(modules "$s1")"
[ "$(all_changed "$res")" = "[True]" ] || fail "first module run: $res"
res="$(modules "$s1")"
[ "$(all_changed "$res")" = "[False]" ] || fail "second module run changed something: $res"
res="$(modules "$s1" -e smoke_private_permissions=read-only)"
{ [ "$(field "$res" groups)" = True ] && [ "$(field "$res" users)" = False ]; } || fail "Chmod2 run: $res"
[ "$(client "$s1" perms "$ROOTPASS" mod-private)" = '"rwr---"' ] || fail "Chmod2 did not change mod-private"
log "the collection's omero_group/omero_user/omero_script modules: first run changed, second unchanged, Chmod2 to read-only"
stop_start=$SECONDS
docker stop -t 30 "$s1" >/dev/null
[ $((SECONDS - stop_start)) -le 5 ] || fail "SIGTERM did not stop the server promptly"
log "docker stop: exited $(docker inspect -f '{{.State.ExitCode}}' "$s1") in $((SECONDS - stop_start)) s"
docker rm -f -v "$s1" >/dev/null

# --- 3. recreation ------------------------------------------------------------------------
s2="$run_id-server2"
start_ok "$s2" "${mount_args[@]}" -e ROOTPASS=another-root-password -e STANDIN_STARTUP_SECONDS=25
wait_log "$s2" "Glacier2 router listening" 180
res="$(modules "$s2" -e smoke_probe=true)"
[ "$(field "$res" failed)" = True ] || fail "a module logged in while the server was starting: $res"
log "a module during the startup phase: error_kind=$(field "$res" error_kind): $(field "$res" msg | cut -c1-120)"
wait_login "$s2" >/dev/null
res="$(client "$s2" login root another-root-password)"
[[ "$(field "$res" reason)" == "Password check failed"* ]] || fail "ROOTPASS changed root's password on an existing schema: $res"
after="$(client "$s2" scripts "$ROOTPASS")"
python3 - "$after" "$kept" "$lost" "$example_id" <<'PY' || fail "scripts after recreation: $after"
import json, sys
s = json.loads(sys.argv[1])["scripts"]
assert s["/omero/site_scripts/Smoke.py"]["id"] == int(sys.argv[2]), s
assert "/omero/util_scripts/Smoke_Layer.py" not in s, s
assert s["/omero/util_scripts/Example.py"]["id"] == int(sys.argv[4]), s
assert "/omero/util_scripts/Combine_Images.py" in s and "/omero/export_scripts/Make_Movie.py" in s, s
assert int(sys.argv[3]) not in [v["id"] for v in s.values()], s
PY
logs_have "$s2" "Database schema exists" || fail "the database step re-initialised"
log "recreated with the mount: Smoke.py keeps id $kept, Smoke_Layer.py is gone, root password unchanged"
docker rm -f -v "$s2" >/dev/null
s3="$run_id-server3"
start_ok "$s3"
wait_login "$s3" >/dev/null
after="$(client "$s3" scripts "$ROOTPASS")"
grep -qF Smoke.py <<<"$after" && fail "Smoke.py still listed without its mount: $after"
log "recreated without the mount: Smoke.py is gone"
docker rm -f -v "$s3" >/dev/null

# --- 4. no CONFIG_omero_db_host ----------------------------------------------------------------
s4="$run_id-server4"
start "$s4" -e "CONFIG_omero_db_user=$DB_USER" -e "CONFIG_omero_db_name=$DB_NAME" -e "CONFIG_omero_db_pass=$DB_PASS" \
  -e STANDIN_DB_WAIT_TRIES=3 -e STANDIN_DB_WAIT_DELAY=1
rc="$(wait_exit "$s4" 60)"
[ "$rc" != 0 ] || fail "without CONFIG_omero_db_host the container exited 0"
docker cp "$s4:/opt/omero/server/OMERO.server/etc/grid/config.xml" "$tmp/config.xml"
grep -qF '<property name="omero.db.host" value="db"' "$tmp/config.xml" || { cat "$tmp/config.xml" >&2; fail "omero.db.host is not db"; }
logs_have "$s4" "PostgreSQL at db:5432 still not reachable" || fail "no clear log line for the unreachable db"
log "without CONFIG_omero_db_host: omero.db.host=db (over the *.omero file), exit $rc: $(fatal_line "$s4")"

# --- 5. wrong database password ------------------------------------------------------------------
s5="$run_id-server5"
start "$s5" -e CONFIG_omero_db_host=database -e "CONFIG_omero_db_user=$DB_USER" -e "CONFIG_omero_db_name=$DB_NAME" \
  -e CONFIG_omero_db_pass=not-the-password -e STANDIN_DB_WAIT_TRIES=2 -e STANDIN_DB_WAIT_DELAY=1
rc="$(wait_exit "$s5" 60)"
[ "$rc" != 0 ] || fail "a wrong database password exited 0"
logs_have "$s5" "PostgreSQL refused the password of user $DB_USER" || fail "no clear log line for the refused password"
log "wrong database password: exit $rc: $(fatal_line "$s5")"
current=""
log "OMERO.server stand-in smoke test passed in $((SECONDS - started)) s ($image)"
