#!/usr/bin/env bash
# The local TLS round trip: Debian's nginx runs the PRODUCTION config
# (nginx/prod, rendered by nginx/prod/render.sh with a throwaway CA and a
# certificate for 127.0.0.1) in front of two running gateways, then
#
#   1. tools: nginx, sslscan, testssl.sh, certutil (Debian), Chromium
#   2. nginx up on 127.0.0.1:TLS_SITE_PORT (HTTPS) and TLS_HTTP_PORT (HTTP);
#      over curl: 200 with HSTS, CSP, nosniff, frame-ancestors, Referrer-Policy
#      on the page; HTTP answers 301 to https:// except the ACME challenge;
#      /healthz reaches a gateway; API answers are not compressed, assets are
#   3. sslscan: SSLv2, SSLv3, TLS 1.0, 1.1 refused; TLS 1.2 and 1.3 accepted;
#      every accepted suite in Mozilla's intermediate list; no RC4, 3DES, DES,
#      NULL, EXPORT, MD5 or CBC suite; no heartbleed, no insecure renegotiation
#   4. testssl.sh: the same protocols, HSTS, and no finding rated LOW or worse
#      (protocols, cipher categories, each cipher, vulnerabilities, headers)
#   5. a browser (frontend/e2e-tls/*.test.mjs, playwright-core on Chromium,
#      trusting the throwaway CA through an NSS database, no error ignored):
#      two users sign up, one sends, the other receives it over wss://
# Stops nginx on exit. A verdict per tool at the end.
#
# Environment:
#   GATEWAY_1_PORT, GATEWAY_2_PORT   the running gateways on 127.0.0.1 (required);
#                                    their ALLOWED_ORIGINS must hold https://127.0.0.1:TLS_SITE_PORT
#   TLS_SITE_PORT                    the HTTPS port (required: the gateways must know it)
#   TLS_HTTP_PORT                    the plain HTTP port (TLS_SITE_PORT + 1)
#   TLS_DIR                          nginx's prefix, certificates, logs ($STACK_DIR/test/tls;
#                                    emptied first)
#   SITE_ROOT                        the web client (frontend/dist)
#   E2E_SCREENSHOT_DIR               ($STACK_DIR/test/screenshots)
#   TLS_E2E_TIMEOUT                  seconds the browser test may take (180)
# scripts/e2e.sh runs this after its browser tests, with its gateways.
set -euo pipefail

LOG_NAME="${LOG_NAME:-check-tls}"
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

TOTAL=5
TLS_DIR="${TLS_DIR:-$STACK_DIR/test/tls}"
SITE_ROOT="${SITE_ROOT:-$ROOT/frontend/dist}"
SCREENSHOT_DIR="${E2E_SCREENSHOT_DIR:-$STACK_DIR/test/screenshots}"
TLS_E2E_TIMEOUT="${TLS_E2E_TIMEOUT:-180}"
CHROMIUM=/usr/bin/chromium
# Mozilla's intermediate suites (nginx/prod/chat/tls.conf) and TLS 1.3's three.
ALLOWED_SUITES=" ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-RSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305 ECDHE-RSA-CHACHA20-POLY1305 TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 "
WEAK_SUITE='RC4|3DES|DES-CBC|NULL|EXP|MD5|CBC|anon|PSK|SRP|CAMELLIA|ARIA|SEED|IDEA'

NGINX_PID=""
VERDICTS=()

verdict() {
  VERDICTS+=("$(printf '%-16s %s' "$1" "$2")")
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  _PHASE=""
  if [[ -n "$NGINX_PID" ]] && pid_alive "$NGINX_PID"; then
    # QUIT: graceful (worker_shutdown_timeout closes the sockets left).
    kill -QUIT "$NGINX_PID" 2>/dev/null || true
    wait_until "nginx pid $NGINX_PID exits" 40 pid_gone "$NGINX_PID" || kill -KILL "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  if ((${#VERDICTS[@]} > 0)); then
    printf '%s\n' "----- check-tls verdicts -----" "${VERDICTS[@]}" >&2
  fi
  if ((rc == 0)); then
    log "TLS round trip PASSED"
  else
    log "TLS round trip FAILED (exit status $rc; nginx log $TLS_DIR/nginx.log)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check_port() {
  if ! [[ "$2" =~ ^[0-9]+$ ]] || (($2 < 1 || $2 > 65535)); then
    die "$1 must be a port number (got '$2')"
  fi
}

nginx_answers() {
  pid_alive "$NGINX_PID" || return "$WAIT_ABORT"
  port_open "$TLS_SITE_PORT" && port_open "$HTTP_PORT"
}

# fetch [CURL ARGS...] URL: headers and status of URL, the CA trusted, HTTP/1.1.
fetch() {
  curl -sS --max-time 10 --http1.1 --cacert "$TLS_DIR/tls/ca.pem" -o /dev/null -D - "$@"
}

# expect_header HEADERS NAME REGEX: HEADERS has NAME matching REGEX.
expect_header() {
  grep -iqE "^$2: $3" <<<"$1" || die "no '$2: $3' in the answer: $(tr -d '\r' <<<"$1" | tr '\n' '|')"
}

# ---------------------------------------------------------------------------
phase 1 "$TOTAL" "tools and settings"
check_port GATEWAY_1_PORT "${GATEWAY_1_PORT:-}"
check_port GATEWAY_2_PORT "${GATEWAY_2_PORT:-}"
check_port TLS_SITE_PORT "${TLS_SITE_PORT:-}"
[[ -f "$SITE_ROOT/index.html" ]] || die "$SITE_ROOT/index.html is missing: (cd frontend && npm run build)"
[[ -f "$ROOT/frontend/node_modules/playwright-core/package.json" ]] || die "frontend/node_modules is missing: (cd frontend && npm ci)"
for pkg_tool in nginx:/usr/sbin/nginx sslscan:/usr/bin/sslscan testssl.sh:/usr/bin/testssl \
  libnss3-tools:/usr/bin/certutil chromium:"$CHROMIUM" jq:/usr/bin/jq curl:/usr/bin/curl; do
  [[ -x "${pkg_tool#*:}" ]] || ensure_apt "${pkg_tool%%:*}"
done
HTTP_PORT="${TLS_HTTP_PORT:-$((TLS_SITE_PORT + 1))}"
check_port TLS_HTTP_PORT "$HTTP_PORT"
for port in "$TLS_SITE_PORT" "$HTTP_PORT"; do
  if port_open "$port"; then die "port $port on 127.0.0.1 is taken"; fi
done
port_open "$GATEWAY_1_PORT" || die "no gateway on 127.0.0.1:$GATEWAY_1_PORT"
port_open "$GATEWAY_2_PORT" || die "no gateway on 127.0.0.1:$GATEWAY_2_PORT"
rm -rf "$TLS_DIR"
mkdir -p "$TLS_DIR" "$SCREENSHOT_DIR"
phase_done "$(sslscan --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1 | sed 's/^/sslscan /'), testssl.sh $(dpkg-query -W -f='${Version}' testssl.sh), $("$CHROMIUM" --version 2>/dev/null)"

# ---------------------------------------------------------------------------
SITE="https://127.0.0.1:$TLS_SITE_PORT"
phase 2 "$TOTAL" "nginx (nginx/prod) on $SITE and http://127.0.0.1:$HTTP_PORT"
NGINX_CMD="$(CHAT_DOMAIN=127.0.0.1 CHAT_HTTPS_LISTEN="127.0.0.1:$TLS_SITE_PORT" \
  CHAT_HTTP_LISTEN="127.0.0.1:$HTTP_PORT" CHAT_GATEWAY_1="127.0.0.1:$GATEWAY_1_PORT" \
  CHAT_GATEWAY_2="127.0.0.1:$GATEWAY_2_PORT" CHAT_SITE_ROOT="$SITE_ROOT" \
  "$ROOT/nginx/prod/render.sh" "$TLS_DIR")"
if ((EUID == 0)) && ! runuser -u www-data -- test -r "$SITE_ROOT/index.html"; then
  die "www-data (nginx's workers) cannot read $SITE_ROOT/index.html (scripts/nginx.sh check makes it readable)"
fi
# render.sh prints the command shell-quoted (printf %q): into an array, so
# that $! is nginx's master itself.
eval "NGINX_ARGS=($NGINX_CMD)"
"${NGINX_ARGS[@]}" </dev/null >"$TLS_DIR/nginx.log" 2>&1 &
NGINX_PID=$!
wait_until "nginx answers on :$TLS_SITE_PORT and :$HTTP_PORT" 20 nginx_answers ||
  die_with_log "$TLS_DIR/nginx.log" "nginx did not start"

page="$(fetch "$SITE/")"
[[ "$page" == "HTTP/1.1 200"* ]] || die "GET $SITE/ answered: $page"
expect_header "$page" Strict-Transport-Security 'max-age=63072000; includeSubDomains'
expect_header "$page" Content-Security-Policy "default-src 'self'.*frame-ancestors 'none'"
expect_header "$page" X-Content-Type-Options nosniff
expect_header "$page" Referrer-Policy no-referrer
redirect="$(fetch "http://127.0.0.1:$HTTP_PORT/rooms?x=1")"
[[ "$redirect" == "HTTP/1.1 301"* ]] || die "plain HTTP did not answer 301: $redirect"
expect_header "$redirect" Location "$SITE/rooms\\?x=1"
mkdir -p "$TLS_DIR/acme/.well-known/acme-challenge"
printf 'token-%s' "$$" >"$TLS_DIR/acme/.well-known/acme-challenge/check-tls"
chmod -R a+rX "$TLS_DIR/acme"
challenge="$(curl -sS --max-time 10 "http://127.0.0.1:$HTTP_PORT/.well-known/acme-challenge/check-tls")"
[[ "$challenge" == "token-$$" ]] || die "the ACME challenge was not served over HTTP (got '$challenge')"
healthz="$(fetch "$SITE/healthz")"
[[ "$healthz" == "HTTP/1.1 200"* ]] || die "GET $SITE/healthz did not reach a gateway: $healthz"
api="$(fetch -H 'Accept-Encoding: gzip' "$SITE/api/openapi.json")"
[[ "$api" == "HTTP/1.1 200"* ]] || die "GET $SITE/api/openapi.json answered: $api"
! grep -iq '^Content-Encoding:' <<<"$api" || die "an API answer was compressed (BREACH): $api"
asset="$(find "$SITE_ROOT/assets" -name '*.js' -size +2k -printf '%f\n' | head -n 1)"
if [[ -n "$asset" ]]; then
  assets="$(fetch -H 'Accept-Encoding: gzip' "$SITE/assets/$asset")"
  expect_header "$assets" Content-Encoding gzip
  expect_header "$assets" Cache-Control 'public, max-age=31536000, immutable'
  expect_header "$assets" Strict-Transport-Security 'max-age='
fi
verdict nginx "ok: 200 with HSTS, CSP, nosniff, Referrer-Policy; HTTP 301 -> https, ACME challenge served; /healthz via the gateways; API not compressed, assets gzip + immutable"
phase_done "nginx up (pid $NGINX_PID)"

# ---------------------------------------------------------------------------
phase 3 "$TOTAL" "sslscan 127.0.0.1:$TLS_SITE_PORT"
sslscan --no-colour --xml="$TLS_DIR/sslscan.xml" "127.0.0.1:$TLS_SITE_PORT" >"$TLS_DIR/sslscan.txt" 2>&1 ||
  die_with_log "$TLS_DIR/sslscan.txt" "sslscan failed"
xml="$TLS_DIR/sslscan.xml"
for p in 'ssl" version="2' 'ssl" version="3' 'tls" version="1.0' 'tls" version="1.1'; do
  grep -qF "type=\"$p\" enabled=\"0\"" "$xml" || die "sslscan: protocol ${p//\"/} is not refused (see $xml)"
done
for p in 'tls" version="1.2' 'tls" version="1.3'; do
  grep -qF "type=\"$p\" enabled=\"1\"" "$xml" || die "sslscan: protocol ${p//\"/} is not accepted (see $xml)"
done
mapfile -t suites < <(grep -oE '<cipher status="(accepted|preferred)"[^>]* cipher="[^"]+"' "$xml" | sed -E 's/.* cipher="([^"]+)"/\1/')
((${#suites[@]} > 0)) || die "sslscan found no accepted cipher suite (see $xml)"
for suite in "${suites[@]}"; do
  [[ "$ALLOWED_SUITES" == *" $suite "* ]] || die "sslscan: $suite is accepted but not in Mozilla's intermediate list"
  [[ ! "$suite" =~ $WEAK_SUITE ]] || die "sslscan: weak suite $suite accepted"
done
grep -qE '<heartbleed [^>]*vulnerable="1"' "$xml" && die "sslscan: heartbleed"
grep -qE '<renegotiation supported="1" secure="0"' "$xml" && die "sslscan: insecure renegotiation"
tls12="$(grep -c 'sslversion="TLSv1.2"[^>]*cipher=' "$xml" || true)"
tls13="$(grep -c 'sslversion="TLSv1.3"[^>]*cipher=' "$xml" || true)"
verdict sslscan "ok: SSLv2, SSLv3, TLS 1.0, TLS 1.1 refused; TLS 1.2 ($tls12 suites) and 1.3 ($tls13) accepted, all in Mozilla's intermediate list, none weak; no heartbleed, no insecure renegotiation"
phase_done "${#suites[@]} suites: ${suites[*]}"

# ---------------------------------------------------------------------------
phase 4 "$TOTAL" "testssl.sh on $SITE/ (protocols, cipher categories, each cipher, vulnerabilities, headers; about 30 s)"
json="$TLS_DIR/testssl.json"
testssl --quiet --color 0 --warnings off --jsonfile "$json" -p -s -E -U -h --ip one "$SITE/" \
  >"$TLS_DIR/testssl.txt" 2>&1 || die_with_log "$TLS_DIR/testssl.txt" "testssl.sh failed"
finding() { jq -r --arg id "$1" '.[] | select(.id == $id) | .finding' "$json"; }
for id in SSLv2 SSLv3 TLS1 TLS1_1; do
  [[ "$(finding "$id")" == "not offered" ]] || die "testssl.sh: $id is '$(finding "$id")', expected 'not offered'"
done
[[ "$(finding TLS1_2)" == offered ]] || die "testssl.sh: TLS1_2 is '$(finding TLS1_2)'"
[[ "$(finding TLS1_3)" == offered* ]] || die "testssl.sh: TLS1_3 is '$(finding TLS1_3)'"
for id in cipherlist_NULL cipherlist_aNULL cipherlist_EXPORT cipherlist_LOW cipherlist_3DES_IDEA cipherlist_AVERAGE; do
  [[ "$(finding "$id")" == "not offered" ]] || die "testssl.sh: $id is '$(finding "$id")'"
done
[[ "$(finding HSTS_time)" == *63072000* ]] || die "testssl.sh: HSTS is '$(finding HSTS_time)'"
# engine_problem (WARN) is about the scanning openssl, not the server.
bad="$(jq -r '.[] | select(.severity == "LOW" or .severity == "MEDIUM" or .severity == "HIGH" or .severity == "CRITICAL")
  | "\(.severity) \(.id): \(.finding)"' "$json")"
[[ -z "$bad" ]] || die "testssl.sh findings: $(tr '\n' ';' <<<"$bad")"
counts="$(jq -r '[.[].severity] | group_by(.) | map("\(.[0]) \(length)") | join(", ")' "$json")"
ciphers="$(jq -r '[.[] | select(.id | startswith("cipher-tls"))] | length' "$json")"
warns="$(jq -r '[.[] | select(.severity == "WARN") | .id] | join(", ")' "$json")"
verdict testssl.sh "ok: SSLv2/3, TLS 1.0/1.1 not offered; TLS 1.2, 1.3 offered; $ciphers ciphers, no NULL/EXPORT/LOW/3DES/AVERAGE; HSTS 2 years; 0 LOW+ findings ($counts${warns:+; WARN = $warns, about the scanning openssl})"
phase_done "$counts"

# ---------------------------------------------------------------------------
phase 5 "$TOTAL" "a browser on $SITE/: sign up, a message over wss:// (node --test frontend/e2e-tls/)"
HOME_DIR="$TLS_DIR/home"
mkdir -p "$HOME_DIR/.pki/nssdb"
certutil -N -d "sql:$HOME_DIR/.pki/nssdb" --empty-password
certutil -A -d "sql:$HOME_DIR/.pki/nssdb" -t "C,," -n "chat throwaway test CA" -i "$TLS_DIR/tls/ca.pem"
HOME="$HOME_DIR" E2E_TLS_BASE_URL="$SITE" E2E_SCREENSHOT_DIR="$SCREENSHOT_DIR" E2E_CHROMIUM="$CHROMIUM" \
  timeout "$TLS_E2E_TIMEOUT" node --test --test-reporter=spec frontend/e2e-tls/*.test.mjs ||
  die "the browser test over TLS failed (nginx log $TLS_DIR/nginx.log)"
verdict browser "ok: Chromium trusted the site (no error ignored), TLS 1.3, HSTS + CSP seen; two users, a message over wss:// ($SCREENSHOT_DIR/tls-room.png)"
phase_done "passed"
