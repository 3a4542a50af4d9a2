#!/usr/bin/env bash
# Stops everything `make up` (scripts/up.sh) started: first nginx (no new
# requests), then the services (so that they can still drain their work into
# the stack), then the dev stack. Safe to run again, and when nothing runs.
#
#   scripts/down.sh
#
#   1. scripts/nginx.sh down (graceful quit, then SIGTERM, SIGKILL)
#   2. every service with a pid file in $STACK_DIR/dev/run, newest first:
#      SIGTERM, up to SERVICE_STOP_TIMEOUT seconds (30) to finish (the writer
#      stores and commits the batch in hand, a gateway closes its WebSockets
#      with 1001), then SIGKILL
#   3. scripts/stack.sh down dev (Kafka, Redis, Postgres; their data is kept)
set -euo pipefail

LOG_NAME=down
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
# The same settings as up.sh had (ports, CARGO_TARGET_DIR, ...).
load_dotenv

SERVICE_STOP_TIMEOUT="${SERVICE_STOP_TIMEOUT:-30}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN_DIR="$TARGET_DIR/release"
RUN_DIR="$STACK_DIR/dev/run"
NGINX_DIR="$STACK_DIR/dev/nginx"
LOCK_FILE="$STACK_DIR/.dev.services.lock"

# pidfiles_newest_first: the services' pid files, the last one started first.
pidfiles_newest_first() {
  find "$RUN_DIR" -maxdepth 1 -name '*.pid' -type f -printf '%T@ %p\n' 2>/dev/null |
    sort -rn | cut -d' ' -f2-
}

# pidfile_binary PIDFILE NAME: the binary up.sh started for NAME (the pid
# file's second line; NAME itself in a pid file written before there was one).
pidfile_binary() {
  local bin
  bin="$(sed -n 2p "$1" 2>/dev/null || true)"
  printf '%s' "${bin:-$BIN_DIR/$2}"
}

take_services_lock

phase 1 3 "stopping nginx ($NGINX_DIR)"
NGINX_DIR="$NGINX_DIR" "$ROOT/scripts/nginx.sh" down 8>&-
phase_done "nginx down"

phase 2 3 "stopping the services (pid files in $RUN_DIR)"
stopped=0
while IFS= read -r pidfile; do
  name="$(basename "$pidfile" .pid)"
  pid="$(read_pidfile "$pidfile")"
  bin="$(pidfile_binary "$pidfile" "$name")"
  if [[ -n "$pid" ]] && pid_runs_binary "$pid" "$bin"; then
    stop_pid "$name" "$pid" "$SERVICE_STOP_TIMEOUT"
    stopped=$((stopped + 1))
  elif [[ -n "$pid" ]] && pid_alive "$pid"; then
    log "$pidfile names pid $pid, which is not $bin: leaving that process alone"
  else
    log "$name not running"
  fi
  rm -f "$pidfile"
done < <(pidfiles_newest_first)
phase_done "$stopped service(s) stopped"

phase 3 3 "stopping the dev stack (scripts/stack.sh down dev)"
"$ROOT/scripts/stack.sh" down dev 8>&-
phase_done "dev stack down"
log "everything make up started is stopped (data kept in $STACK_DIR/dev)"
