#!/usr/bin/env bash
# The local services the chat backend needs: Postgres, Redis and Kafka, run
# as plain processes (no systemd, no Docker) with their data under
# $STACK_DIR/<profile> (default .stack/ in the repo).
#
#   scripts/stack.sh up     [dev|test]   start what is not running (test: wipe first)
#   scripts/stack.sh down   [dev|test]   stop everything this profile started
#   scripts/stack.sh status [dev|test]   one line per service; exit 0 all up, 3 otherwise
#
# Profiles (ports can be overridden with PG_PORT, REDIS_PORT, KAFKA_PORT,
# KAFKA_CONTROLLER_PORT):
#   dev   Postgres 15432, Redis 16379 (AOF on),  Kafka 19092 (controller 19093); data kept;
#         the chat's topics fsync before the ack (flush.messages=1), as in production
#   test  Postgres 25432, Redis 26379 (no persistence), Kafka 29092 (controller 29093),
#         topics with the broker's defaults (no fsync: tests survive no power loss);
#         `up` stops anything running and wipes $STACK_DIR/test first: fresh state every run
#
# After `up`, $STACK_DIR/<profile>/env holds `export VAR=value` lines
# (DATABASE_URL, REDIS_URL, KAFKA_BROKERS, KAFKA_TOPIC, KAFKA_DLQ_TOPIC):
#   source .stack/dev/env
set -euo pipefail

LOG_NAME=stack
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  # The comment block at the top of this file.
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

ACTION="${1:-}"
PROFILE="${2:-dev}"
case "$ACTION" in
  up | down | status) ;;
  -h | --help | help)
    usage
    exit 0
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac

case "$PROFILE" in
  dev)
    PG_PORT="${PG_PORT:-15432}"
    REDIS_PORT="${REDIS_PORT:-16379}"
    KAFKA_PORT="${KAFKA_PORT:-19092}"
    KAFKA_TOPIC_CONFIG="flush.messages=1"
    ;;
  test)
    PG_PORT="${PG_PORT:-25432}"
    REDIS_PORT="${REDIS_PORT:-26379}"
    KAFKA_PORT="${KAFKA_PORT:-29092}"
    KAFKA_TOPIC_CONFIG=""
    ;;
  *) die "unknown profile '$PROFILE' (dev or test)" ;;
esac
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
for _p in "$PG_PORT" "$REDIS_PORT" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
  if ! [[ "$_p" =~ ^[0-9]+$ ]] || ((_p < 1 || _p > 65535)); then
    die "not a port number: '$_p'"
  fi
done
KAFKA_TOPIC="${KAFKA_TOPIC:-chat.messages}"
KAFKA_DLQ_TOPIC="${KAFKA_DLQ_TOPIC:-chat.messages.dlq}"
DB_NAME=chat

PROFILE_DIR="$STACK_DIR/$PROFILE"
PG_DIR="$PROFILE_DIR/postgres"
PGDATA="$PG_DIR/data"
PG_LOG="$PG_DIR/postgres.log"
REDIS_DIR="$PROFILE_DIR/redis"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"
KAFKA_DIR="$PROFILE_DIR/kafka"
ENV_FILE="$PROFILE_DIR/env"

export STACK_DIR KAFKA_DIR KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_TOPIC KAFKA_DLQ_TOPIC KAFKA_TOPIC_CONFIG

# ---------------------------------------------------------------- postgres

# postgres_pid: the postmaster's pid from PGDATA/postmaster.pid when alive.
postgres_pid() {
  local pid
  pid="$(read_pidfile "$PGDATA/postmaster.pid")"
  if [[ -n "$pid" ]] && pid_alive "$pid"; then
    printf '%s' "$pid"
  fi
}

# postgres_running_port: line 4 of postmaster.pid is the port it listens on.
postgres_running_port() {
  sed -n 4p "$PGDATA/postmaster.pid" 2>/dev/null || true
}

postgres_ready() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres
}

# The postgres user must be able to reach its data dir: make every parent
# directory traversable (o+x) for it.
make_traversable_for_postgres() {
  ((EUID == 0)) || return 0
  local d=$1
  while [[ "$d" != "/" && -n "$d" ]]; do
    if ! as_pg_user test -x "$d"; then
      log "chmod o+x $d (so the postgres user can reach $PGDATA)"
      chmod o+x "$d"
    fi
    d="$(dirname "$d")"
  done
}

postgres_up() {
  PG_BIN="$(pg_bindir)"
  mkdir -p "$PG_DIR"
  if ((EUID == 0)); then
    chown postgres:postgres "$PG_DIR"
  fi
  make_traversable_for_postgres "$PG_DIR"

  if [[ ! -f "$PGDATA/PG_VERSION" ]]; then
    log "initdb $PGDATA"
    if ! as_pg_user "$PG_BIN/initdb" -D "$PGDATA" --auth=trust --username=postgres \
      --encoding=UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1; then
      die_with_log "$PG_DIR/initdb.log" "initdb failed"
    fi
  fi

  local pid running_port out
  pid="$(postgres_pid)"
  if [[ -n "$pid" ]]; then
    running_port="$(postgres_running_port)"
    if [[ "$running_port" != "$PG_PORT" ]]; then
      die "postgres (pid $pid) already runs from $PGDATA on port $running_port, not $PG_PORT: run 'scripts/stack.sh down $PROFILE' first"
    fi
    log "postgres already running (pid $pid)"
  else
    if port_open "$PG_PORT"; then
      die "port $PG_PORT on 127.0.0.1 is taken by another process (set PG_PORT, or stop it)"
    fi
    local opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PGDATA -c max_connections=300 -c fsync=on"
    if ! out="$(as_pg_user "$PG_BIN/pg_ctl" -D "$PGDATA" -w -t 60 -l "$PG_LOG" -o "$opts" start 2>&1 9>&-)"; then
      printf '%s\n' "$out" >&2
      die_with_log "$PG_LOG" "postgres did not start"
    fi
  fi
  wait_until "postgres accepts connections on 127.0.0.1:$PG_PORT" 30 postgres_ready ||
    die_with_log "$PG_LOG" "postgres does not accept connections on 127.0.0.1:$PG_PORT"

  local exists
  exists="$("$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
    "select 1 from pg_database where datname = '$DB_NAME'")" ||
    die_with_log "$PG_LOG" "cannot query postgres on 127.0.0.1:$PG_PORT"
  if [[ "$exists" != "1" ]]; then
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB_NAME" ||
      die_with_log "$PG_LOG" "createdb $DB_NAME failed"
    log "created database $DB_NAME"
  else
    log "database $DB_NAME exists"
  fi
}

postgres_down() {
  local pid out
  pid="$(postgres_pid)"
  if [[ -z "$pid" ]]; then
    log "postgres not running ($PGDATA)"
    return 0
  fi
  PG_BIN="$(pg_bindir)"
  log "stopping postgres pid $pid (pg_ctl stop -m fast)"
  if ! out="$(as_pg_user "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop 2>&1)"; then
    printf '%s\n' "$out" >&2
    die_with_log "$PG_LOG" "pg_ctl stop failed"
  fi
  wait_until "postgres pid $pid exits" 30 postgres_gone "$pid" ||
    die_with_log "$PG_LOG" "postgres pid $pid did not exit"
  log "postgres stopped"
}

postgres_gone() {
  ! pid_alive "$1"
}

postgres_status() {
  local pid
  if ! PG_BIN="$(pg_bindir 2>/dev/null)"; then
    printf 'postgres  down  127.0.0.1:%s  (Postgres is not installed)\n' "$PG_PORT"
    return 3
  fi
  pid="$(postgres_pid)"
  if [[ -n "$pid" ]] && postgres_ready; then
    printf 'postgres  up    pid %-7s 127.0.0.1:%s  (%s, data %s)\n' "$pid" "$PG_PORT" "PostgreSQL $(basename "$(dirname "$PG_BIN")")" "$PGDATA"
    return 0
  elif [[ -n "$pid" ]]; then
    printf 'postgres  up?   pid %-7s not answering on 127.0.0.1:%s (listens on %s)\n' "$pid" "$PG_PORT" "$(postgres_running_port)"
    return 3
  fi
  printf 'postgres  down  127.0.0.1:%s\n' "$PG_PORT"
  return 3
}

# ------------------------------------------------------------------- redis

# redis_pid: the pid in our pidfile, if it is a live redis-server.
redis_pid() {
  local pid
  pid="$(read_pidfile "$REDIS_PIDFILE")"
  [[ -n "$pid" ]] || return 0
  pid_alive "$pid" || return 0
  if grep -q '^redis-server' "/proc/$pid/comm" 2>/dev/null; then
    printf '%s' "$pid"
  fi
}

redis_ping() {
  [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]
}

# redis_ready: answers PING; $WAIT_ABORT once its pidfile names a dead process.
redis_ready() {
  redis_ping && return 0
  local pid
  pid="$(read_pidfile "$REDIS_PIDFILE")"
  if [[ -n "$pid" ]] && ! pid_alive "$pid"; then
    return "$WAIT_ABORT"
  fi
  return 1
}

redis_up() {
  mkdir -p "$REDIS_DIR"
  local pid
  pid="$(redis_pid)"
  if [[ -n "$pid" ]]; then
    redis_ping || die "redis (pid $pid from $REDIS_PIDFILE) does not answer on 127.0.0.1:$REDIS_PORT: run 'scripts/stack.sh down $PROFILE' first"
    log "redis already running (pid $pid)"
    return 0
  fi
  if port_open "$REDIS_PORT"; then
    die "port $REDIS_PORT on 127.0.0.1 is taken by another process (set REDIS_PORT, or stop it)"
  fi
  rm -f "$REDIS_PIDFILE"
  local persistence=()
  if [[ "$PROFILE" == "test" ]]; then
    persistence=(--save '' --appendonly no)
  else
    persistence=(--appendonly yes)
  fi
  printf '\n===== %s starting redis on 127.0.0.1:%s =====\n' "$(date -Is)" "$REDIS_PORT" >>"$REDIS_LOG"
  # Errors before redis opens its --logfile (bad arguments) go to stderr:
  # append them to the same log.
  # shellcheck disable=SC2094 # redis-server only writes the log, never reads it
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
    --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" --dir "$REDIS_DIR" \
    "${persistence[@]}" --maxmemory-policy noeviction </dev/null >>"$REDIS_LOG" 2>&1 9>&- ||
    die_with_log "$REDIS_LOG" "redis-server failed to start"
  wait_until "redis answers PING on 127.0.0.1:$REDIS_PORT" 20 redis_ready ||
    die_with_log "$REDIS_LOG" "redis did not start on 127.0.0.1:$REDIS_PORT"
}

redis_gone() {
  [[ -z "$(redis_pid)" ]]
}

redis_down() {
  local pid mode
  pid="$(redis_pid)"
  if [[ -z "$pid" ]]; then
    log "redis not running ($REDIS_DIR)"
    rm -f "$REDIS_PIDFILE"
    return 0
  fi
  # dev keeps its data (SHUTDOWN writes it out); test throws it away.
  mode=""
  [[ "$PROFILE" == "test" ]] && mode=nosave
  log "stopping redis pid $pid (redis-cli shutdown${mode:+ $mode})"
  # shellcheck disable=SC2086 # $mode is one word or nothing
  if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown $mode >/dev/null 2>&1; then
    # Not reachable on $REDIS_PORT (started with another port?): SIGTERM
    # also makes redis shut down cleanly.
    redis_gone || kill -TERM "$pid" 2>/dev/null || true
  fi
  if ! wait_until "redis pid $pid exits" 30 redis_gone; then
    log "redis pid $pid still running: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_until "redis pid $pid exits after SIGKILL" 10 redis_gone || die "redis pid $pid survived SIGKILL"
  fi
  rm -f "$REDIS_PIDFILE"
  log "redis stopped"
}

redis_status() {
  local pid
  pid="$(redis_pid)"
  if [[ -n "$pid" ]] && redis_ping; then
    printf 'redis     up    pid %-7s 127.0.0.1:%s  (%s, data %s)\n' "$pid" "$REDIS_PORT" \
      "$(redis-server --version | awk '{print $3}')" "$REDIS_DIR"
    return 0
  elif [[ -n "$pid" ]]; then
    printf 'redis     up?   pid %-7s not answering on 127.0.0.1:%s\n' "$pid" "$REDIS_PORT"
    return 3
  fi
  printf 'redis     down  127.0.0.1:%s\n' "$REDIS_PORT"
  return 3
}

# ------------------------------------------------------------------- stack

kafka() {
  "$ROOT/scripts/kafka.sh" "$@"
}

env_lines() {
  printf 'DATABASE_URL=postgres://postgres@127.0.0.1:%s/%s\n' "$PG_PORT" "$DB_NAME"
  printf 'REDIS_URL=redis://127.0.0.1:%s\n' "$REDIS_PORT"
  printf 'KAFKA_BROKERS=127.0.0.1:%s\n' "$KAFKA_PORT"
  printf 'KAFKA_TOPIC=%s\n' "$KAFKA_TOPIC"
  printf 'KAFKA_DLQ_TOPIC=%s\n' "$KAFKA_DLQ_TOPIC"
}

write_env_file() {
  {
    printf '# Written by scripts/stack.sh up %s; use: source %s\n' "$PROFILE" "$ENV_FILE"
    env_lines | sed 's/^/export /'
  } >"$ENV_FILE.tmp"
  mv -f "$ENV_FILE.tmp" "$ENV_FILE"
}

stop_all() {
  # Reverse order of start: Kafka first, Postgres last.
  kafka down
  redis_down
  postgres_down
}

wipe_test_data() {
  [[ "$PROFILE" == "test" && "$PROFILE_DIR" == "$STACK_DIR/test" && -n "$STACK_DIR" && "$STACK_DIR" != "/" ]] ||
    die "refusing to wipe '$PROFILE_DIR'"
  if [[ -e "$PROFILE_DIR" ]]; then
    log "test profile: wiping $PROFILE_DIR (fresh state every run)"
    rm -rf -- "$PROFILE_DIR"
  fi
}

# One `up`/`down` per profile at a time: flock on fd 9. Every daemon is
# started with `9>&-`: one that inherited fd 9 would hold the lock forever.
take_lock() {
  mkdir -p "$STACK_DIR"
  exec 9>"$STACK_DIR/.$PROFILE.lock"
  if ! flock -n 9; then
    log "another 'stack.sh ... $PROFILE' holds $STACK_DIR/.$PROFILE.lock: waiting (up to 300s)"
    flock -w 300 9 || die "timed out waiting for $STACK_DIR/.$PROFILE.lock"
  fi
}

cmd_up() {
  take_lock
  log "up $PROFILE: Postgres 127.0.0.1:$PG_PORT, Redis 127.0.0.1:$REDIS_PORT, Kafka 127.0.0.1:$KAFKA_PORT; data $PROFILE_DIR"
  ensure_apt postgresql redis-server
  if [[ "$PROFILE" == "test" ]]; then
    log "test profile: stopping whatever runs from $PROFILE_DIR before wiping it"
    stop_all
    wipe_test_data
  fi
  mkdir -p "$PROFILE_DIR"

  phase 1 4 "starting postgres on 127.0.0.1:$PG_PORT (data $PGDATA)"
  postgres_up
  phase_done "postgres ready"

  phase 2 4 "starting redis on 127.0.0.1:$REDIS_PORT (data $REDIS_DIR)"
  redis_up
  phase_done "redis ready"

  phase 3 4 "starting kafka on 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT, data $KAFKA_DIR)"
  kafka up 9>&-
  phase_done "kafka ready"

  phase 4 4 "writing $ENV_FILE"
  write_env_file
  phase_done "stack $PROFILE is up"

  env_lines
  printf '# source %s\n' "$ENV_FILE"
}

cmd_down() {
  take_lock
  log "down $PROFILE ($PROFILE_DIR)"
  phase 1 3 "stopping kafka"
  kafka down
  phase_done "kafka down"
  phase 2 3 "stopping redis"
  redis_down
  phase_done "redis down"
  phase 3 3 "stopping postgres"
  postgres_down
  phase_done "postgres down"
  log "stack $PROFILE is down"
}

cmd_status() {
  local rc=0
  printf 'profile %s (%s)\n' "$PROFILE" "$PROFILE_DIR"
  postgres_status || rc=3
  redis_status || rc=3
  kafka status || rc=3
  return "$rc"
}

case "$ACTION" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
esac
