#!/usr/bin/env bash
# nginx in front of the gateways (nginx/chat.conf.template), as a plain
# process with everything it writes in one directory.
#
#   scripts/nginx.sh up       render the config, nginx -t, start (or reload a
#                             running one), wait until the site port answers
#   scripts/nginx.sh down     nginx -s quit, wait; then SIGTERM, SIGKILL
#   scripts/nginx.sh status   one line; exit 0 when up, 3 otherwise
#   scripts/nginx.sh check    render the config and run nginx -t, nothing else
#
# Environment (scripts/up.sh sets these):
#   NGINX_DIR             prefix: nginx.conf, nginx.pid, error.log, access.log, *_temp
#                                                             ($STACK_DIR/dev/nginx)
#   SITE_PORT             the site, on 127.0.0.1                            (8080)
#   GATEWAY_1_PORT        first gateway, on 127.0.0.1                       (18081)
#   GATEWAY_2_PORT        second gateway, on 127.0.0.1                      (18082)
#   SITE_ROOT             static files, absolute path          ($STACK_DIR/dev/site)
#   NGINX_READY_TIMEOUT   seconds to wait for the site port to answer       (20)
#   NGINX_STOP_TIMEOUT    seconds a graceful stop may take before SIGTERM   (20)
#   NGINX_BENCH_SOCKETS   benchmarks only (scripts/storm.sh): size nginx for this
#                         many proxied sockets from one address (four workers,
#                         worker_connections and the per-address limit_conn);
#                         unset, the template's limits stand               (unset)
#
# Run as root, nginx's workers run as www-data (the template's `user`): this
# script makes the directories on the way to SITE_ROOT and NGINX_DIR
# traversable for it.
set -euo pipefail

LOG_NAME="${LOG_NAME:-nginx}"
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NGINX_BIN=/usr/sbin/nginx
NGINX_USER=www-data
TEMPLATE="$ROOT/nginx/chat.conf.template"
NGINX_DIR="${NGINX_DIR:-$STACK_DIR/dev/nginx}"
SITE_PORT="${SITE_PORT:-8080}"
GATEWAY_1_PORT="${GATEWAY_1_PORT:-18081}"
GATEWAY_2_PORT="${GATEWAY_2_PORT:-18082}"
SITE_ROOT="${SITE_ROOT:-$STACK_DIR/dev/site}"
NGINX_READY_TIMEOUT="${NGINX_READY_TIMEOUT:-20}"
NGINX_STOP_TIMEOUT="${NGINX_STOP_TIMEOUT:-20}"

CONF="$NGINX_DIR/nginx.conf"
PIDFILE="$NGINX_DIR/nginx.pid"
ERROR_LOG="$NGINX_DIR/error.log"
SITE_URL="http://127.0.0.1:$SITE_PORT/"

# nginx_cmd ARGS...: nginx with our config, prefix and error log (-e, so that
# not even its start-up messages go to /var/log/nginx).
nginx_cmd() {
  "$NGINX_BIN" -c "$CONF" -p "$NGINX_DIR/" -e "$ERROR_LOG" "$@"
}

# master_pid: the pid in our pidfile when it is an nginx master started with
# our config, or nothing.
master_pid() {
  local pid
  pid="$(read_pidfile "$PIDFILE")"
  [[ -n "$pid" ]] || return 0
  pid_alive "$pid" || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F -- "-c $CONF " >/dev/null; then
    printf '%s' "$pid"
  fi
}

check_settings() {
  local p
  for p in "$SITE_PORT" "$GATEWAY_1_PORT" "$GATEWAY_2_PORT"; do
    if ! [[ "$p" =~ ^[0-9]+$ ]] || ((p < 1 || p > 65535)); then
      die "not a port number: '$p'"
    fi
  done
  [[ "$SITE_ROOT" == /* ]] || die "SITE_ROOT must be an absolute path (got '$SITE_ROOT')"
  [[ "$SITE_ROOT" != *[[:space:]\;\{\}\'\"]* ]] ||
    die "SITE_ROOT must not contain spaces, quotes, ';', '{' or '}' (got '$SITE_ROOT')"
  [[ -f "$SITE_ROOT/index.html" ]] || die "$SITE_ROOT/index.html does not exist"
  [[ -x "$NGINX_BIN" ]] || ensure_apt nginx
  command -v envsubst >/dev/null || ensure_apt gettext-base
}

# make_traversable_for_nginx DIR: as root, the workers (www-data) must reach
# DIR: o+x on every directory on the way that they cannot enter.
make_traversable_for_nginx() {
  ((EUID == 0)) || return 0
  local d=$1
  while [[ "$d" != "/" && -n "$d" ]]; do
    if ! runuser -u "$NGINX_USER" -- test -x "$d"; then
      log "chmod o+x $d (so that nginx's $NGINX_USER workers can reach it)"
      chmod o+x "$d"
    fi
    d="$(dirname "$d")"
  done
}

# render: the template with its four placeholders filled in (envsubst is told
# their names, so nginx's own $variables pass through), then nginx -t.
render() {
  check_settings
  mkdir -p "$NGINX_DIR"
  make_traversable_for_nginx "$NGINX_DIR"
  make_traversable_for_nginx "$SITE_ROOT"
  if ((EUID == 0)) && ! runuser -u "$NGINX_USER" -- test -r "$SITE_ROOT/index.html"; then
    die "$NGINX_USER cannot read $SITE_ROOT/index.html (chmod o+r the site's files)"
  fi
  # shellcheck disable=SC2016 # the names envsubst may replace, literally
  SITE_PORT="$SITE_PORT" GATEWAY_1_PORT="$GATEWAY_1_PORT" GATEWAY_2_PORT="$GATEWAY_2_PORT" \
    SITE_ROOT="$SITE_ROOT" envsubst '${SITE_PORT} ${GATEWAY_1_PORT} ${GATEWAY_2_PORT} ${SITE_ROOT}' \
    <"$TEMPLATE" >"$CONF.tmp"
  if [[ -n "${NGINX_BENCH_SOCKETS:-}" ]]; then
    [[ "$NGINX_BENCH_SOCKETS" =~ ^[0-9]+$ ]] || die "NGINX_BENCH_SOCKETS must be a number"
    # Four workers (each within the 20,000 descriptors the template asks for;
    # a process here may not raise its limit further), the site's port shared
    # between them by the kernel (reuseport), and the per-address limit lifted.
    local n=$NGINX_BENCH_SOCKETS
    sed -i -e "s/^worker_processes .*/worker_processes 4;/" \
      -e "s/^\( *\)worker_connections .*/\1worker_connections $((n + 1000));/" \
      -e "s/^\( *listen .*\) default_server;/\1 default_server reuseport;/" \
      -e "s/limit_conn chat_addr [0-9]*;/limit_conn chat_addr $((n + 1000));/" "$CONF.tmp"
    log "sized for a benchmark: $n proxied sockets from one address, four workers"
  fi
  local out
  if ! out="$("$NGINX_BIN" -t -q -c "$CONF.tmp" -p "$NGINX_DIR/" -e "$ERROR_LOG" 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "nginx -t refuses the rendered config ($CONF.tmp, from $TEMPLATE)"
  fi
  mv -f "$CONF.tmp" "$CONF"
  log "rendered $CONF (site 127.0.0.1:$SITE_PORT, gateways 127.0.0.1:$GATEWAY_1_PORT and :$GATEWAY_2_PORT, root $SITE_ROOT); nginx -t ok"
}

# site_answers: the site port gives an HTTP answer (any status: the gateways
# may not be up); $WAIT_ABORT once the master is gone.
site_answers() {
  [[ -n "$(master_pid)" ]] || return "$WAIT_ABORT"
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$SITE_URL" 2>/dev/null || true)"
  [[ -n "$code" && "$code" != 000 ]]
}

cmd_up() {
  render
  local pid
  pid="$(master_pid)"
  if [[ -n "$pid" ]]; then
    log "nginx already running (master pid $pid): reloading its config"
    nginx_cmd -s reload || die_with_log "$ERROR_LOG" "nginx -s reload failed"
  else
    if port_open "$SITE_PORT"; then
      die "port $SITE_PORT on 127.0.0.1 is taken by another process (set SITE_PORT, or stop it)"
    fi
    rm -f "$PIDFILE"
    printf '%s [chat] starting nginx on 127.0.0.1:%s\n' "$(date '+%Y/%m/%d %H:%M:%S')" "$SITE_PORT" >>"$ERROR_LOG"
    log "starting nginx on 127.0.0.1:$SITE_PORT (prefix $NGINX_DIR, log $ERROR_LOG)"
    # nginx daemonizes itself (its own session, pid in $PIDFILE). Our caller
    # closes the lock fds it must not inherit (up.sh: 8>&-).
    nginx_cmd -g 'daemon on;' </dev/null >>"$ERROR_LOG" 2>&1 ||
      die_with_log "$ERROR_LOG" "nginx failed to start"
    wait_until "nginx pid file" 10 test -s "$PIDFILE" ||
      die_with_log "$ERROR_LOG" "nginx did not write $PIDFILE"
  fi
  wait_until "nginx answers on $SITE_URL" "$NGINX_READY_TIMEOUT" site_answers ||
    die_with_log "$ERROR_LOG" "nginx does not answer on $SITE_URL"
  log "nginx up (master pid $(master_pid)) on $SITE_URL"
}

nginx_gone() {
  [[ -z "$(master_pid)" ]]
}

cmd_down() {
  local pid
  pid="$(master_pid)"
  if [[ -z "$pid" ]]; then
    log "nginx not running ($NGINX_DIR)"
    rm -f "$PIDFILE"
    return 0
  fi
  # Graceful: finish the requests in flight (WebSockets: at most the
  # template's worker_shutdown_timeout).
  log "stopping nginx master pid $pid (nginx -s quit, up to ${NGINX_STOP_TIMEOUT}s)"
  nginx_cmd -s quit 2>/dev/null || kill -QUIT "$pid" 2>/dev/null || true
  if ! wait_until "nginx pid $pid exits" "$NGINX_STOP_TIMEOUT" nginx_gone; then
    log "nginx pid $pid still running: SIGTERM (fast shutdown)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "nginx pid $pid exits after SIGTERM" 5 nginx_gone; then
      # Workers outlive a killed master: kill them too.
      local workers
      workers="$(pgrep -P "$pid" | tr '\n' ' ' || true)"
      log "nginx pid $pid still running: SIGKILL (and its workers: ${workers:-none})"
      # shellcheck disable=SC2086 # $workers is a list of pids
      kill -KILL "$pid" $workers 2>/dev/null || true
      wait_until "nginx pid $pid exits after SIGKILL" 10 nginx_gone ||
        die "nginx pid $pid survived SIGKILL"
    fi
  fi
  rm -f "$PIDFILE"
  log "nginx stopped"
}

cmd_status() {
  local pid
  pid="$(master_pid)"
  if [[ -n "$pid" ]] && port_open "$SITE_PORT"; then
    printf 'nginx     up    pid %-7s 127.0.0.1:%s  (gateways :%s :%s, root %s)\n' \
      "$pid" "$SITE_PORT" "$GATEWAY_1_PORT" "$GATEWAY_2_PORT" "$SITE_ROOT"
    return 0
  elif [[ -n "$pid" ]]; then
    printf 'nginx     up?   pid %-7s not answering on 127.0.0.1:%s\n' "$pid" "$SITE_PORT"
    return 3
  fi
  printf 'nginx     down  127.0.0.1:%s\n' "$SITE_PORT"
  return 3
}

usage() {
  # The comment block at the top of this file.
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  check) render ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
