#!/usr/bin/env bash
# Everything a developer needs running, in one command (`make up`): installs
# what is missing, builds the release binaries, starts the dev stack
# (Postgres, Redis, Kafka), applies the migrations, starts the services (the
# writer and two gateways) and waits until they are ready, puts nginx in front
# of the gateways, then prints where everything is. Safe to run again: it
# rebuilds, keeps the stack, restarts the services so that they run the new
# binaries, and reloads nginx. `make down` (scripts/down.sh) stops it all.
#
#   scripts/up.sh
#
#   1. scripts/deps.sh
#   2. cargo build --release --locked --bins
#   3. scripts/stack.sh up dev, then the variables of $STACK_DIR/dev/env
#   4. target/release/migrate
#   5. the services in SERVICES below, in the background (a running one is stopped first);
#      the bot only when OLLAMA_URL and OLLAMA_MODEL are set
#   6. wait until each answers 200 on http://ADDRESS/readyz
#   7. scripts/nginx.sh up: http://127.0.0.1:$SITE_PORT/ serves the web client
#      (frontend/dist, or a placeholder page) and proxies /api/, /ws and
#      /healthz to the gateways
#
# Settings: the environment, then $ROOT/.env (if present, sourced with set -a;
# it wins over everything, including the stack's DATABASE_URL & co.). Also:
#   SITE_PORT              the site (nginx) on 127.0.0.1                 (8080)
#   GATEWAY_1_PORT         gateway-1 on 127.0.0.1                        (18081)
#   GATEWAY_2_PORT         gateway-2 on 127.0.0.1                        (18082)
#   SITE_ROOT              static files nginx serves  (frontend/dist if it has an
#                          index.html, else a placeholder in $STACK_DIR/dev/site)
#   JWT_SECRET             the gateways' token key; when unset, one is generated
#                          once into $STACK_DIR/dev/secrets/jwt_secret and reused
#   READY_TIMEOUT          seconds a service has to become ready         (60)
#   SERVICE_STOP_TIMEOUT   seconds a service has to drain on SIGTERM     (30)
#   MIGRATE_TIMEOUT        seconds the migrations may take               (120)
set -euo pipefail

LOG_NAME=up
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
load_dotenv

SITE_PORT="${SITE_PORT:-8080}"
GATEWAY_1_PORT="${GATEWAY_1_PORT:-18081}"
GATEWAY_2_PORT="${GATEWAY_2_PORT:-18082}"

# The services built from this workspace, in start order (down.sh stops them
# in reverse). One line per service: NAME[:BINARY] ADDR_VAR=ADDRESS [VAR=VALUE...]
#   NAME       log $LOG_DIR/NAME.log, pid $RUN_DIR/NAME.pid
#   BINARY     target/release/BINARY (default: NAME); several instances of one
#              binary each get a NAME of their own
#   ADDR_VAR   where it serves /readyz (waited for) and /metrics
#   VAR=VALUE  more settings for it alone
# Every VALUE is a default: the environment and .env override it. Except on
# an instance line (NAME:BINARY): one variable cannot hold two instances'
# addresses, so those values are the line's own; change them through the
# variables the line is built from (GATEWAY_1_PORT, GATEWAY_2_PORT).
SERVICES=(
  "writer WRITER_HTTP_ADDR=127.0.0.1:19100 WRITER_GROUP_INSTANCE_ID=writer-1"
  "gateway-1:gateway GATEWAY_ADDR=127.0.0.1:$GATEWAY_1_PORT GATEWAY_INSTANCE_ID=gateway-1"
  "gateway-2:gateway GATEWAY_ADDR=127.0.0.1:$GATEWAY_2_PORT GATEWAY_INSTANCE_ID=gateway-2"
)
# The room bot, when an Ollama is configured (OLLAMA_URL and OLLAMA_MODEL in
# the environment or .env; see env.sample): it needs a running Ollama.
if [[ -n "${OLLAMA_URL:-}" && -n "${OLLAMA_MODEL:-}" ]]; then
  SERVICES+=("bot BOT_HTTP_ADDR=127.0.0.1:19200 BOT_GROUP_INSTANCE_ID=bot-1")
fi
# Settings every service gets unless the environment or .env set them (the
# gateways' are for the local site: plain HTTP behind nginx on $SITE_PORT).
: "${LOG_FORMAT:=json}" "${RUST_LOG:=info}"
: "${ALLOWED_ORIGINS:=http://127.0.0.1:$SITE_PORT,http://localhost:$SITE_PORT}"
: "${COOKIE_SECURE:=false}" "${TRUSTED_PROXIES:=127.0.0.1/32,::1/128}"
# every local client reaches the gateways as 127.0.0.1
: "${WS_MAX_CONNECTIONS_PER_ADDRESS:=10000}"
export LOG_FORMAT RUST_LOG ALLOWED_ORIGINS COOKIE_SECURE TRUSTED_PROXIES WS_MAX_CONNECTIONS_PER_ADDRESS

READY_TIMEOUT="${READY_TIMEOUT:-60}"
SERVICE_STOP_TIMEOUT="${SERVICE_STOP_TIMEOUT:-30}"
MIGRATE_TIMEOUT="${MIGRATE_TIMEOUT:-120}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[[ "$TARGET_DIR" == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
BIN_DIR="$TARGET_DIR/release"
PROFILE_DIR="$STACK_DIR/dev"
RUN_DIR="$PROFILE_DIR/run"
LOG_DIR="$PROFILE_DIR/logs"
ENV_FILE="$PROFILE_DIR/env"
LOCK_FILE="$STACK_DIR/.dev.services.lock"
SECRETS_DIR="$PROFILE_DIR/secrets"
NGINX_DIR="$PROFILE_DIR/nginx"
SITE_URL="http://127.0.0.1:$SITE_PORT"

# parse_service LINE: sets SVC_NAME, SVC_BIN, SVC_ADDR_VAR, SVC_ADDR and
# SVC_ENV (the VAR=VALUE settings, with the environment's values where it has
# them and the line is not an instance line).
parse_service() {
  local kv var value instance=""
  local -a fields
  read -r -a fields <<<"$1"
  ((${#fields[@]} >= 2)) || die "SERVICES entry '$1': want NAME[:BINARY] ADDR_VAR=ADDRESS [VAR=VALUE...]"
  SVC_NAME="${fields[0]%%:*}"
  SVC_BIN="${fields[0]#*:}"
  [[ "${fields[0]}" == *:* ]] && instance=1
  [[ -n "$SVC_NAME" && -n "$SVC_BIN" && "$SVC_BIN" != *:* ]] ||
    die "SERVICES entry '$1': '${fields[0]}' is not NAME or NAME:BINARY"
  SVC_ADDR_VAR=""
  SVC_ENV=()
  for kv in "${fields[@]:1}"; do
    var="${kv%%=*}"
    [[ "$kv" == *=* && "$var" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
      die "SERVICES entry '$1': '$kv' is not VAR=VALUE"
    if [[ -n "$instance" ]]; then
      value="${kv#*=}"
    else
      value="${!var:-${kv#*=}}"
    fi
    SVC_ENV+=("$var=$value")
    if [[ -z "$SVC_ADDR_VAR" ]]; then
      SVC_ADDR_VAR="$var"
      SVC_ADDR="$value"
    fi
  done
}

# close_inherited_fds: closes every fd above 2 of the current (sub)shell: the
# lock, and whatever our caller left open (a pipe someone waits on to close).
close_inherited_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd="${fd##*/}"
    if ((fd > 2)); then
      exec {fd}>&-
    fi
  done
}

# http_code URL: the HTTP status URL answers with ("000": no answer).
http_code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true
}

# service_ready PIDFILE URL: URL answers 200; $WAIT_ABORT once the process is gone.
service_ready() {
  local pid
  pid="$(read_pidfile "$1")"
  if [[ -z "$pid" ]] || ! pid_alive "$pid"; then
    return "$WAIT_ABORT"
  fi
  [[ "$(http_code "$2")" == 200 ]]
}

# start_service: starts $SVC_NAME in its own session (it outlives this script
# and a Ctrl-C here), after stopping the one a previous `up` left running.
start_service() {
  local name=$SVC_NAME
  local bin="$BIN_DIR/$SVC_BIN" pidfile="$RUN_DIR/$name.pid" logfile="$LOG_DIR/$name.log"
  local pid host port
  pid="$(read_pidfile "$pidfile")"
  if [[ -n "$pid" ]] && pid_runs_binary "$pid" "$bin"; then
    stop_pid "$name (started by a previous make up)" "$pid" "$SERVICE_STOP_TIMEOUT"
  elif [[ -n "$pid" ]]; then
    log "$pidfile names pid $pid, which is not a running $bin: ignoring it"
  fi
  rm -f "$pidfile"

  host="${SVC_ADDR%:*}"
  host="${host#[}"
  host="${host%]}"
  port="${SVC_ADDR##*:}"
  if port_open "$port" "$host"; then
    die "$SVC_ADDR ($SVC_ADDR_VAR) is taken by another process (stop it, or set $SVC_ADDR_VAR in $ROOT/.env)"
  fi

  # The previous run's log is kept as NAME.log.1; NAME.log is this run's alone.
  if [[ -e "$logfile" ]]; then
    mv -f "$logfile" "$logfile.1"
  fi
  log "starting $name on $SVC_ADDR (${SVC_ENV[*]}), log $logfile"
  # The child writes its own pid before exec'ing the binary, so the pid file is
  # exact whether or not setsid had to fork. The second line names the binary
  # (down.sh checks that the pid still runs it).
  (
    close_inherited_fds
    export "${SVC_ENV[@]}"
    # shellcheck disable=SC2016 # $$, $1 and $@ are for the inner bash
    exec setsid bash -c 'printf "%s\n%s\n" "$$" "$2" >"$1"; shift; exec "$@"' "$name-launch" "$pidfile" "$bin"
  ) </dev/null >"$logfile" 2>&1 &
  wait_until "$name pid file" 10 test -s "$pidfile" ||
    die_with_log "$logfile" "$name did not start"
}

# wait_service_ready: waits for $SVC_NAME's /readyz; on failure, its log.
wait_service_ready() {
  local name=$SVC_NAME
  local pidfile="$RUN_DIR/$name.pid" logfile="$LOG_DIR/$name.log"
  local url="http://$SVC_ADDR/readyz"
  if ! wait_until "$name answers 200 on $url" "$READY_TIMEOUT" service_ready "$pidfile" "$url"; then
    local pid
    pid="$(read_pidfile "$pidfile")"
    if [[ -z "$pid" ]] || ! pid_alive "$pid"; then
      die_with_log "$logfile" "$name exited during startup"
    fi
    die_with_log "$logfile" "$name is not ready on $url after ${READY_TIMEOUT}s (still running as pid $pid; make down stops it)"
  fi
}

# print_summary: one line per service (status, pid, address), then where the
# logs are and how to stop.
print_summary() {
  local line status pid code
  printf '\nchat dev stack is up (make up took %s)\n\n' "$(_fmt_us $(($(_now_us) - CHAT_T0_US)))"
  "$ROOT/scripts/stack.sh" status dev 2>&1 || true
  for line in "${SERVICES[@]}"; do
    parse_service "$line"
    pid="$(read_pidfile "$RUN_DIR/$SVC_NAME.pid")"
    code="$(http_code "http://$SVC_ADDR/readyz")"
    if [[ -n "$pid" ]] && pid_alive "$pid" && [[ "$code" == 200 ]]; then
      status=up
    else
      status="down?"
    fi
    printf '%-9s %-5s pid %-7s %s  (ready http://%s/readyz -> %s, metrics http://%s/metrics)\n' \
      "$SVC_NAME" "$status" "${pid:--}" "$SVC_ADDR" "$SVC_ADDR" "$code" "$SVC_ADDR"
  done
  if [[ -z "${OLLAMA_URL:-}" || -z "${OLLAMA_MODEL:-}" ]]; then
    printf 'bot       off       (set OLLAMA_URL and OLLAMA_MODEL in .env to turn it on; see README)\n'
  fi
  print_site

  printf '\nlogs\n'
  for line in "${SERVICES[@]}"; do
    parse_service "$line"
    printf '  %-9s %s\n' "$SVC_NAME" "$LOG_DIR/$SVC_NAME.log"
  done
  printf '  %-9s %s\n' \
    nginx "$NGINX_DIR/error.log, $NGINX_DIR/access.log" \
    migrate "$LOG_DIR/migrate.log" \
    postgres "$PROFILE_DIR/postgres/postgres.log" \
    redis "$PROFILE_DIR/redis/redis.log" \
    kafka "$PROFILE_DIR/kafka/kafka.log"
  printf '\nenv       source %s   (DATABASE_URL, REDIS_URL, KAFKA_BROKERS, KAFKA_TOPIC, KAFKA_DLQ_TOPIC)\n' "$ENV_FILE"
  printf 'stop      make down\n'
}

# nginx_sh ARGS...: scripts/nginx.sh for the dev profile. It must not inherit
# the lock (fd 8): nginx outlives this script.
nginx_sh() {
  NGINX_DIR="$NGINX_DIR" SITE_PORT="$SITE_PORT" SITE_ROOT="$SITE_ROOT" \
    GATEWAY_1_PORT="$GATEWAY_1_PORT" GATEWAY_2_PORT="$GATEWAY_2_PORT" \
    "$ROOT/scripts/nginx.sh" "$@" 8>&-
}

# print_site: nginx, and where a browser and an API client go. The site is up
# when /healthz answers 200 through nginx (a gateway behind it is up).
print_site() {
  local code status
  nginx_sh status 2>&1 || true
  code="$(http_code "$SITE_URL/healthz")"
  status="down?"
  [[ "$code" == 200 ]] && status=up
  printf '%-9s %-5s %s/  (healthz through nginx -> %s, static files %s)\n' site "$status" "$SITE_URL" "$code" "$SITE_ROOT"
  printf '%-9s %-5s %s/api/  (OpenAPI %s/api/openapi.json)\n' api "$status" "$SITE_URL" "$SITE_URL"
  printf '%-9s %-5s ws://127.0.0.1:%s/ws  (allowed Origins %s)\n' websocket "$status" "$SITE_PORT" "$ALLOWED_ORIGINS"
}

# ensure_jwt_secret: the gateways refuse to start without JWT_SECRET. When
# neither the environment nor .env sets it, 32 random bytes (hex) are written
# once to $SECRETS_DIR/jwt_secret (mode 600, under the git-ignored .stack/)
# and reused by every later `make up`, so that tokens outlive a restart. The
# secret is exported to the services, never printed.
ensure_jwt_secret() {
  if [[ -n "${JWT_SECRET:-}" ]]; then
    log "JWT_SECRET: from the environment or .env"
    export JWT_SECRET
    return 0
  fi
  local file="$SECRETS_DIR/jwt_secret" secret
  (umask 077 && mkdir -p "$SECRETS_DIR")
  chmod 700 "$SECRETS_DIR"
  if [[ ! -s "$file" ]]; then
    secret="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    ((${#secret} == 64)) || die "could not read 32 random bytes from /dev/urandom"
    (umask 077 && printf '%s\n' "$secret" >"$file.tmp")
    mv -f "$file.tmp" "$file"
    log "JWT_SECRET: generated into $file (mode 600; delete it to get a new one)"
  else
    log "JWT_SECRET: from $file"
  fi
  chmod 600 "$file"
  JWT_SECRET="$(<"$file")"
  [[ -n "$JWT_SECRET" ]] || die "$file is empty"
  export JWT_SECRET
}

# prepare_site_root: sets SITE_ROOT (when the environment or .env did not) to
# frontend/dist if the web client was built, else to a placeholder page.
prepare_site_root() {
  if [[ -n "${SITE_ROOT:-}" ]]; then
    log "site root: $SITE_ROOT (SITE_ROOT)"
    return 0
  fi
  if [[ -f "$ROOT/frontend/dist/index.html" ]]; then
    SITE_ROOT="$ROOT/frontend/dist"
    log "site root: $SITE_ROOT"
    return 0
  fi
  SITE_ROOT="$PROFILE_DIR/site"
  mkdir -p "$SITE_ROOT"
  # No inline style or script: the site's Content-Security-Policy forbids them.
  cat >"$SITE_ROOT/index.html.tmp" <<'EOF'
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>chat</title>
</head>
<body>
<h1>chat</h1>
<p>The web client is not built yet (there is no frontend/dist). Behind this address:</p>
<ul>
<li><a href="/healthz">/healthz</a>: a gateway answers</li>
<li><a href="/api/openapi.json">/api/openapi.json</a>: the HTTP API</li>
<li>/ws: the WebSocket (docs/protocol.md)</li>
</ul>
</body>
</html>
EOF
  mv -f "$SITE_ROOT/index.html.tmp" "$SITE_ROOT/index.html"
  log "site root: placeholder page $SITE_ROOT/index.html (frontend/dist/index.html does not exist)"
}

names=()
bins=(migrate)
for line in "${SERVICES[@]}"; do
  parse_service "$line"
  names+=("$SVC_NAME")
  [[ " ${bins[*]} " == *" $SVC_BIN "* ]] || bins+=("$SVC_BIN")
done

phase 1 7 "installing what is missing (scripts/deps.sh)"
"$ROOT/scripts/deps.sh" >/dev/null
phase_done "dependencies ready"

phase 2 7 "building the web client (frontend/dist) and the release binaries (${bins[*]}) into $BIN_DIR"
(cd "$ROOT/frontend" && npm ci --no-audit --no-fund && npm run build) || die "building the web client failed (see above)"
cargo build --release --locked --bins || die "cargo build --release --locked --bins failed (see above)"
for bin in "${bins[@]}"; do
  [[ -x "$BIN_DIR/$bin" ]] || die "cargo build did not produce $BIN_DIR/$bin (is there a binary target named $bin?)"
done
phase_done "built"

take_services_lock

phase 3 7 "starting the dev stack (scripts/stack.sh up dev)"
"$ROOT/scripts/stack.sh" up dev >/dev/null 8>&-
# shellcheck source=/dev/null
source "$ENV_FILE"
# Again, so that .env wins over the stack's values too.
load_dotenv
phase_done "dev stack up ($DATABASE_URL, $REDIS_URL, kafka $KAFKA_BROKERS)"

phase 4 7 "applying the migrations (log $LOG_DIR/migrate.log)"
mkdir -p "$RUN_DIR" "$LOG_DIR"
if ! timeout "$MIGRATE_TIMEOUT" "$BIN_DIR/migrate" </dev/null >"$LOG_DIR/migrate.log" 2>&1; then
  die_with_log "$LOG_DIR/migrate.log" "migrations failed (or took over ${MIGRATE_TIMEOUT}s)"
fi
phase_done "migrations applied"

phase 5 7 "starting ${names[*]}"
ensure_jwt_secret
for line in "${SERVICES[@]}"; do
  parse_service "$line"
  start_service
done
phase_done "started"

phase 6 7 "waiting for ${names[*]} to answer 200 on /readyz (up to ${READY_TIMEOUT}s each)"
for line in "${SERVICES[@]}"; do
  parse_service "$line"
  wait_service_ready
done
phase_done "ready"

phase 7 7 "starting nginx on $SITE_URL/ in front of the gateways (:$GATEWAY_1_PORT, :$GATEWAY_2_PORT)"
prepare_site_root
nginx_sh up
phase_done "nginx up"

print_summary
