#!/usr/bin/env bash
# Renders the PRODUCTION nginx config (this directory) for Debian's nginx on
# this machine, so that the local checks run the very files the image ships:
#
#   nginx/prod/render.sh OUT_DIR
#
# writes
#   OUT_DIR/nginx.conf        nginx.conf with every /tmp/ path moved to OUT_DIR/run/
#   OUT_DIR/mime.types        Debian's /etc/nginx/mime.types (the image has its own)
#   OUT_DIR/chat/             the snippets, as they are
#   OUT_DIR/conf.d/chat.conf  templates/chat.conf.template with the CHAT_* values below
#   OUT_DIR/tls/              unless CHAT_TLS_DIR is given: a throwaway CA (ca.pem) and an
#                             ECDSA P-256 certificate it signed for localhost and 127.0.0.1
#                             (fullchain.pem, privkey.pem, chain.pem), valid 2 days
#   OUT_DIR/acme/             unless CHAT_ACME_ROOT is given: an empty ACME webroot
# then runs `nginx -t` on it and prints (shell-quoted) the command line that
# runs it in the foreground:
#   nginx -c OUT_DIR/nginx.conf -p OUT_DIR/run/ -e OUT_DIR/run/error.log -g 'daemon off; [user www-data;]'
# (as root the workers run as www-data, which must be able to read CHAT_SITE_ROOT).
#
# Values (environment; defaults for a loopback test):
#   CHAT_DOMAIN          127.0.0.1
#   CHAT_HTTP_LISTEN     127.0.0.1:18480        CHAT_HTTPS_LISTEN   127.0.0.1:18443
#   CHAT_PUBLIC_ORIGIN   https://CHAT_DOMAIN[:port of CHAT_HTTPS_LISTEN]
#   CHAT_GATEWAY_1       127.0.0.1:18081        CHAT_GATEWAY_2      127.0.0.1:18082
#   CHAT_SITE_ROOT       <repo>/frontend/dist   CHAT_RESOLVER       127.0.0.1
#   CHAT_ACME_ROOT       OUT_DIR/acme           CHAT_TLS_DIR        OUT_DIR/tls
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

PROD_DIR="$ROOT/nginx/prod"
TEMPLATE="$PROD_DIR/templates/chat.conf.template"
NGINX_BIN=/usr/sbin/nginx

# template_names: every ${CHAT_...} placeholder of the template, one a line.
template_names() {
  # shellcheck disable=SC2016 # a literal ${ in the pattern and the set of characters to delete
  grep -o '\${CHAT_[A-Z0-9_]*}' "$TEMPLATE" | tr -d '${}' | sort -u
}

# make_test_certs DIR NAME: a CA and a server certificate it signed, for NAME,
# localhost and 127.0.0.1. A CA of its own (rather than one self-signed
# certificate) lets a browser trust it the way it trusts a real one.
make_test_certs() {
  local dir=$1 name=$2 san="IP:127.0.0.1,DNS:localhost"
  if [[ "$name" != 127.0.0.1 && "$name" != localhost ]]; then
    if [[ "$name" =~ ^[0-9.]+$ ]]; then san+=",IP:$name"; else san+=",DNS:$name"; fi
  fi
  mkdir -p "$dir"
  (
    cd "$dir"
    umask 077
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj "/CN=chat throwaway test CA" -keyout ca.key -out ca.pem \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj "/CN=$name" -keyout privkey.pem -out server.csr
    printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
      "$san" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile server.ext -out server.pem
    cat server.pem ca.pem >fullchain.pem
    cp ca.pem chain.pem
    rm -f server.csr server.ext ca.srl
    chmod 644 ca.pem chain.pem fullchain.pem server.pem
  ) >/dev/null 2>&1 || die "openssl could not make the test certificates in $dir"
}

# version_at_least A B: nginx version A (1.22.1) >= B.
version_at_least() {
  [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" == "$2" ]]
}

# adapt_to_local_nginx FILE: the two things the image's nginx has and an
# older local one (Debian 12's 1.22) lacks, written its way; the checks then
# run everything else as shipped.
#   - `http2 on;` (1.25.1+): the older `listen ... ssl http2` instead
#   - `server ... resolve` in an upstream (1.27.3+): dropped, names are
#     resolved once at start (the local checks use addresses anyway)
adapt_to_local_nginx() {
  local file=$1 version
  version="$("$NGINX_BIN" -v 2>&1 | sed -n 's#^nginx version: nginx/##p')"
  if ! version_at_least "$version" 1.25.1; then
    sed -i -e '/^[[:space:]]*http2 on;/d' -e 's/^\([[:space:]]*listen [^;#]* ssl\)\([ ;]\)/\1 http2\2/' "$file"
    log "nginx $version: http2 on the listen line instead of \`http2 on;\` (1.25.1+)"
  fi
  if ! version_at_least "$version" 1.27.3; then
    sed -i 's/^\([[:space:]]*server [^;#]*\) resolve;/\1;/' "$file"
    log "nginx $version: upstream servers without \`resolve\` (1.27.3+)"
  fi
}

main() {
  (($# == 1)) || die "usage: nginx/prod/render.sh OUT_DIR"
  local out=$1
  [[ "$out" == /* ]] || out="$PWD/$out"
  [[ "$out" != *[[:space:]\;\{\}\'\"\#]* ]] || die "OUT_DIR must not contain spaces, quotes, '#', ';' or braces: $out"
  [[ -x "$NGINX_BIN" ]] || ensure_apt nginx
  command -v envsubst >/dev/null || ensure_apt gettext-base
  command -v openssl >/dev/null || ensure_apt openssl

  export CHAT_DOMAIN="${CHAT_DOMAIN:-127.0.0.1}"
  export CHAT_HTTP_LISTEN="${CHAT_HTTP_LISTEN:-127.0.0.1:18480}"
  export CHAT_HTTPS_LISTEN="${CHAT_HTTPS_LISTEN:-127.0.0.1:18443}"
  local https_port="${CHAT_HTTPS_LISTEN##*:}" port_suffix=""
  [[ "$https_port" == 443 ]] || port_suffix=":$https_port"
  export CHAT_PUBLIC_ORIGIN="${CHAT_PUBLIC_ORIGIN:-https://$CHAT_DOMAIN$port_suffix}"
  export CHAT_GATEWAY_1="${CHAT_GATEWAY_1:-127.0.0.1:18081}"
  export CHAT_GATEWAY_2="${CHAT_GATEWAY_2:-127.0.0.1:18082}"
  export CHAT_SITE_ROOT="${CHAT_SITE_ROOT:-$ROOT/frontend/dist}"
  export CHAT_RESOLVER="${CHAT_RESOLVER:-127.0.0.1}"
  export CHAT_ACME_ROOT="${CHAT_ACME_ROOT:-$out/acme}"
  export CHAT_TLS_DIR="${CHAT_TLS_DIR:-$out/tls}"

  mkdir -p "$out/run" "$out/conf.d" "$CHAT_ACME_ROOT"
  # As root the workers (www-data) serve the ACME root and use run/'s temp dirs.
  chmod 755 "$out" "$out/run" "$CHAT_ACME_ROOT"
  rm -rf "$out/chat"
  cp -R "$PROD_DIR/chat" "$out/chat"
  cp /etc/nginx/mime.types "$out/mime.types"
  sed "/^[[:space:]]*#/!s#/tmp/#$out/run/#g" "$PROD_DIR/nginx.conf" >"$out/nginx.conf"
  if grep -v '^[[:space:]]*#' "$out/nginx.conf" | grep -F '/tmp/' | grep -qvF "$out/run/"; then
    die "$out/nginx.conf still names /tmp/ after rendering"
  fi

  local names=() name missing=()
  mapfile -t names < <(template_names)
  for name in "${names[@]}"; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
  done
  ((${#missing[@]} == 0)) || die "no value for ${missing[*]} (see the head of $TEMPLATE)"
  # shellcheck disable=SC2016 # the names envsubst may replace, literally
  envsubst "$(printf '${%s} ' "${names[@]}")" <"$TEMPLATE" >"$out/conf.d/chat.conf"
  adapt_to_local_nginx "$out/conf.d/chat.conf"

  if [[ ! -f "$CHAT_TLS_DIR/fullchain.pem" ]]; then
    make_test_certs "$CHAT_TLS_DIR" "$CHAT_DOMAIN"
    log "made a throwaway CA and certificate for $CHAT_DOMAIN in $CHAT_TLS_DIR"
  fi

  # In the foreground, like the container's; as root with www-data workers.
  local globals='daemon off;'
  ((EUID != 0)) || globals+=' user www-data;'
  local -a cmd=("$NGINX_BIN" -c "$out/nginx.conf" -p "$out/run/" -e "$out/run/error.log" -g "$globals")
  local test_out
  if ! test_out="$("${cmd[@]}" -t 2>&1)"; then
    printf '%s\n' "$test_out" >&2
    die "nginx -t refuses the production config rendered in $out"
  fi
  # nginx -t's notes (e.g. OCSP stapling skipped for a certificate without a
  # responder) are worth seeing; the two "ok"/"successful" lines are not.
  printf '%s\n' "$test_out" | grep -v -e 'syntax is ok' -e 'test is successful' | sed 's/^/  nginx -t: /' >&2 || true
  log "rendered the production config into $out (${#names[@]} placeholders); nginx -t ok"
  printf '%q ' "${cmd[@]}"
  printf '\n'
}

main "$@"
