#!/usr/bin/env bash
# The idle-connection memory of BENCHMARKS.md: one gateway process (fresh
# database, a Redis of its own), N authenticated WebSocket connections (10,000
# by default) each subscribed to a room of 100, left idle; prints the
# gateway's resident memory before and after and per connection, and the
# kernel's TCP buffer memory apart (loadgen/src/bin/idle_memory.rs). Needs the
# test stack's services: run `scripts/stack.sh up test` and source the env file
# it writes, with TEST_DATABASE_URL and TEST_KAFKA_BROKERS exported.
#
#   scripts/idle-memory.sh [--connections 10000] [--room-size 100] [--users 100] [--settle-secs 15] [--no-subscribe] [--set KEY=VALUE]...
#   PROFILE=release scripts/idle-memory.sh   (the default is the dev profile, dependencies at opt-level 1)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

: "${TEST_DATABASE_URL:?export TEST_DATABASE_URL (Postgres of the test stack)}"
: "${TEST_KAFKA_BROKERS:?export TEST_KAFKA_BROKERS (Kafka of the test stack)}"
profile="${PROFILE:-dev}"
dir="$profile"
[[ "$profile" == dev ]] && dir=debug
target="${CARGO_TARGET_DIR:-$ROOT/target}"

# both ends of every connection are in this machine's processes: two descriptors each
ulimit -n "$(ulimit -Hn)"
log "open files: $(ulimit -n) (the gateway needs one per connection, the bench one more)"

log "building the gateway and the bench ($profile)"
cargo build --locked --profile "$profile" -p chat-gateway --bin gateway -p loadgen --bin idle_memory
log "opening the connections"
RUST_LOG="${RUST_LOG:-warn}" "$target/$dir/idle_memory" --gateway "$target/$dir/gateway" "$@"
