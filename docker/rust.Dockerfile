# syntax=docker/dockerfile:1
# One image per Rust binary of the workspace, from this one file:
#
#   docker build -f docker/rust.Dockerfile --build-arg BIN=gateway -t chat/gateway .
#
# BIN is gateway, writer, migrate or bot (docker-compose.yml builds all four).
# Stages:
#   chef     Rust + cargo-chef (from crates.io, pinned) + what librdkafka's cmake build needs
#   planner  `cargo chef prepare`: the recipe (manifests + Cargo.lock) of the workspace
#   builder  `cargo chef cook`: every dependency, in a layer that is rebuilt only
#            when the recipe changes; then every binary of the workspace. Neither
#            uses BIN, so the four images share these layers (built once).
#   runtime  debian slim + the one binary BIN, as an unprivileged user
#
# Base images are pinned by tag; pin them by digest (name:tag@sha256:...) when
# building with network access to the registry: see docker/README.md.
ARG RUST_IMAGE=rust:1.95.0-slim-trixie
ARG RUNTIME_IMAGE=debian:13.2-slim

FROM ${RUST_IMAGE} AS chef
# rdkafka builds librdkafka with cmake (feature cmake-build) and links zlib;
# no TLS, SASL, zstd or curl features are enabled (Cargo.toml), so none of
# their libraries are needed. Debian's versions are not pinned (DL3008): the
# mirror keeps only the newest of each, so a pin breaks with the next security
# update; the base image tag fixes the release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ make pkg-config zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --version 0.1.78 --locked \
 && rm -rf "$CARGO_HOME/registry"
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --workspace --recipe-path recipe.json
COPY . .
# The same package selection as the cook above (the whole workspace), so the
# dependencies are not rebuilt with other features.
RUN cargo build --release --locked --workspace --bins \
 && mkdir -p /out \
 && find target/release -maxdepth 1 -type f -perm -u+x -exec cp {} /out/ \; \
 && ls -l /out

FROM ${RUNTIME_IMAGE} AS runtime
ARG BIN
# zlib1g: librdkafka's compression (already in the base; named so it stays).
# ca-certificates: for a dependency reached over TLS one day; none is today.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 chat \
 && useradd --system --uid 10001 --gid chat --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin chat
COPY --from=builder /out/${BIN} /usr/local/bin/${BIN}
COPY --chmod=0755 docker/chat-service.sh /usr/local/bin/chat-service
# A BIN that the workspace does not build fails here, not at run time.
RUN test -n "${BIN}" && test -x "/usr/local/bin/${BIN}"
ENV CHAT_BIN=${BIN} \
    LOG_FORMAT=json
LABEL org.opencontainers.image.title="chat-${BIN}" \
      org.opencontainers.image.source="docker/rust.Dockerfile" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 10001:10001
# /readyz of the service's own address (GATEWAY_ADDR, WRITER_HTTP_ADDR or
# BOT_HTTP_ADDR); always healthy for the one-shot migrate.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/chat-service", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/chat-service"]
