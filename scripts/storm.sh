#!/usr/bin/env bash
# `make storm`: a reconnect storm. 10,000 idle connections through nginx over
# both gateways, each subscribed to a room while senders keep the rooms busy;
# the first gateway is killed and started again, and the `storm` binary of
# loadgen/ times how long its connections take to come back through nginx
# and resume, and checks that none missed or repeated a message
# (BENCHMARKS.md, "Reconnect storm"). Not part of `make test`. Everything runs
# on its own ports and in its own directory, wiped at the start.
#
#   scripts/storm.sh
#
# Environment:
#   STORM_CONNECTIONS, STORM_USERS, STORM_ROOMS   (10000, 100, 100)
#   STORM_RATE              messages per second over all rooms            (100)
#   STORM_WARMUP_SECS       steady state before the kill                  (5)
#   STORM_GOAL_SECS         the goal for the last connection back         (5)
#   STORM_PROFILE           cargo profile of the binaries: dev or release (release)
#   STORM_DIR               its directory: stack, logs, binaries   ($STACK_DIR/storm)
#   STORM_PORT_BASE         ports BASE (site), +1 +2 (gateways), +20 (writer),
#                           +432 Postgres, +379 Redis, +92/+93 Kafka      (16000)
set -euo pipefail

LOG_NAME=storm
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

STORM_DIR="${STORM_DIR:-$STACK_DIR/storm}"
STORM_PROFILE="${STORM_PROFILE:-release}"
STORM_PORT_BASE="${STORM_PORT_BASE:-16000}"
export STORM_CONNECTIONS="${STORM_CONNECTIONS:-10000}"
if ! [[ "$STORM_PORT_BASE" =~ ^[0-9]+$ ]] || ((STORM_PORT_BASE < 1024 || STORM_PORT_BASE > 64000)); then
  die "STORM_PORT_BASE must be a number between 1024 and 64000"
fi
[[ "$STORM_CONNECTIONS" =~ ^[0-9]+$ ]] || die "STORM_CONNECTIONS must be a number"
[[ "$STORM_DIR" == /* && "$STORM_DIR" != "/" ]] || die "STORM_DIR must be an absolute path other than /"

SITE_PORT=$STORM_PORT_BASE
GATEWAY_1_PORT=$((STORM_PORT_BASE + 1))
GATEWAY_2_PORT=$((STORM_PORT_BASE + 2))
WRITER_PORT=$((STORM_PORT_BASE + 20))
export PG_PORT=$((STORM_PORT_BASE + 432))
export REDIS_PORT=$((STORM_PORT_BASE + 379))
export KAFKA_PORT=$((STORM_PORT_BASE + 92))
export KAFKA_CONTROLLER_PORT=$((STORM_PORT_BASE + 93))
export STACK_DIR="$STORM_DIR/stack"
BIN_DIR="$STORM_DIR/bin"
LOG_DIR="$STORM_DIR/logs"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$STORM_PROFILE" in
  dev) BUILD_DIR="$TARGET_DIR/debug" ;;
  release) BUILD_DIR="$TARGET_DIR/release" ;;
  *) die "STORM_PROFILE must be dev or release" ;;
esac

nginx_ctl() {
  NGINX_DIR="$STORM_DIR/nginx" SITE_ROOT="$STORM_DIR/site" SITE_PORT="$SITE_PORT" \
    GATEWAY_1_PORT="$GATEWAY_1_PORT" GATEWAY_2_PORT="$GATEWAY_2_PORT" \
    NGINX_BENCH_SOCKETS="$STORM_CONNECTIONS" "$ROOT/scripts/nginx.sh" "$@"
}

stop_everything() {
  log "stopping nginx and the storm's stack (logs stay in $LOG_DIR)"
  nginx_ctl down >/dev/null 2>&1 || log "stopping nginx failed"
  "$ROOT/scripts/stack.sh" down dev >/dev/null 2>&1 || log "stopping the storm's stack failed"
}

phase 1 5 "building the binaries ($STORM_PROFILE profile) and copying them to $BIN_DIR"
profile_args=()
[[ "$STORM_PROFILE" == release ]] && profile_args=(--release)
cargo build --locked "${profile_args[@]}" -p chat-core -p chat-gateway -p chat-writer -p loadgen --bins
phase_done "built"

phase 2 5 "a fresh stack in $STACK_DIR: Postgres $PG_PORT, Redis $REDIS_PORT, Kafka $KAFKA_PORT"
if [[ -d "$STORM_DIR" ]]; then
  stop_everything
  rm -rf -- "$STORM_DIR"
fi
for port in "$SITE_PORT" "$GATEWAY_1_PORT" "$GATEWAY_2_PORT" "$WRITER_PORT" \
  "$PG_PORT" "$REDIS_PORT" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
  port_open "$port" && die "port $port is taken (set STORM_PORT_BASE)"
done
mkdir -p "$BIN_DIR" "$LOG_DIR" "$STORM_DIR/site"
for bin in gateway writer migrate storm; do
  cp "$BUILD_DIR/$bin" "$BIN_DIR/$bin"
done
printf '<!doctype html>\n<title>storm</title>\n' >"$STORM_DIR/site/index.html"
trap stop_everything EXIT
"$ROOT/scripts/stack.sh" up dev >"$LOG_DIR/stack.log" 2>&1 ||
  die_with_log "$LOG_DIR/stack.log" "the storm's stack did not start"
# shellcheck source=/dev/null
source "$STACK_DIR/dev/env"
phase_done "stack up ($DATABASE_URL, $REDIS_URL, kafka $KAFKA_BROKERS)"

phase 3 5 "migrations"
"$BIN_DIR/migrate" >"$LOG_DIR/migrate.log" 2>&1 || die_with_log "$LOG_DIR/migrate.log" "migrations failed"
phase_done "migrated"

phase 4 5 "nginx on 127.0.0.1:$SITE_PORT in front of :$GATEWAY_1_PORT and :$GATEWAY_2_PORT, sized for $STORM_CONNECTIONS sockets"
nginx_ctl up >"$LOG_DIR/nginx-up.log" 2>&1 || die_with_log "$LOG_DIR/nginx-up.log" "nginx did not start"
phase_done "nginx up"

phase 5 5 "the storm (output also in $STORM_DIR/storm.log)"
ulimit -n "$(ulimit -Hn)"
export STORM_BIN_DIR="$BIN_DIR" STORM_LOG_DIR="$LOG_DIR"
export STORM_SITE_PORT="$SITE_PORT" STORM_GATEWAY_1_PORT="$GATEWAY_1_PORT" STORM_GATEWAY_2_PORT="$GATEWAY_2_PORT"
export STORM_WRITER_PORT="$WRITER_PORT"
# Bench-only settings of the gateways, never the defaults: every connection
# comes from one address, a user holds up to 100 of them, and the senders go
# faster than a person.
JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export JWT_SECRET ALLOWED_ORIGINS="http://127.0.0.1:$SITE_PORT" COOKIE_SECURE=false
export ACCESS_TOKEN_TTL_SECS=7200 SIGNUP_MAX_PER_ADDRESS=100000 SIGNUP_MAX_PER_MINUTE=100000
export WS_MAX_CONNECTIONS_PER_ADDRESS=$((STORM_CONNECTIONS + 1000)) WS_MAX_CONNECTIONS_PER_USER=1000
export WS_MESSAGES_PER_SEC=1000 WS_MESSAGES_BURST=1000
export ROOMS_CREATED_PER_HOUR=100000 ROOMS_OWNED_MAX=100000 RUST_LOG=warn
status=0
"$BIN_DIR/storm" 2>&1 | tee "$STORM_DIR/storm.log" || status=$?
if ((status == 0)); then
  phase_done "storm passed"
else
  phase_done "storm FAILED (exit $status)"
fi
exit "$status"
