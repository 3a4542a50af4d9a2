#!/usr/bin/env bash
# Checks that the OpenAPI document a gateway serves (/api/openapi.json) is
# exact: schemathesis generates requests from it (examples, boundary values,
# random and schema-violating data, and sequences that follow the document's
# links, e.g. create a room -> join it -> read its members) and checks every
# answer against the document. Any failure fails the script.
#
#   scripts/check-api.sh [extra `st run` options, e.g. --continue-on-failure]
#
# The stack: DATABASE_URL, REDIS_URL, KAFKA_BROKERS from the environment
# (scripts/test.sh sources the test stack's env file before calling this), or
# else from $STACK_DIR/test/env. Needs target/debug/{migrate,gateway}
# (cargo build --workspace).
#
#   1. schemathesis (pinned) in the project's tools venv (lib.sh ensure_pip)
#   2. a database of its own, api_<id>, on the stack's Postgres, migrated;
#      Redis database $API_REDIS_DB of the stack's Redis, emptied (stale login
#      throttles of an earlier run must not refuse this one's sign-up)
#   3. a gateway on a free port against them; wait for /readyz
#   4. a user for the run (sign-up): its access token authenticates every
#      operation that needs one
#   5. st run: phases examples, coverage, fuzzing, stateful (logout in a run
#      of its own, last: it ends the session of the run's token); at most
#      $API_MAX_EXAMPLES examples per operation; the checks in
#      scripts/check-api/schemathesis.toml; reports in $STACK_DIR/test/api/
# The gateway and the database are removed on exit.
#
# Settings: API_MAX_EXAMPLES (100), API_SEED (a fixed seed: the same requests
# every run; set another to explore), API_WORKERS (1: with more, Python
# 3.11's ast.parse, which hypothesis calls from each worker thread, can fail
# with "AST constructor recursion depth mismatch"), API_REDIS_DB (9),
# READY_TIMEOUT (60), API_TIMEOUT (600) seconds schemathesis may take.
set -euo pipefail

LOG_NAME=check-api
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

SCHEMATHESIS_VERSION=4.32.5
API_MAX_EXAMPLES="${API_MAX_EXAMPLES:-100}"
API_SEED="${API_SEED:-20261129}"
API_WORKERS="${API_WORKERS:-1}"
API_REDIS_DB="${API_REDIS_DB:-9}"
READY_TIMEOUT="${READY_TIMEOUT:-60}"
API_TIMEOUT="${API_TIMEOUT:-600}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN_DIR="$TARGET_DIR/debug"
OUT_DIR="$STACK_DIR/test/api"
CONFIG="$ROOT/scripts/check-api/schemathesis.toml"
TOTAL=5

DB_NAME="api_$(date +%s)_$$"
DB_CREATED=""
GATEWAY_PID=""

# with_db URL NAME: URL with its database (path) replaced by NAME.
with_db() {
  local url=$1 name=$2 query=""
  if [[ "$url" == *"?"* ]]; then
    query="?${url#*\?}"
    url="${url%%\?*}"
  fi
  [[ "$url" =~ ^[A-Za-z][A-Za-z0-9+.-]*://[^/]+ ]] || die "cannot read the server of DATABASE_URL"
  printf '%s/%s%s' "${BASH_REMATCH[0]}" "$name" "$query"
}

admin_psql() {
  psql -X -A -t -q -v ON_ERROR_STOP=1 --no-password --dbname="$DATABASE_URL" "$@"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  _PHASE=""
  if [[ -n "$GATEWAY_PID" ]]; then
    (stop_pid "gateway" "$GATEWAY_PID" 30) || log "stopping the gateway failed"
  fi
  if [[ -n "$DB_CREATED" ]]; then
    admin_psql -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 ||
      log "could not drop database $DB_NAME"
  fi
  if ((rc == 0)); then
    log "the OpenAPI document matches the server"
  else
    log "the API check FAILED (reports in $OUT_DIR, gateway log $OUT_DIR/gateway.log)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port: a port on 127.0.0.1 that nothing listens on, below the ephemeral range.
free_port() {
  local port tries
  for ((tries = 0; tries < 200; tries++)); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 12700))
    port_open "$port" || {
      printf '%s' "$port"
      return 0
    }
  done
  die "found no free port on 127.0.0.1 in 200 tries"
}

# gateway_ready URL: /readyz answers 200; $WAIT_ABORT once the gateway is gone.
gateway_ready() {
  pid_alive "$GATEWAY_PID" || return "$WAIT_ABORT"
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true)" == 200 ]]
}

# ---------------------------------------------------------------------------
phase 1 "$TOTAL" "schemathesis $SCHEMATHESIS_VERSION and the stack"
if [[ -z "${DATABASE_URL:-}" || -z "${REDIS_URL:-}" || -z "${KAFKA_BROKERS:-}" ]]; then
  [[ -f "$STACK_DIR/test/env" ]] ||
    die "DATABASE_URL, REDIS_URL, KAFKA_BROKERS are not set and $STACK_DIR/test/env is missing: start the test stack (scripts/stack.sh up test)"
  # shellcheck source=/dev/null
  source "$STACK_DIR/test/env"
fi
for bin in migrate gateway; do
  [[ -x "$BIN_DIR/$bin" ]] || die "$BIN_DIR/$bin is missing: run cargo build --workspace first"
done
command -v psql >/dev/null || ensure_apt postgresql-client
command -v redis-cli >/dev/null || ensure_apt redis-tools
command -v jq >/dev/null || ensure_apt jq
ensure_pip "schemathesis==$SCHEMATHESIS_VERSION"
mkdir -p "$OUT_DIR"
phase_done "$(st --version)"

phase 2 "$TOTAL" "database $DB_NAME and Redis database $API_REDIS_DB"
admin_psql -c "CREATE DATABASE \"$DB_NAME\"" >/dev/null || die "cannot create database $DB_NAME"
DB_CREATED=1
API_DATABASE_URL="$(with_db "$DATABASE_URL" "$DB_NAME")"
API_REDIS_URL="$(with_db "$REDIS_URL" "$API_REDIS_DB")"
DATABASE_URL="$API_DATABASE_URL" "$BIN_DIR/migrate" </dev/null >"$OUT_DIR/migrate.log" 2>&1 ||
  die_with_log "$OUT_DIR/migrate.log" "migrations failed"
redis-cli -u "$API_REDIS_URL" FLUSHDB >/dev/null || die "cannot empty Redis database $API_REDIS_DB"
phase_done "migrated, Redis emptied"

phase 3 "$TOTAL" "a gateway (log $OUT_DIR/gateway.log)"
PORT="$(free_port)"
BASE_URL="http://127.0.0.1:$PORT"
JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
env DATABASE_URL="$API_DATABASE_URL" REDIS_URL="$API_REDIS_URL" KAFKA_BROKERS="$KAFKA_BROKERS" \
  KAFKA_TOPIC="${KAFKA_TOPIC:-chat.messages}" KAFKA_DLQ_TOPIC="${KAFKA_DLQ_TOPIC:-chat.messages.dlq}" \
  JWT_SECRET="$JWT_SECRET" GATEWAY_ADDR="127.0.0.1:$PORT" GATEWAY_INSTANCE_ID="check-api-$$" \
  COOKIE_SECURE=false \
  RUST_LOG="${RUST_LOG:-warn}" LOG_FORMAT=json \
  "$BIN_DIR/gateway" </dev/null >"$OUT_DIR/gateway.log" 2>&1 &
GATEWAY_PID=$!
wait_until "the gateway answers 200 on $BASE_URL/readyz" "$READY_TIMEOUT" gateway_ready "$BASE_URL/readyz" ||
  die_with_log "$OUT_DIR/gateway.log" "the gateway is not ready"
phase_done "gateway on $BASE_URL"

phase 4 "$TOTAL" "a user for the run"
API_USER="check_api_$$"
API_PASSWORD="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
signup="$(jq -n --arg u "$API_USER" --arg p "$API_PASSWORD" '{username: $u, password: $p}' |
  curl -s --max-time 10 -H 'content-type: application/json' --data-binary @- "$BASE_URL/api/auth/signup")" ||
  die "sign-up request failed"
CHAT_API_TOKEN="$(jq -r '.access_token // empty' <<<"$signup")"
[[ -n "$CHAT_API_TOKEN" ]] || die "sign-up gave no access token: $(jq -c '.error // .' <<<"$signup")"
export CHAT_API_TOKEN
phase_done "signed up $API_USER"

phase 5 "$TOTAL" "schemathesis: every operation, at most $API_MAX_EXAMPLES examples each, seed $API_SEED, up to ${API_TIMEOUT}s"
rc=0
# from $OUT_DIR: schemathesis keeps its cache (.schemathesis/) in the working directory
# Logout with the run's token ends the run's session: every operation after it
# would answer 401. It runs alone, after the others.
st_run() {
  (cd "$OUT_DIR" && timeout "$API_TIMEOUT" st --config-file "$CONFIG" run "$BASE_URL/api/openapi.json" \
    --max-examples "$API_MAX_EXAMPLES" --seed "$API_SEED" --workers "$API_WORKERS" \
    --report junit,ndjson --report-dir "$OUT_DIR" --no-color "$@") || rc=$?
  if ((rc == 124)); then
    die "schemathesis took over ${API_TIMEOUT}s"
  elif ((rc != 0)); then
    die "schemathesis found failures (above; report $OUT_DIR)"
  fi
}
st_run --exclude-path /api/auth/logout "$@"
log "logout, on its own (it ends the run's session)"
st_run --include-path /api/auth/logout --phases examples,coverage,fuzzing "$@"
phase_done "no failures"
