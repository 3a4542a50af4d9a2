#!/usr/bin/env bash
# Runs every test against real services: installs what is missing, starts a
# fresh test stack (Postgres, Redis, Kafka on the test ports), runs the Rust
# tests, then the browser tests (scripts/e2e.sh), and stops the stack whatever
# happened.
#
#   scripts/test.sh [extra cargo test args...]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

stop_stack() {
  log "stopping the test stack"
  "$ROOT/scripts/stack.sh" down test || log "stopping the test stack failed"
}

phase 1 4 "installing what is missing"
"$ROOT/scripts/deps.sh"
phase_done "dependencies ready"

phase 2 4 "building the workspace and its tests, and the web client"
cargo build --workspace --all-targets --locked
(cd "$ROOT/frontend" && npm ci --no-audit --no-fund && npm run build)
phase_done "built"

phase 3 4 "starting the test stack"
trap stop_stack EXIT
"$ROOT/scripts/stack.sh" up test
# shellcheck source=/dev/null
source "$STACK_DIR/test/env"
export TEST_DATABASE_URL="$DATABASE_URL" TEST_KAFKA_BROKERS="$KAFKA_BROKERS"
phase_done "test stack up"

phase 4 4 "running the tests"
log "web client unit tests (vitest)"
(cd "$ROOT/frontend" && npm test)
log "Rust tests against the real services"
RUST_LOG="${RUST_LOG:-warn}" cargo test --workspace --locked --no-fail-fast "$@"
log "browser tests (Playwright on Debian's Chromium)"
"$ROOT/scripts/e2e.sh"
phase_done "all tests passed"
