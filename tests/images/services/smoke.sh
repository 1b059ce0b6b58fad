#!/usr/bin/env bash
# Usage: tests/images/services/smoke.sh [--no-build]
# Smoke test of the test service images (README.md): builds them (cached, see
# build.sh) unless --no-build, starts each on a private user-defined network (no
# published port), checks that it does its job for real, removes everything it
# started (trap), and exits non-zero when any check fails.
source "$(dirname "$0")/../../../tools/common.sh"
here="$REPO_ROOT/tests/images/services"

build=1
[ "${1:-}" = --no-build ] && build=
if [ -n "$build" ]; then
  mapfile -t tags < <("$here/build.sh")
else
  tags=()
  for d in "$here"/*/Dockerfile; do
    n="$(basename "$(dirname "$d")")"
    tags+=("omero-stack-test/$n:$(sed -n 's/^ARG VERSION=\([^[:space:]]*\).*/\1/p' "$d" | head -n1)")
  done
fi
declare -A img
for t in "${tags[@]}"; do n="${t#omero-stack-test/}"; img[${n%%:*}]="$t"; done
for n in postgres redis prometheus blackbox-exporter node-exporter postgres-exporter redis-exporter alertmanager; do
  [ -n "${img[$n]:-}" ] || die "no image for $n"
  docker image inspect "${img[$n]}" >/dev/null 2>&1 || die "${img[$n]} is missing (run build.sh)"
done

run="omero-smoke-$$"
net="$run"
tmp="$(mktemp -d)"
cleanup() {
  local ids
  ids="$(docker ps -aq --filter "label=omero-stack-test.smoke=$run")"
  # shellcheck disable=SC2086
  [ -z "$ids" ] || docker rm -f -v $ids >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

failures=0
pass() { printf '  ok    %s\n' "$1" >&2; }
fail() { printf '  FAIL  %s\n' "$1" >&2; failures=$((failures + 1)); }
# check DESCRIPTION COMMAND...: the command must succeed
check() { local d="$1"; shift; if "$@" >"$tmp/out" 2>&1; then pass "$d"; else fail "$d"; sed 's/^/        /' "$tmp/out" | tail -n 8 >&2; fi; }
# check_not DESCRIPTION COMMAND...: the command must fail
check_not() { local d="$1"; shift; if "$@" >"$tmp/out" 2>&1; then fail "$d"; sed 's/^/        /' "$tmp/out" | tail -n 8 >&2; else pass "$d"; fi; }
# equals EXPECTED COMMAND...: the command's output (trimmed) is EXPECTED
equals() { local want="$1" got; shift; got="$("$@" 2>&1)" || { echo "$got"; return 1; }; got="$(echo "$got" | tr -d '[:space:]')"; [ "$got" = "$want" ] || { echo "expected '$want', got '$got'"; return 1; }; }
contains() { local want="$1" got; shift; got="$("$@" 2>&1)" || true; grep -qF -- "$want" <<<"$got" || { echo "'$want' not in:"; echo "$got" | tail -n 5; return 1; }; }
# wait_for SECONDS COMMAND...: retry until the command succeeds
wait_for() { local until=$((SECONDS + $1)); shift; until "$@" >/dev/null 2>&1; do [ "$SECONDS" -lt "$until" ] || return 1; sleep 1; done; }

# start NAME IMAGE [docker run options...] -- [command...]
start() {
  local name="$1" image="$2"; shift 2
  local opts=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  # no-new-privileges, TZ: as the collection's compose manifest runs every service
  docker run -d --name "$run-$name" --hostname "$name" --network "$net" --network-alias "$name" \
    --security-opt no-new-privileges:true -e TZ=UTC \
    --label "omero-stack-test.smoke=$run" "${opts[@]}" "$image" "$@" >/dev/null
}
c() { printf '%s-%s' "$run" "$1"; }
uid_of() { docker exec "$(c "$1")" cat /proc/1/status | awk '/^Uid:/ {print $2}'; }
# client IMAGE COMMAND...: one-off container on the network
client() { local image="$1"; shift; docker run --rm --network "$net" --label "omero-stack-test.smoke=$run" "$image" "$@"; }
# fetch URL: HTTP GET from inside the network (busybox wget of the prometheus image)
fetch() { docker exec "$(c prometheus)" wget -q -T 5 -O - "$1"; }
# has_line URL LINE: the page has exactly this line
# (read whole first: grep -q closing the pipe early would fail wget under pipefail)
has_line() { local page; page="$(fetch "$1")" || return 1; grep -qxF -- "$2" <<<"$page"; }
# has_text URL TEXT: the page contains TEXT
has_text() { local page; page="$(fetch "$1")" || return 1; grep -qF -- "$2" <<<"$page"; }
# lacks_text URL TEXT: the page is served and does not contain TEXT
lacks_text() { local page; page="$(fetch "$1")" || return 1; ! grep -qF -- "$2" <<<"$page"; }

docker network create --label "omero-stack-test.smoke=$run" "$net" >/dev/null

# ---------------------------------------------------------------- secrets and config
pg_pw='Smoke-pg-password-0123456789'
pg2_pw='Smoke-plugin-password-9876543210'
redis_pw='Smoke-redis-password-0123456789'
# secret files as the collection writes them: 0600, owned by the uid of the consumer
printf '%s' "$pg_pw" >"$tmp/pg_password"
cp "$tmp/pg_password" "$tmp/pg_password_exporter"
chmod 0600 "$tmp/pg_password" "$tmp/pg_password_exporter"
chown 999:999 "$tmp/pg_password"
chown 65534:65534 "$tmp/pg_password_exporter"
mkdir -p "$tmp/initdb"
cat >"$tmp/initdb/10-schema.sql" <<'EOF'
CREATE TABLE smoke (id integer PRIMARY KEY, note text);
INSERT INTO smoke VALUES (1, 'written by docker-entrypoint-initdb.d');
EOF
cat >"$tmp/initdb/20-role.sh" <<'EOF'
# sourced (not executable), as the official image does; uses its "${psql[@]}"
"${psql[@]}" --set ON_ERROR_STOP=1 <<-'EOSQL'
	CREATE ROLE smoke_reader LOGIN;
EOSQL
EOF
chmod 0644 "$tmp/initdb/"*
cat >"$tmp/prometheus.yml" <<'EOF'
global:
  scrape_interval: 2s
  evaluation_interval: 2s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["alertmanager:9093"]
scrape_configs:
  - job_name: alertmanager
    static_configs:
      - targets: ["alertmanager:9093"]
  - job_name: prometheus
    static_configs:
      - targets: ["localhost:9090"]
  - job_name: node
    static_configs:
      - targets: ["node-exporter:9100"]
  - job_name: postgres
    static_configs:
      - targets: ["postgres-exporter:9187", "postgres-exporter-plugin:9187"]
  - job_name: redis
    static_configs:
      - targets: ["redis-exporter:9121"]
  - job_name: blackbox
    static_configs:
      - targets: ["blackbox-exporter:9115"]
  - job_name: blackbox-http
    metrics_path: /probe
    params:
      module: [http_2xx]
    static_configs:
      - targets: ["http://prometheus:9090/-/healthy"]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: blackbox-exporter:9115
EOF
# the collection's alertmanager.yml: everything to a null receiver
cat >"$tmp/alertmanager.yml" <<'EOF'
route:
  receiver: 'null'
receivers:
- name: 'null'
EOF
chmod 0644 "$tmp/prometheus.yml" "$tmp/alertmanager.yml"
expected_targets=8

# ---------------------------------------------------------------- start everything
log "starting containers on network $net"
start postgres "${img[postgres]}" \
  -e POSTGRES_USER=omero -e POSTGRES_DB=omero -e POSTGRES_PASSWORD_FILE=/run/secrets/pg_password \
  -v "$tmp/pg_password:/run/secrets/pg_password:ro" -v "$tmp/initdb:/docker-entrypoint-initdb.d:ro" \
  -- postgres -c shared_buffers=48MB -c max_connections=50
start postgres-plugin "${img[postgres]}" \
  -e POSTGRES_PASSWORD="$pg2_pw" -e PGPORT=5433 -e PGDATA=/var/lib/postgresql/data/pgdata \
  -- -c log_min_messages=warning
start redis "${img[redis]}" -- redis-server --requirepass "$redis_pw" --appendonly yes
start redis-open "${img[redis]}" -- --save 60 1
start prometheus "${img[prometheus]}" -v "$tmp/prometheus.yml:/etc/prometheus/prometheus.yml:ro" \
  -- --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus \
     --storage.tsdb.retention.time=1d --web.enable-otlp-receiver
start blackbox-exporter "${img[blackbox-exporter]}"
start alertmanager "${img[alertmanager]}" -v "$tmp/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro"
start node-exporter "${img[node-exporter]}" -v /:/host:ro -- --path.rootfs=/host
start postgres-exporter "${img[postgres-exporter]}" \
  -e DATA_SOURCE_URI='postgres:5432/omero?sslmode=disable' -e DATA_SOURCE_USER=omero \
  -e DATA_SOURCE_PASS_FILE=/run/secrets/pg_password -v "$tmp/pg_password_exporter:/run/secrets/pg_password:ro"
start postgres-exporter-plugin "${img[postgres-exporter]}" \
  -e DATA_SOURCE_NAME="postgresql://postgres:$pg2_pw@postgres-plugin:5433/postgres?sslmode=disable"
start redis-exporter "${img[redis-exporter]}" -e REDIS_ADDR=redis://redis:6379 -e REDIS_PASSWORD="$redis_pw"

# ---------------------------------------------------------------- postgres
log "postgres (${img[postgres]})"
pg_ready() { docker exec "$(c "$1")" pg_isready -q -h 127.0.0.1 -p "$2" -U "$3" -d "$4"; }
check "initdb and start (healthcheck pg_isready over TCP)" wait_for 90 pg_ready postgres 5432 omero omero
psql_as() { # PASSWORD HOST PORT USER DB SQL
  client "${img[postgres]}" env PGPASSWORD="$1" PGCONNECT_TIMEOUT=5 \
    psql -h "$2" -p "$3" -U "$4" -d "$5" -v ON_ERROR_STOP=1 -Atc "$6"
}
check "password from POSTGRES_PASSWORD_FILE accepted over TCP" equals 1 psql_as "$pg_pw" postgres 5432 omero omero 'SELECT 1'
check_not "wrong password refused" psql_as "wrong-$pg_pw" postgres 5432 omero omero 'SELECT 1'
check "refusal is a password authentication failure" contains "password authentication failed" psql_as "wrong" postgres 5432 omero omero 'SELECT 1'
check "password stored as SCRAM; pg_hba: host all all all scram-sha-256" equals "t|1" \
  psql_as "$pg_pw" postgres 5432 omero omero \
  "SELECT (SELECT rolpassword LIKE 'SCRAM-SHA-256\$%' FROM pg_authid WHERE rolname = 'omero'), (SELECT count(*) FROM pg_hba_file_rules WHERE type = 'host' AND address = 'all' AND auth_method = 'scram-sha-256' AND database = '{all}' AND user_name = '{all}')"
check "POSTGRES_DB created (UTF8, en_US.utf8)" equals "UTF8|en_US.utf8" psql_as "$pg_pw" postgres 5432 omero omero \
  "SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = 'omero'"
check "initdb.d *.sql ran" equals 1 psql_as "$pg_pw" postgres 5432 omero omero 'SELECT count(*) FROM smoke'
check "initdb.d *.sh sourced with \${psql[@]}" equals 1 psql_as "$pg_pw" postgres 5432 omero omero \
  "SELECT count(*) FROM pg_roles WHERE rolname = 'smoke_reader'"
check "-c arguments reach the server" equals "48MB|50" psql_as "$pg_pw" postgres 5432 omero omero \
  "SELECT current_setting('shared_buffers') || '|' || current_setting('max_connections')"
check "server runs as uid 999" equals 999 uid_of postgres
check "PGDATA owned by 999, mode 700" equals "999:999:700" docker exec "$(c postgres)" stat -c '%u:%g:%a' /var/lib/postgresql/data
check "PGPORT/PGDATA honoured (second server on 5433)" wait_for 90 pg_ready postgres-plugin 5433 postgres postgres
check "second server: default user and db, password over TCP" equals 1 psql_as "$pg2_pw" postgres-plugin 5433 postgres postgres 'SELECT 1'
check "second server: PG_VERSION in PGDATA subdirectory" docker exec "$(c postgres-plugin)" test -s /var/lib/postgresql/data/pgdata/PG_VERSION
check_not "both POSTGRES_PASSWORD and _FILE is an error" \
  docker run --rm -e POSTGRES_PASSWORD=x -e POSTGRES_PASSWORD_FILE=/etc/hostname "${img[postgres]}"
check_not "no password at all is an error" docker run --rm "${img[postgres]}"
check "entrypoint can be sourced for its functions" client "${img[postgres]}" bash -c \
  'source docker-entrypoint.sh && declare -F docker_setup_env docker_process_sql docker_temp_server_start >/dev/null'
docker restart "$(c postgres)" >/dev/null
check "restart keeps the data (no second initdb)" wait_for 60 pg_ready postgres 5432 omero omero
check "restart log says initialization skipped" contains "Skipping initialization" docker logs "$(c postgres)"
check "rows still there after restart" equals 1 psql_as "$pg_pw" postgres 5432 omero omero 'SELECT count(*) FROM smoke'

# ---------------------------------------------------------------- redis
log "redis (${img[redis]})"
redis_ping() { docker exec "$(c redis)" sh -c "redis-cli -a \"\$1\" --no-auth-warning ping | grep -qx PONG" sh "$redis_pw"; }
check "starts (healthcheck redis-cli ping)" wait_for 30 redis_ping
check "ping with password over the network" equals PONG client "${img[redis]}" redis-cli -h redis -a "$redis_pw" --no-auth-warning ping
check "no password: NOAUTH" contains NOAUTH client "${img[redis]}" redis-cli -h redis ping
check "wrong password refused" contains WRONGPASS client "${img[redis]}" redis-cli -h redis -a wrong --no-auth-warning ping
# shellcheck disable=SC2016 # expanded by the inner shell
check "write and read back" equals OKvalue client "${img[redis]}" sh -c \
  'redis-cli -h redis -a "$1" --no-auth-warning set k value && redis-cli -h redis -a "$1" --no-auth-warning get k' sh "$redis_pw"
check "server runs as uid 999" equals 999 uid_of redis
# shellcheck disable=SC2016 # expanded inside the container
check "/data owned by redis, AOF written there" docker exec "$(c redis)" sh -c 'test "$(stat -c %u /data)" = 999 && test -d /data/appendonlydir'
check "args starting with -- run redis-server, no protected mode" equals PONG client "${img[redis]}" redis-cli -h redis-open ping

# ---------------------------------------------------------------- exporters and prometheus
log "exporters and prometheus"
check "postgres-exporter (DATA_SOURCE_URI/USER/PASS_FILE): pg_up 1" \
  wait_for 30 has_line http://postgres-exporter:9187/metrics 'pg_up 1'
check "postgres-exporter (DATA_SOURCE_NAME): pg_up 1" \
  wait_for 30 has_line http://postgres-exporter-plugin:9187/metrics 'pg_up 1'
check "redis-exporter (REDIS_ADDR/REDIS_PASSWORD): redis_up 1" \
  wait_for 30 has_line http://redis-exporter:9121/metrics 'redis_up 1'
check "node-exporter (--path.rootfs=/host): node_uname_info" \
  wait_for 30 has_text http://node-exporter:9100/metrics node_uname_info
check "node-exporter: systemd collector off, as upstream" \
  lacks_text http://node-exporter:9100/metrics 'collector="systemd"'
check "blackbox-exporter probe: probe_success 1" has_line \
  'http://blackbox-exporter:9115/probe?module=http_2xx&target=http%3A%2F%2Fprometheus%3A9090%2F-%2Fhealthy' \
  'probe_success 1'
check "alertmanager (the collection's config): ready" wait_for 30 fetch http://alertmanager:9093/-/ready
check "alertmanager: its metrics" has_text http://alertmanager:9093/metrics alertmanager_config_last_reload_successful
check "prometheus: sends its alerts to alertmanager (/api/v1/alertmanagers)" \
  wait_for 30 has_text http://localhost:9090/api/v1/alertmanagers alertmanager:9093

targets_up() {
  fetch http://localhost:9090/api/v1/targets | python3 -c '
import json, sys
want = int(sys.argv[1])
ts = json.load(sys.stdin)["data"]["activeTargets"]
for t in ts:
    print(t["labels"]["job"], t["scrapeUrl"], t["health"], t.get("lastError", ""))
sys.exit(0 if len(ts) == want and all(t["health"] == "up" for t in ts) else 1)
' "$expected_targets"
}
check "prometheus: all $expected_targets targets up (/api/v1/targets)" wait_for 60 targets_up
targets_up >&2 || true
sum_up() {
  fetch 'http://localhost:9090/api/v1/query?query=sum(up)' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])'
}
check "prometheus: query API, sum(up) = $expected_targets" wait_for 20 equals "$expected_targets" sum_up

# ---------------------------------------------------------------- healthchecks and users
log "documented healthcheck commands and users"
hc() { local name="$1"; shift; check "healthcheck $name: $*" docker exec "$(c "$name")" "$@"; }
hc postgres pg_isready -h 127.0.0.1 -U omero -d omero
hc postgres pg_isready -U omero -d omero
hc redis-open redis-cli ping
hc prometheus wget -q -O /dev/null http://127.0.0.1:9090/-/healthy
hc prometheus wget -q --spider http://localhost:9090/-/healthy
hc prometheus wget -q --spider http://localhost:9090/-/ready
hc blackbox-exporter wget -q --spider http://localhost:9115/-/healthy
hc node-exporter wget -q --spider http://localhost:9100/metrics
hc postgres-exporter wget -q --spider http://localhost:9187/metrics
hc redis-exporter wget -q --spider http://localhost:9121/health
hc alertmanager wget -q -O /dev/null http://127.0.0.1:9093/-/healthy
for pair in prometheus:65534 blackbox-exporter:0 node-exporter:65534 postgres-exporter:65534 redis-exporter:59000 alertmanager:65534; do
  check "${pair%%:*} runs as uid ${pair#*:}" equals "${pair#*:}" uid_of "${pair%%:*}"
done

if [ "$failures" -gt 0 ]; then
  log "logs of the containers:"
  for id in $(docker ps -aq --filter "label=omero-stack-test.smoke=$run"); do
    printf -- '--- %s\n' "$(docker inspect -f '{{.Name}}' "$id")" >&2
    docker logs --tail 15 "$id" 2>&1 | sed 's/^/    /' >&2
  done
  die "$failures check(s) failed"
fi
log "all checks passed"
