#!/usr/bin/env bash
# Browser end-to-end tests of the web client, through nginx, over two
# gateways: Playwright (playwright-core) drives Debian's Chromium, the tests
# are frontend/e2e/*.test.mjs run by Node's test runner.
#
#   scripts/e2e.sh
#
# Assumes (scripts/test.sh does both before calling it):
#   - the TEST stack is up: $STACK_DIR/test/env holds DATABASE_URL & co.
#   - `cargo build --workspace --all-targets` built target/debug/{migrate,writer,gateway,bot,fake-ollama}
#     and `npm run build` built frontend/dist
#
#   1. apt-get install chromium (when missing)
#   2. target/debug/migrate against the test database
#   3. the writer and two gateways (e2e-1, e2e-2) on free ports, a random
#      JWT_SECRET for this run, WS_PING_SECS=2; wait for each /readyz; then
#      the bot, talking to the fake Ollama server (test-support's
#      fake-ollama binary: Ollama's API, a reply streamed in small chunks)
#   4. nginx (scripts/nginx.sh) on a free port in front of the gateways,
#      serving frontend/dist
#   5. node --test frontend/e2e/*.test.mjs with E2E_BASE_URL
#   6. scripts/check-tls.sh: the PRODUCTION nginx config (nginx/prod) with TLS
#      on another free port in front of the same gateways (whose
#      ALLOWED_ORIGINS hold its https:// origin): sslscan, testssl.sh and a
#      browser sending a message over wss://
# Whatever happens, everything it started is stopped on exit. Logs:
# $STACK_DIR/test/logs/, $STACK_DIR/test/tls/, screenshots: $STACK_DIR/test/screenshots/.
#
# Settings: E2E_FILES (frontend/e2e/*.test.mjs) the test files to run, e.g.
# E2E_FILES=frontend/e2e/events.test.mjs for a subset; E2E_TLS (1): 0 skips
# phase 6; READY_TIMEOUT (60) seconds a service has to become ready,
# SERVICE_STOP_TIMEOUT (30), MIGRATE_TIMEOUT (120), E2E_TIMEOUT (600; Lighthouse alone takes about a minute)
# seconds the browser tests may take.
set -euo pipefail

LOG_NAME=e2e
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

READY_TIMEOUT="${READY_TIMEOUT:-60}"
SERVICE_STOP_TIMEOUT="${SERVICE_STOP_TIMEOUT:-30}"
MIGRATE_TIMEOUT="${MIGRATE_TIMEOUT:-120}"
E2E_TIMEOUT="${E2E_TIMEOUT:-600}"
E2E_TLS="${E2E_TLS:-1}"
read -r -a E2E_FILE_LIST <<<"${E2E_FILES:-$(printf '%s ' frontend/e2e/*.test.mjs)}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN_DIR="$TARGET_DIR/debug"
PROFILE_DIR="$STACK_DIR/test"
ENV_FILE="$PROFILE_DIR/env"
LOG_DIR="$PROFILE_DIR/logs"
SCREENSHOT_DIR="$PROFILE_DIR/screenshots"
NGINX_DIR="$PROFILE_DIR/nginx"
SITE_ROOT="$ROOT/frontend/dist"
CHROMIUM=/usr/bin/chromium

# Pids of the services this run started, and whether it started nginx.
PIDS=()
NAMES=()
NGINX_STARTED=""
USED_PORTS=" "

# free_port: prints a port on 127.0.0.1 that nothing listens on and this run
# has not handed out yet.
free_port() {
  local port tries
  for ((tries = 0; tries < 200; tries++)); do
    # below the kernel's ephemeral range (32768+), which outgoing connections
    # draw from: a port picked there can be taken before the service binds it
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 12700))
    [[ "$USED_PORTS" == *" $port "* ]] && continue
    port_open "$port" && continue
    USED_PORTS+="$port "
    printf '%s' "$port"
    return 0
  done
  die "found no free port on 127.0.0.1 in 200 tries"
}

# nginx_sh ARGS...: scripts/nginx.sh with this run's settings.
nginx_sh() {
  LOG_NAME=e2e-nginx NGINX_DIR="$NGINX_DIR" SITE_PORT="$SITE_PORT" SITE_ROOT="$SITE_ROOT" \
    GATEWAY_1_PORT="$GATEWAY_1_PORT" GATEWAY_2_PORT="$GATEWAY_2_PORT" \
    "$ROOT/scripts/nginx.sh" "$@"
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  _PHASE=""
  log "cleaning up (exit status $rc)"
  if [[ -n "$NGINX_STARTED" ]]; then
    nginx_sh down || log "stopping nginx failed"
  fi
  # Reverse start order: gateways, then the writer.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    (stop_pid "${NAMES[i]}" "${PIDS[i]}" "$SERVICE_STOP_TIMEOUT") || log "stopping ${NAMES[i]} failed"
  done
  if ((rc == 0)); then
    log "browser tests passed"
  else
    log "browser tests FAILED (logs in $LOG_DIR, $NGINX_DIR/error.log)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_service NAME BINARY VAR=VALUE...: runs target/debug/BINARY in the
# background with the settings, logging to $LOG_DIR/NAME.log.
start_service() {
  local name=$1 bin="$BIN_DIR/$2"
  shift 2
  local logfile="$LOG_DIR/$name.log"
  log "starting $name ($*), log $logfile"
  env "$@" "$bin" </dev/null >"$logfile" 2>&1 &
  PIDS+=("$!")
  NAMES+=("$name")
}

# service_ready PID URL: URL answers 200; $WAIT_ABORT once PID is gone.
service_ready() {
  pid_alive "$1" || return "$WAIT_ABORT"
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$2" 2>/dev/null || true)" == 200 ]]
}

wait_ready() {
  local i=$1 addr=$2
  local name="${NAMES[i]}" pid="${PIDS[i]}"
  wait_until "$name answers 200 on http://$addr/readyz" "$READY_TIMEOUT" \
    service_ready "$pid" "http://$addr/readyz" ||
    die_with_log "$LOG_DIR/$name.log" "$name is not ready on http://$addr/readyz"
}

phase 1 6 "checking what the tests need"
[[ -f "$ENV_FILE" ]] || die "$ENV_FILE is missing: start the test stack first (scripts/stack.sh up test)"
# shellcheck source=/dev/null
source "$ENV_FILE"
for bin in migrate writer gateway bot fake-ollama; do
  [[ -x "$BIN_DIR/$bin" ]] || die "$BIN_DIR/$bin is missing: run cargo build --workspace --all-targets first"
done
[[ -f "$SITE_ROOT/index.html" ]] || die "$SITE_ROOT/index.html is missing: run (cd frontend && npm run build) first"
[[ -f "$ROOT/frontend/node_modules/playwright-core/package.json" ]] ||
  die "frontend/node_modules/playwright-core is missing: run (cd frontend && npm ci) first"
[[ -x "$CHROMIUM" ]] || ensure_apt chromium
[[ -x "$CHROMIUM" ]] || die "$CHROMIUM is missing after installing chromium"
mkdir -p "$LOG_DIR" "$SCREENSHOT_DIR"
phase_done "ready ($("$CHROMIUM" --version 2>/dev/null || printf 'chromium'))"

phase 2 6 "applying the migrations to $DATABASE_URL (log $LOG_DIR/e2e-migrate.log)"
if ! timeout "$MIGRATE_TIMEOUT" "$BIN_DIR/migrate" </dev/null >"$LOG_DIR/e2e-migrate.log" 2>&1; then
  die_with_log "$LOG_DIR/e2e-migrate.log" "migrations failed (or took over ${MIGRATE_TIMEOUT}s)"
fi
phase_done "migrations applied"

phase 3 6 "starting the writer, two gateways, the fake Ollama server and the bot"
WRITER_PORT="$(free_port)"
GATEWAY_1_PORT="$(free_port)"
GATEWAY_2_PORT="$(free_port)"
SITE_PORT="$(free_port)"
SITE_URL="http://127.0.0.1:$SITE_PORT"
# The TLS site of phase 6 (and its plain HTTP port): the gateways must accept
# its origin from the start.
TLS_SITE_PORT="$(free_port)"
TLS_HTTP_PORT="$(free_port)"
JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
((${#JWT_SECRET} == 64)) || die "could not read 32 random bytes from /dev/urandom"
export JWT_SECRET DATABASE_URL REDIS_URL KAFKA_BROKERS KAFKA_TOPIC KAFKA_DLQ_TOPIC
export RUST_LOG="${RUST_LOG:-info}" LOG_FORMAT=json
export ALLOWED_ORIGINS="$SITE_URL,https://127.0.0.1:$TLS_SITE_PORT" COOKIE_SECURE=false TRUSTED_PROXIES=127.0.0.1/32,::1/128
# every test user signs up from 127.0.0.1, and the sign-up counters live in the
# test stack's Redis, which outlives a run (default: 10 per address per hour)
export SIGNUP_MAX_PER_ADDRESS=1000
# The client declares a connection dead after two silent heartbeats: with 2 s
# (default 20) the offline test sees B's socket drop within seconds.
export WS_PING_SECS="${WS_PING_SECS:-2}"
start_service e2e-writer writer WRITER_HTTP_ADDR="127.0.0.1:$WRITER_PORT" \
  WRITER_GROUP_ID=e2e-writer WRITER_GROUP_INSTANCE_ID=e2e-writer
start_service e2e-gateway-1 gateway GATEWAY_ADDR="127.0.0.1:$GATEWAY_1_PORT" GATEWAY_INSTANCE_ID=e2e-1
start_service e2e-gateway-2 gateway GATEWAY_ADDR="127.0.0.1:$GATEWAY_2_PORT" GATEWAY_INSTANCE_ID=e2e-2
wait_ready 0 "127.0.0.1:$WRITER_PORT"
wait_ready 1 "127.0.0.1:$GATEWAY_1_PORT"
wait_ready 2 "127.0.0.1:$GATEWAY_2_PORT"
OLLAMA_PORT="$(free_port)"
BOT_PORT="$(free_port)"
start_service e2e-fake-ollama fake-ollama FAKE_OLLAMA_ADDR="127.0.0.1:$OLLAMA_PORT"
wait_until "the fake Ollama answers on http://127.0.0.1:$OLLAMA_PORT/api/version" "$READY_TIMEOUT" \
  service_ready "${PIDS[3]}" "http://127.0.0.1:$OLLAMA_PORT/api/version" ||
  die_with_log "$LOG_DIR/e2e-fake-ollama.log" "the fake Ollama server did not start"
start_service e2e-bot bot BOT_HTTP_ADDR="127.0.0.1:$BOT_PORT" \
  OLLAMA_URL="http://127.0.0.1:$OLLAMA_PORT" OLLAMA_MODEL=tiny:latest \
  BOT_GROUP_ID=e2e-bot BOT_GROUP_INSTANCE_ID=e2e-bot BOT_DRAFT_INTERVAL_MS=100
wait_ready 4 "127.0.0.1:$BOT_PORT"
# the bot's account exists (it can be invited) once it says it started
bot_started() {
  pid_alive "${PIDS[4]}" || return "$WAIT_ABORT"
  grep -q '"bot started"' "$LOG_DIR/e2e-bot.log"
}
wait_until "the bot has its account" "$READY_TIMEOUT" bot_started ||
  die_with_log "$LOG_DIR/e2e-bot.log" "the bot did not start"
phase_done "writer :$WRITER_PORT, gateways :$GATEWAY_1_PORT and :$GATEWAY_2_PORT, bot :$BOT_PORT (fake Ollama :$OLLAMA_PORT) ready"

phase 4 6 "starting nginx on $SITE_URL/ (root $SITE_ROOT, dir $NGINX_DIR)"
NGINX_STARTED=1
nginx_sh up
phase_done "nginx up"

phase 5 6 "running the browser tests (node --test ${E2E_FILE_LIST[*]}, up to ${E2E_TIMEOUT}s)"
E2E_BASE_URL="$SITE_URL" E2E_SCREENSHOT_DIR="$SCREENSHOT_DIR" E2E_CHROMIUM="$CHROMIUM" \
  timeout "$E2E_TIMEOUT" node --test --test-reporter=spec "${E2E_FILE_LIST[@]}" ||
  die "browser tests failed (service logs in $LOG_DIR)"
phase_done "browser tests passed; screenshots in $SCREENSHOT_DIR"

if [[ "$E2E_TLS" == 0 ]]; then
  log "E2E_TLS=0: phase 6 (the production nginx over TLS) skipped"
  exit 0
fi
phase 6 6 "the production nginx over TLS on https://127.0.0.1:$TLS_SITE_PORT (scripts/check-tls.sh)"
LOG_NAME=e2e-tls GATEWAY_1_PORT="$GATEWAY_1_PORT" GATEWAY_2_PORT="$GATEWAY_2_PORT" \
  TLS_SITE_PORT="$TLS_SITE_PORT" TLS_HTTP_PORT="$TLS_HTTP_PORT" TLS_DIR="$PROFILE_DIR/tls" SITE_ROOT="$SITE_ROOT" \
  E2E_SCREENSHOT_DIR="$SCREENSHOT_DIR" "$ROOT/scripts/check-tls.sh" ||
  die "the TLS round trip failed (logs in $PROFILE_DIR/tls)"
phase_done "TLS round trip passed"
