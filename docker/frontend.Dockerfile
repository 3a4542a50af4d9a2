# syntax=docker/dockerfile:1
# The site: the web client (frontend/, built with node) served by nginx with
# the production config (nginx/prod/), TLS included.
#
#   docker build -f docker/frontend.Dockerfile -t chat/nginx .
#
# Runtime: nginxinc/nginx-unprivileged, the official nginx build run as uid
# 101 (listens on 8080 and 8443; compose publishes them as 80 and 443), with
# the official entrypoint: it renders /etc/nginx/templates/*.template into
# /etc/nginx/conf.d (only CHAT_* variables: NGINX_ENVSUBST_FILTER) and runs
# /docker-entrypoint.d/*.sh first, where 40-chat-tls.sh finds the certificate.
ARG NODE_IMAGE=node:22.21-trixie-slim
ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:1.30.6-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
# The build writes precompressed copies for gzip_static (vite.config.ts;
# nginx/prod/chat/static.conf).
RUN npm run build

FROM ${NGINX_IMAGE} AS runtime
# root (uid 0) for the build steps only; the image runs as 101 (below).
USER 0
# openssl: 40-chat-tls.sh makes a throwaway certificate until certbot has one.
# Alpine's version is not pinned (DL3018): the repository keeps only the newest.
# hadolint ignore=DL3018
RUN apk add --no-cache openssl \
 && rm -f /etc/nginx/conf.d/default.conf
COPY nginx/prod/nginx.conf /etc/nginx/nginx.conf
COPY nginx/prod/chat/ /etc/nginx/chat/
COPY nginx/prod/templates/ /etc/nginx/templates/
COPY --chmod=0755 docker/nginx/40-chat-tls.sh /docker-entrypoint.d/40-chat-tls.sh
COPY --from=build /src/frontend/dist/ /usr/share/nginx/html/
# Everything but the domain, which docker-compose.yml sets (CHAT_DOMAIN).
ENV NGINX_ENVSUBST_FILTER=^CHAT_ \
    CHAT_HTTP_LISTEN=8080 \
    CHAT_HTTPS_LISTEN=8443 \
    CHAT_GATEWAY_1=gateway-1:8080 \
    CHAT_GATEWAY_2=gateway-2:8080 \
    CHAT_SITE_ROOT=/usr/share/nginx/html \
    CHAT_ACME_ROOT=/var/www/certbot \
    CHAT_TLS_DIR=/tmp/chat-tls \
    CHAT_RESOLVER=127.0.0.11 \
    CHAT_CERT_POLL_SECS=300
USER 101:101
EXPOSE 8080 8443
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/nginx-status"]
