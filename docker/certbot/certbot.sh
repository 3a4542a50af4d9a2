#!/bin/sh
# The `certbot` service of docker-compose.yml (certbot/certbot image, mounted
# read-only at /opt/chat/certbot.sh). POSIX sh.
#
#   certbot.sh             obtain the certificate for $DOMAIN once (http-01,
#                          webroot /var/www/certbot, which nginx serves on port
#                          80), then try a renewal every $CERTBOT_RENEW_SECS (12 h)
#   certbot.sh fix-perms   certbot's deploy hook: lets nginx (gid 101) read the keys
#
# nginx notices a new certificate by itself (docker/nginx/40-chat-tls.sh):
# this container needs no access to the Docker socket.
#
# Environment: DOMAIN, LETSENCRYPT_EMAIL (required); LETSENCRYPT_STAGING=1 uses
# Let's Encrypt's staging CA (for a first try: its rate limits are far higher).
set -eu

NGINX_GID=101
WEBROOT=/var/www/certbot
LE=/etc/letsencrypt
RENEW_SECS="${CERTBOT_RENEW_SECS:-43200}"

note() {
  printf '%s [certbot.sh] %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$*" >&2
}

# certbot writes keys 0600 root; nginx runs as uid/gid 101 and reads them
# through the read-only `certs` volume. Group 101 may read the keys, others
# may only traverse the directories.
fix_perms() {
  for d in "$LE/live" "$LE/archive"; do
    [ -d "$d" ] || continue
    chmod 0711 "$d"
    find "$d" -mindepth 1 -type d -exec chgrp "$NGINX_GID" {} + -exec chmod 0750 {} +
  done
  if [ -d "$LE/archive" ]; then
    find "$LE/archive" -type f -name 'privkey*.pem' -exec chgrp "$NGINX_GID" {} + -exec chmod 0640 {} +
  fi
}

if [ "${1:-}" = fix-perms ]; then
  fix_perms
  exit 0
fi

: "${DOMAIN:?set DOMAIN in .env}"
: "${LETSENCRYPT_EMAIL:?set LETSENCRYPT_EMAIL in .env}"
staging=""
if [ "${LETSENCRYPT_STAGING:-0}" = 1 ]; then
  staging="--test-cert"
  note "using Let's Encrypt's STAGING CA (browsers do not trust its certificates)"
fi
hook="/bin/sh /opt/chat/certbot.sh fix-perms"

if [ ! -e "$LE/live/$DOMAIN/fullchain.pem" ]; then
  note "no certificate for $DOMAIN yet: asking Let's Encrypt (http-01 through nginx on port 80)"
  # shellcheck disable=SC2086 # $staging is one flag or nothing
  if ! certbot certonly --webroot --webroot-path "$WEBROOT" --domain "$DOMAIN" \
    --email "$LETSENCRYPT_EMAIL" --agree-tos --no-eff-email --non-interactive \
    --key-type ecdsa --elliptic-curve secp256r1 --deploy-hook "$hook" $staging; then
    # Let's Encrypt allows 5 failed validations per hour: wait before the
    # restart policy tries again.
    note "certbot certonly failed (is DNS for $DOMAIN pointing here, port 80 open?); retrying in 10 minutes"
    sleep 600
    exit 1
  fi
fi
fix_perms

while :; do
  note "certbot renew (renews only within 30 days of expiry)"
  certbot renew --webroot --webroot-path "$WEBROOT" --non-interactive --deploy-hook "$hook" ||
    note "certbot renew failed; trying again in ${RENEW_SECS}s"
  sleep "$RENEW_SECS"
done
