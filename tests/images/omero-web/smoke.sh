#!/usr/bin/env bash
# Usage: tests/images/omero-web/smoke.sh
# End-to-end check of the OMERO.web test base image and the omero_web_plugins module,
# with no OMERO.server (none can run here):
#  1. build (or reuse) the base image, then a derived image that pip-installs the pinned
#     plugins of smoke-plugins.yml, as a site image would;
#  2. start it; run the module inside the container (docker connection, venv Python):
#     check mode changes nothing, the real run registers, a second run changes nothing,
#     a plugin whose app does not import fails the run with its name and registers nothing;
#  3. restart (the entrypoint loads the *.omero files): /webclient/login/ answers 200,
#     each plugin's URL (the module reports it: /LABEL/ of the app) redirects to the login
#     page, omero.web.apps lists each app once, also after one more restart;
#  4. drop omero-parade: uninstalled and unregistered, its URL is 404; add it back: pip
#     installs it from PyPI inside the container and its URL redirects again.
# The container and temporary files are removed on exit; images stay cached (keyed).
source "$(dirname "$0")/../../../tools/common.sh"
here="$REPO_ROOT/tests/images/omero-web"
venv="$("$REPO_ROOT/tools/venv.sh" test)"
export PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$venv/collections"
export ANSIBLE_NOCOLOR=1 ANSIBLE_DEPRECATION_WARNINGS=0

base="$("$here/build.sh")"
tmp="$(mktemp -d)"
name="omero-web-smoke-$$"
cleanup() { docker rm -f -v "$name" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT

# --- 1. derived image with the plugins, keyed by the base image and the pins -----------
mapfile -t pins < <(python -c 'import sys, yaml
for p in yaml.safe_load(open(sys.argv[1]))["smoke_plugins"]:
    print(p["pip"])' "$here/smoke-plugins.yml")
cat >"$tmp/Dockerfile" <<DOCKERFILE
ARG BASE_IMAGE
FROM \${BASE_IMAGE}
USER root
RUN /opt/omero/web/venv3/bin/pip install --no-cache-dir ${pins[*]}
USER omero-web
DOCKERFILE
key="$( (docker image inspect -f '{{.Id}}' "$base"; cat "$tmp/Dockerfile") | sha256sum | cut -c1-12)"
image="omero-stack-test/omero-web-smoke:k$key"
if docker image inspect "$image" >/dev/null 2>&1; then
  log "$image is current"
else
  start=$SECONDS
  DOCKER_BUILDKIT=0 docker build --pull=false --force-rm -q --build-arg "BASE_IMAGE=$base" -t "$image" "$tmp" \
    >"$tmp/build.log" 2>&1 || { tail -n 40 "$tmp/build.log" >&2; die "build of $image failed"; }
  log "built $image (${pins[*]}) in $((SECONDS - start)) s"
fi

# --- helpers ----------------------------------------------------------------------------
fail() { docker logs --tail 40 "$name" >&2 2>&1 || true; die "$*"; }
url() { printf 'http://127.0.0.1:%s%s' "$port" "$1"; }
wait_web() {

  for _ in $(seq 1 90); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$(url /webclient/login/)")" = 200 ] && return 0
    sleep 2
  done
  fail "OMERO.web did not answer /webclient/login/ with 200"
}
get_port() { port="$(docker port "$name" 4080/tcp | head -n1 | sed 's/.*://')"; }
restart() { docker restart "$name" >/dev/null; get_port; wait_web; }  # a restart may change the port
expect() { # path code [location-substring]
  local got location
  got="$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$(url "$1")")"
  location="${got#* }"; got="${got%% *}"
  [ "$got" = "$2" ] || fail "GET $1: expected HTTP $2, got $got"
  [ -z "${3:-}" ] || [[ "$location" == *"$3"* ]] || fail "GET $1: redirect to '$location', expected '$3'"
  log "GET $1 -> $got${location:+ $location}"
}
register() { # extra ansible-playbook args; prints the module's SMOKE-RESULT json
  # The one way tests run ansible-playbook: tests/helpers/playbook.py (json callback).
  python "$REPO_ROOT/tests/helpers/playbook.py" --log "$tmp/play.log" --result 'SMOKE-RESULT ' \
    "$here/smoke-register.yml" "$name," -e "@$here/smoke-plugins.yml" "$@" \
    || { cat "$tmp/play.log" >&2; fail "omero_web_plugins failed"; }
}
field() { python -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1])[sys.argv[2]]))' "$1" "$2"; }
apps_once() { # app...: omero.web.apps inside the container lists exactly these, once each
  local apps
  apps="$(docker exec "$name" /opt/omero/web/venv3/bin/omero config get omero.web.apps)"
  python -c 'import json, sys
apps = json.loads(sys.argv[1]); want = sys.argv[2:]
assert sorted(apps) == sorted(want) and len(apps) == len(set(apps)), (apps, want)' "$apps" "$@" \
    || fail "omero.web.apps is $apps, expected each of [$*] once"
  log "omero.web.apps = $apps"
}

# --- 2. start, register through the module ---------------------------------------------
# CONFIG_* variables work as in the official image (and reach the module's verification):
# the server list names the stack's server service (no OMERO.server runs here).
docker run -d --name "$name" -p 127.0.0.1::4080 \
  -e 'CONFIG_omero_web_server__list=[["omeroserver", 4064, "omero"]]' "$image" >/dev/null
get_port
wait_web
log "OMERO.web up on port $port (no plugins registered yet)"
expect /figure/ 404
servers="$(docker exec "$name" omero config get omero.web.server_list)"
[ "$servers" = '[["omeroserver", 4064, "omero"]]' ] || fail "CONFIG_omero_web_server__list not applied: $servers"

res="$(register -e smoke_check=true)"
[ "$(field "$res" changed)" = true ] || fail "check mode did not report a change: $res"
docker exec "$name" test ! -e /opt/omero/web/config/20-plugins.omero || fail "check mode wrote the registration file"
log "check mode: would change, wrote nothing"

res="$(register)"
[ "$(field "$res" changed)" = true ] || fail "first run did not change anything: $res"
log "first run: $res"
res="$(register)"
[ "$(field "$res" changed)" = false ] || fail "second run changed something: $res"
log "second run: changed=false"
verified="$(field "$res" verified)"
for pair in omero_figure:/figure/ omero_iviewer:/iviewer/ omero_parade:/parade/; do
  app="${pair%%:*}" want="${pair#*:}"
  got="$(python -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]]["url"])' "$verified" "$app")"
  [ "$got" = "$want" ] || fail "module reports $app at $got, expected $want"
done

# A plugin whose app does not import stops the run, names the plugin, registers nothing.
before="$(docker exec "$name" cat /opt/omero/web/config/20-plugins.omero)"
if python "$REPO_ROOT/tests/helpers/playbook.py" --log "$tmp/play.log" "$here/smoke-register.yml" "$name," \
     -e "@$here/smoke-plugins.yml" \
     -e '{"smoke_extra": [{"name": "broken-plugin", "app": "omero_no_such_app"}]}' >/dev/null; then
  fail "a plugin that does not import was accepted"
fi
grep -q 'broken-plugin (app omero_no_such_app): ModuleNotFoundError' "$tmp/play.log" \
  || { cat "$tmp/play.log" >&2; fail "the failure does not name the plugin"; }
[ "$(docker exec "$name" cat /opt/omero/web/config/20-plugins.omero)" = "$before" ] \
  || fail "a failed run changed the registration file"
log "broken plugin refused: $(grep -o 'OMERO.web plugin(s) failed to load: [^"]*' "$tmp/play.log" | head -n1)"

# --- 3. restart: the entrypoint loads the file ------------------------------------------
restart
expect /webclient/login/ 200
expect /figure/ 302 /webclient/login/
expect /iviewer/ 302 /webclient/login/
expect /parade/ 302 /webclient/login/
expect /omero_parade/ 404   # URL prefix is the app label (parade), not the module name
expect /no-such-plugin/ 404
apps_once omero_figure omero_iviewer omero_parade
restart
apps_once omero_figure omero_iviewer omero_parade

# --- 4. removal and re-adding ------------------------------------------------------------
res="$(register -e '{"smoke_drop": ["omero-parade"]}')"
[ "$(field "$res" uninstalled)" = '["omero-parade"]' ] || fail "omero-parade was not uninstalled: $res"
restart
expect /parade/ 404
expect /figure/ 302 /webclient/login/
apps_once omero_figure omero_iviewer
docker exec "$name" /opt/omero/web/venv3/bin/python -c 'import omero_parade' 2>/dev/null \
  && fail "omero_parade still importable after removal"
log "removed omero-parade: uninstalled, unregistered, 404"

res="$(register)"
[ "$(field "$res" installed)" = '["omero-parade==0.2.4"]' ] || fail "omero-parade was not reinstalled: $res"
restart
expect /parade/ 302 /webclient/login/
apps_once omero_figure omero_iviewer omero_parade
log "OMERO.web smoke test passed"
