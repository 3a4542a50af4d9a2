#!/usr/bin/env bash
# Runs every test against real services: installs what is missing, runs the
# offline checks of the deployment code (scripts/check-infra.sh,
# scripts/check-compose.sh), builds everything and fuzzes the wire decoders
# for a few seconds (scripts/fuzz.sh), starts a fresh test stack (Postgres,
# Redis, Kafka on the test ports), runs the Rust tests, each benchmark once
# at a tiny size (scripts/bench-smoke.sh), the backup-and-restore
# check, the API contract check (scripts/check-api.sh: schemathesis against
# the OpenAPI document), then the browser tests and the TLS round trip (scripts/e2e.sh), and
# stops the stack whatever happened.
#
#   scripts/test.sh [extra cargo test args...]
#
#   TEST_FUZZ_SECONDS=10   seconds per fuzz target (`make fuzz` is the long run)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

stop_stack() {
  log "stopping the test stack"
  "$ROOT/scripts/stack.sh" down test || log "stopping the test stack failed"
}

phase 1 5 "installing what is missing"
"$ROOT/scripts/deps.sh"
phase_done "dependencies ready"

phase 2 5 "offline checks of the deployment code (Terraform, workflows, compose, Dockerfiles, nginx)"
"$ROOT/scripts/check-infra.sh"
"$ROOT/scripts/check-compose.sh"
phase_done "deployment code checked"

phase 3 5 "building the workspace and its tests, and the web client; a short fuzz run"
cargo build --workspace --all-targets --locked
log "build output: $(du -sh "${CARGO_TARGET_DIR:-$ROOT/target}" | cut -f1); disk free: $(df -h "$ROOT" | awk 'NR==2 {print $4}')"
(cd "$ROOT/frontend" && npm ci --no-audit --no-fund && npm run build && npm run budget)
fuzz_seconds="${TEST_FUZZ_SECONDS:-10}"
log "fuzzing the client frame and Kafka record decoders, ${fuzz_seconds}s each (scripts/fuzz.sh; needs no services)"
"$ROOT/scripts/fuzz.sh" "$fuzz_seconds"
phase_done "built, and the fuzz targets found nothing"

phase 4 5 "starting the test stack"
trap stop_stack EXIT
"$ROOT/scripts/stack.sh" up test
# shellcheck source=/dev/null
source "$STACK_DIR/test/env"
export TEST_DATABASE_URL="$DATABASE_URL" TEST_KAFKA_BROKERS="$KAFKA_BROKERS"
phase_done "test stack up"

phase 5 5 "running the tests"
log "web client unit tests (vitest)"
(cd "$ROOT/frontend" && npm test)
log "Rust tests against the real services"
RUST_LOG="${RUST_LOG:-warn}" cargo test --workspace --locked --no-fail-fast "$@"
log "every benchmark once at a tiny size, so that make bench keeps running (scripts/bench-smoke.sh)"
"$ROOT/scripts/bench-smoke.sh"
log "backup and restore round trip (scripts/check-backup.sh)"
DATABASE_URL="$TEST_DATABASE_URL" "$ROOT/scripts/check-backup.sh"
log "the OpenAPI document against a gateway: schemathesis (scripts/check-api.sh)"
"$ROOT/scripts/check-api.sh"
log "browser tests (Playwright on Debian's Chromium), then the TLS round trip"
"$ROOT/scripts/e2e.sh"
phase_done "all tests passed"
