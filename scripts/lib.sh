# shellcheck shell=bash
# Helpers sourced by the scripts in scripts/. Not meant to be run.
#
#   log MSG...                      "[name 2/4 +3.1s] MSG" on stderr
#   phase N TOTAL MSG...            start a numbered phase (sets the "2/4" part) and log MSG
#   phase_done MSG...               log MSG with the time the current phase took
#   die MSG...                      log an error and exit 1
#   die_with_log LOGFILE MSG...     like die, but also prints the tail of LOGFILE
#   wait_until DESC TIMEOUT CMD...  poll CMD until it succeeds; 1 on timeout, and
#                                   at once if CMD exits WAIT_ABORT (99): "can never succeed"
#   port_open PORT [HOST]           something accepts TCP connections there
#   ensure_apt PKG...               apt-get install only the missing packages, no daemons started
#   as_pg_user CMD...               run CMD as the postgres user when we are root
#   pg_bindir                       /usr/lib/postgresql/<newest>/bin
#   load_dotenv                     source $ROOT/.env (if present) with set -a: the user's overrides
#   pid_runs_binary PID PATH        PID is alive and executes PATH (also after PATH was rebuilt)
#   stop_pid DESC PID TIMEOUT       SIGTERM, wait up to TIMEOUT s for PID to exit, then SIGKILL
#   ensure_pip PKG==VER...          pip-install pinned Python tools into $TOOLS_VENV (once) and
#                                   put its bin/ first on PATH
#
# Variables: ROOT (repo root), STACK_DIR (default $ROOT/.stack), LOG_NAME,
# TOOLS_VENV (default $STACK_DIR/tools/venv).

if [[ -n "${_CHAT_LIB_SOURCED:-}" ]]; then
  return 0
fi
_CHAT_LIB_SOURCED=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
LOG_NAME="${LOG_NAME:-$(basename "$0" .sh)}"
WAIT_ABORT=99
TOOLS_VENV="${TOOLS_VENV:-$STACK_DIR/tools/venv}"

# Microseconds since the epoch (bash 5's EPOCHREALTIME, without the dot).
_now_us() {
  local t="${EPOCHREALTIME:-}"
  if [[ -n "$t" ]]; then
    t="${t/./}"
    t="${t/,/}"
    printf '%s' "$t"
  else
    printf '%s000000' "$(date +%s)"
  fi
}

# A child script (stack.sh -> kafka.sh) inherits the start time, so the
# elapsed seconds in its log lines continue the parent's.
CHAT_T0_US="${CHAT_T0_US:-$(_now_us)}"
export CHAT_T0_US
_PHASE=""
_PHASE_T0_US="$CHAT_T0_US"

# Microseconds -> "12.3s".
_fmt_us() {
  local us=$1
  printf '%d.%ds' $((us / 1000000)) $(((us % 1000000) / 100000))
}

log() {
  printf '[%s%s +%s] %s\n' "$LOG_NAME" "${_PHASE:+ $_PHASE}" \
    "$(_fmt_us $(($(_now_us) - CHAT_T0_US)))" "$*" >&2
}

phase() {
  local n=$1 total=$2
  shift 2
  _PHASE="$n/$total"
  _PHASE_T0_US="$(_now_us)"
  log "$@"
}

phase_done() {
  log "$* (took $(_fmt_us $(($(_now_us) - _PHASE_T0_US))))"
  _PHASE=""
}

die() {
  log "ERROR: $*"
  exit 1
}

# die_with_log LOGFILE MSG...: the error, then the last lines of the service's log.
die_with_log() {
  local logfile=$1
  shift
  log "ERROR: $*"
  if [[ -s "$logfile" ]]; then
    printf -- '----- last 40 lines of %s -----\n' "$logfile" >&2
    tail -n 40 "$logfile" >&2
    printf -- '----- end of %s -----\n' "$logfile" >&2
  else
    log "(log file $logfile is missing or empty)"
  fi
  exit 1
}

# wait_until DESCRIPTION TIMEOUT_SECONDS COMMAND...
# Runs COMMAND (output discarded) every 0.25 s until it succeeds. Returns 0 on
# success, 1 when the deadline passes, 1 at once when COMMAND exits
# $WAIT_ABORT (it knows that waiting longer cannot help, e.g. the process died).
# Says every 10 s that it is still waiting.
wait_until() {
  local desc=$1 timeout=$2
  shift 2
  local start now deadline next_note rc
  start="$(_now_us)"
  deadline=$((start + timeout * 1000000))
  next_note=$((start + 10000000))
  while :; do
    rc=0
    "$@" >/dev/null 2>&1 || rc=$?
    now="$(_now_us)"
    if ((rc == 0)); then
      log "$desc: ok after $(_fmt_us $((now - start)))"
      return 0
    fi
    if ((rc == WAIT_ABORT)); then
      log "$desc: gave up after $(_fmt_us $((now - start))) (cannot succeed any more)"
      return 1
    fi
    if ((now >= deadline)); then
      log "$desc: timed out after ${timeout}s"
      return 1
    fi
    if ((now >= next_note)); then
      log "still waiting: $desc ($(_fmt_us $((now - start))) of ${timeout}s)"
      next_note=$((now + 10000000))
    fi
    sleep 0.25
  done
}

# port_open PORT [HOST]: true when something accepts a TCP connection.
port_open() {
  local port=$1 host=${2:-127.0.0.1}
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# pid_alive PID: the process exists (and is not a zombie).
pid_alive() {
  local pid=$1 state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/stat" ]] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != "Z" ]]
}

# read_pidfile FILE: prints the pid in FILE, or nothing.
read_pidfile() {
  local f=$1 pid=""
  if [[ -r "$f" ]]; then
    read -r pid <"$f" || true
  fi
  if [[ "$pid" =~ ^[0-9]+$ ]]; then
    printf '%s' "$pid"
  fi
}

_apt_updated=""

_apt_has_candidate() {
  apt-cache policy "$1" 2>/dev/null | grep 'Candidate: [^(]' >/dev/null
}

_apt_restore_policy() {
  local policy=/usr/sbin/policy-rc.d
  rm -f "$policy"
  if [[ -e "$policy.chat-stack-bak" ]]; then
    mv -f "$policy.chat-stack-bak" "$policy"
  fi
}

# ensure_apt PKG...: installs the packages that are not installed yet.
# While apt-get runs, /usr/sbin/policy-rc.d exits 101 so that no package
# starts its system service (a stray postgres on 5432, nginx on 80): we run
# our own instances on our own ports.
ensure_apt() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -x 'installed' >/dev/null; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  if ((EUID != 0)); then
    die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
  fi
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get on this machine"

  local need_update=""
  for p in "${missing[@]}"; do
    _apt_has_candidate "$p" || need_update=1
  done
  if [[ -n "$need_update" && -z "$_apt_updated" ]]; then
    log "apt-get update (package lists do not know all of: ${missing[*]})"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
    _apt_updated=1
  fi

  log "apt-get install ${missing[*]}"
  local aptlog
  aptlog="$(mktemp /tmp/chat-apt.XXXXXX)"
  if ! (
    policy=/usr/sbin/policy-rc.d
    trap _apt_restore_policy EXIT
    trap 'exit 130' INT TERM
    if [[ -e "$policy" ]]; then
      mv -f "$policy" "$policy.chat-stack-bak"
    fi
    printf '#!/bin/sh\n# written by chat scripts/lib.sh during apt-get install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "${missing[@]}"
  ) >"$aptlog" 2>&1; then
    die_with_log "$aptlog" "apt-get install ${missing[*]} failed"
  fi
  rm -f "$aptlog"
  log "installed ${missing[*]}"
}

# as_pg_user CMD...: Postgres refuses to run as root. As root, run CMD as the
# postgres user (from /, so that a cwd it cannot read does not matter);
# otherwise run it as we are.
as_pg_user() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# pg_bindir: the bin directory of the newest installed Postgres server.
pg_bindir() {
  local v
  v="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)"
  if [[ -z "$v" || ! -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]]; then
    die "no Postgres server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
  fi
  printf '/usr/lib/postgresql/%s/bin' "$v"
}

# load_dotenv: sources $ROOT/.env when it exists, exporting every variable it
# sets (set -a), so a user can override any setting without editing scripts.
load_dotenv() {
  local f="$ROOT/.env"
  [[ -f "$f" ]] || return 0
  set -a
  # shellcheck source=/dev/null
  if ! source "$f"; then
    set +a
    die "sourcing $f failed"
  fi
  set +a
}

# pid_runs_binary PID PATH: PID is alive and its executable is PATH. A binary
# that was rebuilt (unlinked, linked again) since PID started shows up in
# /proc/PID/exe as "PATH (deleted)": that still counts.
pid_runs_binary() {
  local pid=$1 path exe
  pid_alive "$pid" || return 1
  path="$(readlink -f -- "$2")" || return 1
  exe="$(readlink -- "/proc/$pid/exe" 2>/dev/null)" || return 1
  [[ "${exe% (deleted)}" == "$path" ]]
}

pid_gone() {
  ! pid_alive "$1"
}

# stop_pid DESC PID TIMEOUT: SIGTERM, give PID up to TIMEOUT seconds to finish
# (e.g. drain its work), then SIGKILL. Returns at once when PID is not running.
stop_pid() {
  local desc=$1 pid=$2 timeout=$3
  pid_alive "$pid" || return 0
  log "stopping $desc pid $pid (SIGTERM, up to ${timeout}s)"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until "$desc pid $pid exits" "$timeout" pid_gone "$pid"; then
    log "$desc pid $pid still running after ${timeout}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_until "$desc pid $pid exits after SIGKILL" 10 pid_gone "$pid" ||
      die "$desc pid $pid survived SIGKILL"
  fi
  log "$desc stopped"
}

# take_services_lock: one scripts/up.sh or scripts/down.sh at a time, by flock on fd 8
# of $LOCK_FILE. A process that may outlive the script must not inherit fd 8
# (`8>&-`), or it would hold the lock forever.
take_services_lock() {
  mkdir -p "$STACK_DIR"
  exec 8>"$LOCK_FILE"
  if ! flock -n 8; then
    log "another scripts/up.sh or scripts/down.sh holds $LOCK_FILE: waiting (up to 300s)"
    flock -w 300 8 || die "timed out waiting for $LOCK_FILE"
  fi
}

# ensure_pip PKG==VERSION...: the check tools that come from PyPI (checkov,
# zizmor, ...) live in one virtualenv of the project's, never in the system
# Python. Installs only the pins that are not satisfied yet, then puts the
# venv's bin/ first on PATH.
ensure_pip() {
  local py="$TOOLS_VENV/bin/python" missing=() spec name want have
  if [[ ! -x "$py" ]]; then
    log "creating the tools virtualenv $TOOLS_VENV"
    python3 -m venv "$TOOLS_VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  fi
  for spec in "$@"; do
    name="${spec%%==*}"
    want="${spec#*==}"
    have="$("$py" -m pip show "$name" 2>/dev/null | awk '/^Version:/ {print $2}')" || true
    [[ "$have" == "$want" ]] || missing+=("$spec")
  done
  if ((${#missing[@]} > 0)); then
    log "pip install ${missing[*]} (into $TOOLS_VENV)"
    "$py" -m pip install --quiet --disable-pip-version-check "${missing[@]}" ||
      die "pip install ${missing[*]} failed"
  fi
  PATH="$TOOLS_VENV/bin:$PATH"
  export PATH
}
