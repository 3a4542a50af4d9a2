#!/usr/bin/env bash
# Both nginx configs checked statically and run with the gateways down
# (nginx_probe.py says what is checked).
#
#   scripts/infra-check/nginx-probe.sh prod|dev
#
# prod: nginx/prod rendered for Debian's nginx (nginx/prod/render.sh) and run
# in the foreground; dev: nginx/chat.conf.template through scripts/nginx.sh.
# Both on free loopback ports, with gateway ports where nothing listens.
set -euo pipefail

LOG_NAME="nginx-probe"
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT"

kind=${1:-}
HERE="$ROOT/scripts/infra-check"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
work="$(mktemp -d)"
pid=""
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  if [[ -n "$pid" ]]; then stop_pid nginx "$pid" 10 || true; fi
  if [[ "$kind" == dev ]]; then NGINX_DIR="$work/dev" "$ROOT/scripts/nginx.sh" down >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
g1="$(free_port)" g2="$(free_port)" p1="$(free_port)" p2="$(free_port)"
rc=0

case "$kind" in
  prod)
    python3 "$HERE/nginx_probe.py" static prod nginx/prod/nginx.conf nginx/prod/templates/chat.conf.template nginx/prod/chat/*.conf || rc=1
    cmd="$(CHAT_HTTP_LISTEN="127.0.0.1:$p1" CHAT_HTTPS_LISTEN="127.0.0.1:$p2" CHAT_GATEWAY_1="127.0.0.1:$g1" \
      CHAT_GATEWAY_2="127.0.0.1:$g2" CHAT_SITE_ROOT="$work" "$ROOT/nginx/prod/render.sh" "$work/prod" 2>"$work/render.err")" ||
      { cat "$work/render.err" >&2; die "nginx/prod/render.sh failed"; }
    # The container's logs are nginx's stdout (access) and stderr (errors).
    eval "$cmd" >"$work/stdout.log" 2>"$work/stderr.log" &
    pid=$!
    wait_until "nginx (prod config) listening on $p2" 20 port_open "$p2" || die "nginx did not start: $(tail -n 5 "$work/stderr.log")"
    python3 "$HERE/nginx_probe.py" run prod "https://127.0.0.1:$p2" "$work/stdout.log" "$work/stderr.log" "$work/prod/run/error.log" || rc=1
    ;;
  dev)
    python3 "$HERE/nginx_probe.py" static dev nginx/chat.conf.template || rc=1
    mkdir -p "$work/site"
    # over gzip_min_length, so that only the config keeps it uncompressed
    python3 -c 'print("<!doctype html><title>probe</title>" + "<p>x</p>" * 300)' >"$work/site/index.html"
    gzip -9 -n -k "$work/site/index.html"
    # A hashed bundle with a precompressed copy whose text differs (so the
    # probe sees gzip_static serve it), and a style sheet without one.
    mkdir -p "$work/site/assets"
    python3 -c 'print("console.log(1);" * 200)' >"$work/site/assets/app-0123abcd.js"
    printf 'precompressed copy\n' | gzip -9 -n >"$work/site/assets/app-0123abcd.js.gz"
    python3 -c 'print("a { color: red; }" * 200)' >"$work/site/assets/style-0123abcd.css"
    NGINX_DIR="$work/dev" SITE_PORT="$p1" GATEWAY_1_PORT="$g1" GATEWAY_2_PORT="$g2" SITE_ROOT="$work/site" \
      "$ROOT/scripts/nginx.sh" up >&2
    python3 "$HERE/nginx_probe.py" run dev "http://127.0.0.1:$p1" "$work/dev/access.log" "$work/dev/error.log" || rc=1
    ;;
  *) die "usage: nginx-probe.sh prod|dev" ;;
esac
exit "$rc"
