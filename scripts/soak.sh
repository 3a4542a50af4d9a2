#!/usr/bin/env bash
# `make soak`: steady load over both gateways (through nginx) for a set time
# while Postgres, Redis, Kafka, the writer and the gateways are killed at
# random moments, then the checks (the `soak` binary of loadgen/). Not part of
# `make test`. Everything runs on its own ports and in its own directory,
# wiped at the start: never the dev or the test stack.
#
#   scripts/soak.sh
#
# Environment:
#   SOAK_SECONDS            how long to send and inject faults           (1800)
#   SOAK_SEED               seed of the fault schedule and the clients   (the time; printed)
#   SOAK_CLIENTS            users, one connection each                   (20)
#   SOAK_ROOMS              rooms                                        (5)
#   SOAK_ROOMS_PER_CLIENT   rooms each user joins and sends to           (2)
#   SOAK_RATE               new messages per second, all clients         (60)
#   SOAK_FAULT_GAP_MIN_SECS, SOAK_FAULT_GAP_MAX_SECS  time between faults (15, 45)
#   SOAK_OUTAGE_MAX_SECS    a killed service stays down 0.5 s to this    (8)
#   SOAK_FAULTS             kinds: gateway,writer,redis,redis-rollback,kafka,postgres (all)
#   SOAK_REDIS_LOSS_BYTES   what redis-rollback cuts from the end of the AOF (131072)
#   SOAK_DRAIN_SECS         limit of the final drain and of the writer's catch-up (180)
#   SOAK_PROFILE            cargo profile of the binaries: dev or release (dev)
#   SOAK_DIR                its directory: stack, logs, binaries, soak.log ($STACK_DIR/soak)
#   SOAK_PORT_BASE          ports BASE (site), +1 +2 (gateways), +20 (writer),
#                           +432 Postgres, +379 Redis, +92/+93 Kafka     (17000)
#
# The binaries are copied into $SOAK_DIR/bin before the run: a rebuild of the
# shared target directory during the run does not change what a restart runs.
# The output is also in $SOAK_DIR/soak.log; the services' logs in $SOAK_DIR/logs.
set -euo pipefail

LOG_NAME=soak
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

SOAK_DIR="${SOAK_DIR:-$STACK_DIR/soak}"
SOAK_PROFILE="${SOAK_PROFILE:-dev}"
SOAK_PORT_BASE="${SOAK_PORT_BASE:-17000}"
export SOAK_SECONDS="${SOAK_SECONDS:-1800}"
if ! [[ "$SOAK_PORT_BASE" =~ ^[0-9]+$ ]] || ((SOAK_PORT_BASE < 1024 || SOAK_PORT_BASE > 64000)); then
  die "SOAK_PORT_BASE must be a number between 1024 and 64000"
fi
[[ "$SOAK_DIR" == /* && "$SOAK_DIR" != "/" ]] || die "SOAK_DIR must be an absolute path other than /"

SITE_PORT=$SOAK_PORT_BASE
GATEWAY_1_PORT=$((SOAK_PORT_BASE + 1))
GATEWAY_2_PORT=$((SOAK_PORT_BASE + 2))
WRITER_PORT=$((SOAK_PORT_BASE + 20))
export PG_PORT=$((SOAK_PORT_BASE + 432))
export REDIS_PORT=$((SOAK_PORT_BASE + 379))
export KAFKA_PORT=$((SOAK_PORT_BASE + 92))
export KAFKA_CONTROLLER_PORT=$((SOAK_PORT_BASE + 93))
# The stack.sh and kafka.sh of this run use the soak's directory.
export STACK_DIR="$SOAK_DIR/stack"
BIN_DIR="$SOAK_DIR/bin"
LOG_DIR="$SOAK_DIR/logs"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$SOAK_PROFILE" in
  dev) BUILD_DIR="$TARGET_DIR/debug" ;;
  release) BUILD_DIR="$TARGET_DIR/release" ;;
  *) die "SOAK_PROFILE must be dev or release" ;;
esac

stack() {
  "$ROOT/scripts/stack.sh" "$@"
}

nginx_ctl() {
  NGINX_DIR="$SOAK_DIR/nginx" SITE_ROOT="$SOAK_DIR/site" SITE_PORT="$SITE_PORT" \
    GATEWAY_1_PORT="$GATEWAY_1_PORT" GATEWAY_2_PORT="$GATEWAY_2_PORT" \
    "$ROOT/scripts/nginx.sh" "$@"
}

stop_everything() {
  log "stopping nginx and the soak's stack (logs stay in $LOG_DIR)"
  nginx_ctl down >/dev/null 2>&1 || log "stopping nginx failed"
  stack down dev >/dev/null 2>&1 || log "stopping the soak's stack failed"
}

phase 1 5 "building the binaries ($SOAK_PROFILE profile) and copying them to $BIN_DIR"
profile_args=()
[[ "$SOAK_PROFILE" == release ]] && profile_args=(--release)
cargo build --locked "${profile_args[@]}" -p chat-core -p chat-gateway -p chat-writer -p loadgen --bins
phase_done "built"

phase 2 5 "a fresh stack in $STACK_DIR: Postgres $PG_PORT, Redis $REDIS_PORT (AOF everysec), Kafka $KAFKA_PORT"
if [[ -d "$SOAK_DIR" ]]; then
  # whatever a previous run left running from this directory, then its data
  stop_everything
  rm -rf -- "$SOAK_DIR"
fi
for port in "$SITE_PORT" "$GATEWAY_1_PORT" "$GATEWAY_2_PORT" "$WRITER_PORT" \
  "$PG_PORT" "$REDIS_PORT" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
  port_open "$port" && die "port $port is taken (set SOAK_PORT_BASE)"
done
mkdir -p "$BIN_DIR" "$LOG_DIR" "$SOAK_DIR/site"
for bin in gateway writer migrate soak; do
  cp "$BUILD_DIR/$bin" "$BIN_DIR/$bin"
done
printf '<!doctype html>\n<title>soak</title>\n' >"$SOAK_DIR/site/index.html"
trap stop_everything EXIT
stack up dev >"$LOG_DIR/stack.log" 2>&1 || die_with_log "$LOG_DIR/stack.log" "the soak's stack did not start"
# shellcheck source=/dev/null
source "$STACK_DIR/dev/env"
phase_done "stack up ($DATABASE_URL, $REDIS_URL, kafka $KAFKA_BROKERS)"

phase 3 5 "migrations"
"$BIN_DIR/migrate" >"$LOG_DIR/migrate.log" 2>&1 || die_with_log "$LOG_DIR/migrate.log" "migrations failed"
phase_done "migrated"

phase 4 5 "nginx on 127.0.0.1:$SITE_PORT in front of 127.0.0.1:$GATEWAY_1_PORT and :$GATEWAY_2_PORT"
nginx_ctl up >"$LOG_DIR/nginx-up.log" 2>&1 || die_with_log "$LOG_DIR/nginx-up.log" "nginx did not start"
phase_done "nginx up"

phase 5 5 "soak for ${SOAK_SECONDS}s (output also in $SOAK_DIR/soak.log)"
export SOAK_BIN_DIR="$BIN_DIR" SOAK_LOG_DIR="$LOG_DIR" SOAK_STACK_SCRIPT="$ROOT/scripts/stack.sh"
export SOAK_SITE_PORT="$SITE_PORT" SOAK_GATEWAY_1_PORT="$GATEWAY_1_PORT" SOAK_GATEWAY_2_PORT="$GATEWAY_2_PORT"
export SOAK_WRITER_PORT="$WRITER_PORT"
# the gateways' settings: a token outlives the run, the clients' sends
# and resends after an outage are not refused by the per-user rate limit,
# and one user creates every room of the run
JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export JWT_SECRET ALLOWED_ORIGINS="http://127.0.0.1:$SITE_PORT" COOKIE_SECURE=false
export ACCESS_TOKEN_TTL_SECS=$((SOAK_SECONDS + 3600)) LOGIN_MAX_ATTEMPTS_PER_ADDRESS=1000
# every client signs up from one address (default: 10 per address per hour)
export SIGNUP_MAX_PER_ADDRESS=100000 SIGNUP_MAX_PER_MINUTE=100000
export WS_MESSAGES_PER_SEC=50 WS_MESSAGES_BURST=200
export ROOMS_CREATED_PER_HOUR=10000 ROOMS_OWNED_MAX=10000
status=0
"$BIN_DIR/soak" 2>&1 | tee "$SOAK_DIR/soak.log" || status=$?
if ((status == 0)); then
  phase_done "soak passed"
else
  phase_done "soak FAILED (exit $status): see the violations above"
fi
exit "$status"
