#!/usr/bin/env bash
# Stops everything `make up` (scripts/up.sh) started: first the services (so
# that they can still drain their work into the stack), then the dev stack.
# Safe to run again, and when nothing runs.
#
#   scripts/down.sh
#
#   1. every service with a pid file in $STACK_DIR/dev/run, newest first:
#      SIGTERM, up to SERVICE_STOP_TIMEOUT seconds (30) to finish (the writer
#      stores and commits the batch in hand), then SIGKILL
#   2. scripts/stack.sh down dev (Kafka, Redis, Postgres; their data is kept)
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
LOCK_FILE="$STACK_DIR/.dev.services.lock"

# One up.sh or down.sh at a time (see up.sh): flock on fd 8.
take_lock() {
  mkdir -p "$STACK_DIR"
  exec 8>"$LOCK_FILE"
  if ! flock -n 8; then
    log "another scripts/up.sh or scripts/down.sh holds $LOCK_FILE: waiting (up to 300s)"
    flock -w 300 8 || die "timed out waiting for $LOCK_FILE"
  fi
}

# pidfiles_newest_first: the services' pid files, the last one started first.
pidfiles_newest_first() {
  find "$RUN_DIR" -maxdepth 1 -name '*.pid' -type f -printf '%T@ %p\n' 2>/dev/null |
    sort -rn | cut -d' ' -f2-
}

take_lock

phase 1 2 "stopping the services (pid files in $RUN_DIR)"
stopped=0
while IFS= read -r pidfile; do
  name="$(basename "$pidfile" .pid)"
  pid="$(read_pidfile "$pidfile")"
  if [[ -n "$pid" ]] && pid_runs_binary "$pid" "$BIN_DIR/$name"; then
    stop_pid "$name" "$pid" "$SERVICE_STOP_TIMEOUT"
    stopped=$((stopped + 1))
  elif [[ -n "$pid" ]] && pid_alive "$pid"; then
    log "$pidfile names pid $pid, which is not $BIN_DIR/$name: leaving that process alone"
  else
    log "$name not running"
  fi
  rm -f "$pidfile"
done < <(pidfiles_newest_first)
phase_done "$stopped service(s) stopped"

phase 2 2 "stopping the dev stack (scripts/stack.sh down dev)"
"$ROOT/scripts/stack.sh" down dev 8>&-
phase_done "dev stack down"
log "everything make up started is stopped (data kept in $STACK_DIR/dev)"
