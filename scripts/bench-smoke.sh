#!/usr/bin/env bash
# Every benchmark of `make bench` (scripts/bench.sh) once, at a tiny size, in
# the dev profile: not to measure anything, but so that `make test` fails when
# a change leaves a benchmark unable to run (a bench is compiled by
# `cargo build --all-targets`, but nothing else runs it). The fan-out load
# generator has its own smoke test (loadgen/tests/fanout_smoke.rs); the
# reconnect storm needs a stack of its own and stays in `make bench`.
# Needs `cargo build --workspace --all-targets` done, the test stack's
# services, and TEST_DATABASE_URL and TEST_KAFKA_BROKERS exported
# (scripts/test.sh does all three).
#
#   scripts/bench-smoke.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

: "${TEST_DATABASE_URL:?export TEST_DATABASE_URL (Postgres of the test stack)}"
: "${TEST_KAFKA_BROKERS:?export TEST_KAFKA_BROKERS (Kafka of the test stack)}"
# the figures of a smoke run are not the goals' figures
unset BENCH_SUMMARY
export RUST_LOG="${RUST_LOG:-error}"

bench() {
  local package=$1 name=$2
  log "benchmark $package/$name, tiny"
  cargo test --locked -q -p "$package" --bench "$name"
}

BENCH_ROWS=2000 BENCH_RUNS=1 BENCH_BATCH=500 BENCH_INSERT_ROWS=200 bench chat-writer throughput
BENCH_MESSAGES=20 bench chat-bot chat_latency
BENCH_FSYNC_SENDS=50 BENCH_FSYNC_SENDERS=4 BENCH_FSYNC_SENDS_EACH=5 BENCH_FSYNC_RUNS=1 \
  bench chat-core produce_fsync
BENCH_POOL_QUERIES=200 BENCH_POOL_RUNS=1 bench chat-core pool_release
BENCH_REDIS_MESSAGES=1000 bench chat-gateway redis_memory
BENCH_PRESENCE_SIZES=10 BENCH_PRESENCE_CALLS=10 bench chat-gateway presence_cost
BENCH_SEARCH_ROWS=5000 BENCH_SEARCH_QUERIES=3 bench chat-gateway search
# scripts/idle-memory.sh would build the two binaries for their packages alone
# (another feature set: a second build); the workspace's build has them
bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
for b in gateway idle_memory; do
  [[ -x "$bin/$b" ]] || die "$bin/$b is missing: run cargo build --workspace --all-targets first"
done
log "benchmark idle memory (loadgen/src/bin/idle_memory.rs, as scripts/idle-memory.sh runs it), tiny"
ulimit -n "$(ulimit -Hn)"
"$bin/idle_memory" --gateway "$bin/gateway" --connections 200 --room-size 50 --users 50 --settle-secs 1
