#!/usr/bin/env bash
# The sign-up flood of BENCHMARKS.md: one gateway process (fresh database, a
# Redis of its own) flooded with sign-ups from 96 loopback addresses for 60 s,
# then left idle for 60 s; prints its resident memory over time and a Markdown
# row (loadgen/src/bin/signup_flood.rs). Needs the test stack's services:
# run `scripts/stack.sh up test` and source the env file it writes,
# with TEST_DATABASE_URL and TEST_KAFKA_BROKERS exported.
#
#   scripts/signup-flood.sh [--flood-secs 60] [--settle-secs 60] [--clients 96] [--set KEY=VALUE]...
#   PROFILE=dev scripts/signup-flood.sh   (debug build; argon2 is optimised in it too)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

: "${TEST_DATABASE_URL:?export TEST_DATABASE_URL (Postgres of the test stack)}"
: "${TEST_KAFKA_BROKERS:?export TEST_KAFKA_BROKERS (Kafka of the test stack)}"
profile="${PROFILE:-release}"
dir="$profile"
[[ "$profile" == dev ]] && dir=debug
target="${CARGO_TARGET_DIR:-$ROOT/target}"

log "building the gateway and the flood ($profile)"
cargo build --locked --profile "$profile" -p chat-gateway --bin gateway -p loadgen --bin signup_flood
log "flooding"
"$target/$dir/signup_flood" --gateway "$target/$dir/gateway" "$@"
