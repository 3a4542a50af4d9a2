#!/bin/sh
# Runs in the nginx container before nginx starts (the official image's
# /docker-entrypoint.d/), as uid 101. POSIX sh: the image is Alpine.
#
# nginx reads its certificate from $CHAT_TLS_DIR (fullchain.pem, privkey.pem,
# chain.pem). This script points those at certbot's files for $CHAT_DOMAIN
# (/etc/letsencrypt/live/$CHAT_DOMAIN/, the `certs` volume, read-only) when
# they exist; until then at a throwaway self-signed certificate, so that nginx
# starts and can answer the ACME challenge on port 80 that gets the real one.
# Then, in the background, it looks every $CHAT_CERT_POLL_SECS seconds (300)
# whether certbot obtained or renewed the certificate (the link in live/
# points at a new archive file) and reloads nginx when it did.
set -eu

: "${CHAT_DOMAIN:?CHAT_DOMAIN is not set (docker-compose.yml sets it from DOMAIN)}"
: "${CHAT_TLS_DIR:?}"
live="/etc/letsencrypt/live/$CHAT_DOMAIN"
placeholder="$CHAT_TLS_DIR/placeholder"
poll="${CHAT_CERT_POLL_SECS:-300}"

note() {
  printf '%s [chat-tls] %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$*" >&2
}

# current: which certificate is there: the archive file certbot's link points
# at, or "placeholder".
current() {
  if [ -r "$live/fullchain.pem" ] && [ -r "$live/privkey.pem" ]; then
    readlink -f "$live/fullchain.pem"
  else
    echo placeholder
  fi
}

make_placeholder() {
  [ -s "$placeholder/fullchain.pem" ] && return 0
  mkdir -p "$placeholder"
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
    -subj "/CN=$CHAT_DOMAIN" -addext "subjectAltName=DNS:$CHAT_DOMAIN" \
    -keyout "$placeholder/privkey.pem" -out "$placeholder/fullchain.pem" 2>/dev/null)
  cp "$placeholder/fullchain.pem" "$placeholder/chain.pem"
}

# link STATE: points the three files nginx reads at STATE's certificate.
link() {
  if [ "$1" = placeholder ]; then
    make_placeholder
    src="$placeholder"
  else
    src="$live"
  fi
  for f in fullchain.pem privkey.pem chain.pem; do
    ln -sfn "$src/$f" "$CHAT_TLS_DIR/$f"
  done
}

watch() {
  last=$1
  while sleep "$poll"; do
    now="$(current)"
    [ "$now" = "$last" ] && continue
    link "$now"
    if nginx -t -q 2>/dev/null && nginx -s reload; then
      note "certificate changed ($now): nginx reloaded"
      last="$now"
    else
      note "certificate changed ($now) but nginx -t refuses it: keeping the running config"
    fi
  done
}

mkdir -p "$CHAT_TLS_DIR"
state="$(current)"
link "$state"
if [ "$state" = placeholder ]; then
  note "no certificate for $CHAT_DOMAIN in $live yet: serving a throwaway self-signed one until certbot has one"
else
  note "using $state"
fi
# Detached from the entrypoint's stdin; its output goes to the container log.
watch "$state" </dev/null &
