#!/bin/bash
# Entry point of the Rust images (docker/rust.Dockerfile).
#
#   chat-service [ARGS...]     exec the image's binary ($CHAT_BIN) with ARGS
#   chat-service healthcheck   0 when the service answers 200 on /readyz of its own
#                              address; 0 at once for a one-shot binary (migrate)
#
# The health probe uses bash's /dev/tcp: the image needs no curl. The
# address is the one the service listens on (0.0.0.0 is asked on 127.0.0.1).
set -euo pipefail

bin="${CHAT_BIN:?CHAT_BIN is set by the image}"

if [[ "${1:-}" != healthcheck ]]; then
  exec "/usr/local/bin/$bin" "$@"
fi

case "$bin" in
  gateway) addr="${GATEWAY_ADDR:-127.0.0.1:18080}" ;;
  writer) addr="${WRITER_HTTP_ADDR:-127.0.0.1:9100}" ;;
  bot) addr="${BOT_HTTP_ADDR:-127.0.0.1:9200}" ;;
  *) exit 0 ;;
esac
host="${addr%:*}"
port="${addr##*:}"
case "$host" in
  0.0.0.0 | "") host=127.0.0.1 ;;
  "[::]") host=::1 ;;
  \[*\]) host="${host#[}" host="${host%]}" ;;
esac

exec 3<>"/dev/tcp/$host/$port"
printf 'GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
status=""
IFS= read -r -t 3 status <&3 || true
exec 3<&-
if [[ "$status" =~ ^HTTP/1\.[01]\ 200 ]]; then
  exit 0
fi
printf '%s on %s:%s: /readyz answered "%s"\n' "$bin" "$host" "$port" "${status%$'\r'}" >&2
exit 1
