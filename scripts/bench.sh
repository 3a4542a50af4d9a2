#!/usr/bin/env bash
# Benchmarks on a fresh test stack, in release mode, each printing a Markdown
# table for BENCHMARKS.md: writer throughput against raw COPY and INSERT per
# row (writer/benches/throughput.rs), then chat latency with and without a
# bot waiting on a stalled model (bot/benches/chat_latency.rs), then the
# gateway's producer to a topic with and without flush.messages=1, the fsync
# before the ack that production's topics have (core/benches/produce_fsync.rs),
# then what sqlx's pool costs a query beyond it (core/benches/pool_release.rs),
# then the Redis memory each message holds (gateway/benches/redis_memory.rs),
# then Redis's time per presence change against the room's presence
# (gateway/benches/presence_cost.rs),
# then search latency over a room of 1,000,000 messages (gateway/benches/search.rs),
# then a gateway's memory per idle WebSocket connection (scripts/idle-memory.sh),
# then fan-out latency and throughput against a bare broadcast server and a
# bare producer (scripts/fanout.sh), then up a ladder of rates toward
# saturation (the highest rate held, the latency at 70 % of it), then a
# reconnect storm through nginx
# (scripts/storm.sh, a stack of its own). Each prints its table; the figures
# held against the performance goals are printed last, as one table.
# Stops the stack at the end.
#
#   scripts/bench.sh   (BENCH_ROWS, BENCH_RUNS, BENCH_BATCH, BENCH_INSERT_ROWS, BENCH_MESSAGES,
#                       BENCH_FSYNC_SENDS, BENCH_FSYNC_SENDERS, BENCH_FSYNC_SENDS_EACH,
#                       BENCH_FSYNC_RUNS, BENCH_REDIS_MESSAGES, BENCH_MAXMEMORY_MB,
#                       BENCH_SEARCH_ROWS, BENCH_SEARCH_QUERIES,
#                       BENCH_FANOUT_RUNS, BENCH_FANOUT_RATES, BENCH_SATURATION_RATES tune it)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

stop_stack() {
  log "stopping the test stack"
  "$ROOT/scripts/stack.sh" down test || log "stopping the test stack failed"
}

# every benchmark appends its figures against the goals here (test-support's bench_summary)
export BENCH_SUMMARY="$STACK_DIR/bench-summary.tsv"
mkdir -p "$STACK_DIR"
: >"$BENCH_SUMMARY"

print_summary() {
  printf '\n## The figures against the goals\n\n'
  printf '| measure | figure | same-run baseline | goal | |\n|---|---|---|---|---|\n'
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$BENCH_SUMMARY"
}

phase 1 3 "installing what is missing and building the benchmark (release)"
"$ROOT/scripts/deps.sh"
cargo bench --locked -p chat-writer --bench throughput --no-run
cargo bench --locked -p chat-bot --bench chat_latency --no-run
cargo bench --locked -p chat-core --bench produce_fsync --no-run
cargo bench --locked -p chat-core --bench pool_release --no-run
cargo bench --locked -p chat-gateway --bench redis_memory --no-run
cargo bench --locked -p chat-gateway --bench presence_cost --no-run
cargo bench --locked -p chat-gateway --bench search --no-run
phase_done "built"

phase 2 3 "starting a fresh test stack"
trap stop_stack EXIT
"$ROOT/scripts/stack.sh" up test
# shellcheck source=/dev/null
source "$STACK_DIR/test/env"
export TEST_DATABASE_URL="$DATABASE_URL" TEST_KAFKA_BROKERS="$KAFKA_BROKERS"
phase_done "stack up"

phase 3 3 "measuring (progress per run below; the table is printed at the end)"
log "writer throughput (writer/benches/throughput.rs)"
RUST_LOG="${RUST_LOG:-error}" cargo bench --locked -p chat-writer --bench throughput
log "chat latency with and without a bot on a stalled model (bot/benches/chat_latency.rs)"
RUST_LOG="${RUST_LOG:-error}" cargo bench --locked -p chat-bot --bench chat_latency
log "the gateway's producer with and without flush.messages=1 (core/benches/produce_fsync.rs)"
# The disk's own fsync is timed where the broker keeps its log.
BENCH_FSYNC_PROBE_DIR="$STACK_DIR/test/kafka" RUST_LOG="${RUST_LOG:-error}" \
  cargo bench --locked -p chat-core --bench produce_fsync
log "what sqlx's pool costs a query: its ping when a connection is handed back (core/benches/pool_release.rs)"
RUST_LOG="${RUST_LOG:-error}" cargo bench --locked -p chat-core --bench pool_release
log "Redis memory per message, old settings against new (gateway/benches/redis_memory.rs)"
RUST_LOG="${RUST_LOG:-error}" cargo bench --locked -p chat-gateway --bench redis_memory
log "Redis time per presence change in rooms of 100 to 10,000 online (gateway/benches/presence_cost.rs)"
RUST_LOG="${RUST_LOG:-error}" cargo bench --locked -p chat-gateway --bench presence_cost
log "search latency over a room of 1,000,000 messages (gateway/benches/search.rs)"
RUST_LOG="${RUST_LOG:-error}" cargo bench --locked -p chat-gateway --bench search
log "memory per idle WebSocket connection, 10,000 connections, the release build as deployed (loadgen/src/bin/idle_memory.rs)"
PROFILE=release "$ROOT/scripts/idle-memory.sh"
log "fan-out: the chat against a bare broadcast server and a bare producer (loadgen/src/bin/fanout/)"
"$ROOT/scripts/fanout.sh"
log "fan-out toward saturation, 100k to 250k deliveries/s: the highest rate held (p99 under 250 ms, nothing lost) and the latency at 70 % of it, against the bare broadcast"
# primed at 100k deliveries/s: a prime past saturation would leave a backlog for the runs
"$ROOT/scripts/fanout.sh" --rates "${BENCH_SATURATION_RATES:-1000,1500,2000,2500}" --saturation \
  --no-producer --prime 30 --prime-rate 1000
log "the send path alone: rooms of one member at 1,000 messages/s, against the bare producer; the writer's commit lag"
"$ROOT/scripts/fanout.sh" --connections 100 --room-size 1 --senders-per-room 1 --rates 1000 --no-bare
stop_stack
trap - EXIT
log "reconnect storm: a gateway killed under 10,000 connections through nginx (loadgen/src/bin/storm/)"
"$ROOT/scripts/storm.sh" || log "the storm failed (its output above says why)"
phase_done "benchmark finished"
print_summary
