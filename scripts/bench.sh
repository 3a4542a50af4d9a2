#!/usr/bin/env bash
# Writer throughput benchmark: starts a fresh test stack, runs the benchmark in
# release mode, prints a Markdown table for BENCHMARKS.md, stops the stack.
#
#   scripts/bench.sh            (BENCH_ROWS, BENCH_RUNS, BENCH_BATCH, BENCH_INSERT_ROWS tune it)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

stop_stack() {
  log "stopping the test stack"
  "$ROOT/scripts/stack.sh" down test || log "stopping the test stack failed"
}

phase 1 3 "installing what is missing and building the benchmark (release)"
"$ROOT/scripts/deps.sh"
cargo bench --locked -p chat-writer --bench throughput --no-run
phase_done "built"

phase 2 3 "starting a fresh test stack"
trap stop_stack EXIT
"$ROOT/scripts/stack.sh" up test
# shellcheck source=/dev/null
source "$STACK_DIR/test/env"
export TEST_DATABASE_URL="$DATABASE_URL" TEST_KAFKA_BROKERS="$KAFKA_BROKERS"
phase_done "stack up"

phase 3 3 "measuring (progress per run below; the table is printed at the end)"
RUST_LOG="${RUST_LOG:-error}" cargo bench --locked -p chat-writer --bench throughput
phase_done "benchmark finished"
