#!/usr/bin/env bash
# Fan-out latency and throughput of BENCHMARKS.md: the chat (two gateways, a
# writer, a Redis of its own, the test stack's Postgres and Kafka) against a
# bare WebSocket broadcast server and a bare Kafka producer under the same
# open-loop load, runs alternating, with the CPU seconds and peak memory of
# every server process (loadgen/src/bin/fanout/). Needs the test stack: run
# `scripts/stack.sh up test` and source the env file it writes, with
# TEST_DATABASE_URL and TEST_KAFKA_BROKERS exported.
#
#   scripts/fanout.sh [--connections 1000] [--room-size 100] [--rates 200,1000] [--runs 5] [--seconds 10] [--nginx] ...
#   PROFILE=dev scripts/fanout.sh   (the default is release)
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

# both ends of every connection are in this machine's processes
ulimit -n "$(ulimit -Hn)"

log "building the gateway, the writer and the load generator ($profile)"
cargo build --locked --profile "$profile" -p chat-gateway --bin gateway -p chat-writer --bin writer -p loadgen --bin fanout
log "running (progress below; the table at the end)"
# the defaults only where the caller gives none: a second --rates would add
# its rates to these, a second --runs is refused
runs=(--runs "${BENCH_FANOUT_RUNS:-5}")
rates=(--rates "${BENCH_FANOUT_RATES:-200,1000}")
for arg in "$@"; do
  case "$arg" in
    --runs | --runs=*) runs=() ;;
    --rates | --rates=*) rates=() ;;
  esac
done
RUST_LOG="${RUST_LOG:-warn}" "$target/$dir/fanout" --bin-dir "$target/$dir" \
  --stack-dir "$STACK_DIR/test" "${runs[@]}" "${rates[@]}" "$@"
