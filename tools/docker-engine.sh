#!/usr/bin/env bash
# Usage: tools/docker-engine.sh ensure|stop
#   ensure: make sure a Docker engine answers. If none does, install Debian's
#           docker.io when dockerd is missing and start dockerd in the background
#           (CI has no systemd). A marker file records that we started it.
#   stop:   stop the daemon only if `ensure` started it.
source "$(dirname "$0")/common.sh"
marker="$OMERO_STACK_CACHE/dockerd.started-by-tests.pid"
logfile="$OMERO_STACK_CACHE/dockerd.log"

engine_up() { docker info >/dev/null 2>&1; }

ensure() {
  if engine_up; then
    log "docker engine answers: $(docker info -f '{{.ServerVersion}}')"
    return 0
  fi
  "$REPO_ROOT/tools/apt-deps.sh" docker.io
  log "no docker engine answers: starting dockerd (log: $logfile)"
  # A pid file left by an engine that died would make dockerd refuse to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  setsid dockerd >"$logfile" 2>&1 < /dev/null &
  echo $! > "$marker"
  for _ in $(seq 1 60); do
    engine_up && { log "dockerd started (pid $(cat "$marker"))"; return 0; }
    sleep 1
  done
  tail -n 30 "$logfile" >&2 || true
  die "dockerd did not answer within 60 s"
}

stop() {
  [ -f "$marker" ] || { log "docker engine was not started by the tests: leaving it"; return 0; }
  local pid; pid="$(cat "$marker")"
  rm -f "$marker"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd (pid $pid) started by the tests"
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

case "${1:-}" in
  ensure) ensure ;;
  stop) stop ;;
  *) die "usage: $0 ensure|stop" ;;
esac
