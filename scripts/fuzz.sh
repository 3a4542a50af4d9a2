#!/usr/bin/env bash
# Fuzzes the wire decoders: builds the cargo-fuzz targets of fuzz/ (nightly
# toolchain, AddressSanitizer, their own target directory fuzz/target so the
# main build is never invalidated) and runs each one for N seconds with
# libFuzzer. Targets and what they check: docs/fuzzing.md.
#
#   scripts/fuzz.sh [SECONDS]     seconds per target (default: $FUZZ_SECONDS, else 10)
#
#   FUZZ_TARGETS="kafka_record"   run only these targets (default: all of them)
#   FUZZ_TOOLCHAIN=nightly        the rustup toolchain cargo-fuzz builds with
#
# Each run starts from the committed seeds (fuzz/corpus/<target>) and the
# corpus earlier runs grew ($STACK_DIR/fuzz/corpus/<target>, kept between
# runs); its full libFuzzer output goes to $STACK_DIR/fuzz/<target>.log. A
# failing input is saved under fuzz/artifacts/<target>/ and the script exits 1
# with the command that reproduces it. scripts/deps.sh installs cargo-fuzz.
set -euo pipefail

LOG_NAME=fuzz
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

seconds="${1:-${FUZZ_SECONDS:-10}}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || die "seconds per target must be a positive integer, not '$seconds'"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
read -r -a targets <<<"${FUZZ_TARGETS:-client_frame kafka_record}"
work="$STACK_DIR/fuzz"
target_dir="$ROOT/fuzz/target"
# a frame the gateway accepts is at most WS_MAX_MESSAGE_BYTES (64 KiB by default)
max_len=65536

cargo "+$toolchain" fuzz --version >/dev/null 2>&1 ||
  die "cargo-fuzz on the $toolchain toolchain is missing: run scripts/deps.sh"

total=$((${#targets[@]} + 1))
phase 1 "$total" "building ${targets[*]} (cargo +$toolchain fuzz build, into fuzz/target)"
cargo "+$toolchain" fetch --locked --manifest-path fuzz/Cargo.toml
cargo "+$toolchain" fuzz build --target-dir "$target_dir"
host="$(rustc "+$toolchain" -vV | sed -n 's/^host: //p')"
for target in "${targets[@]}"; do
  [[ -x "$target_dir/$host/release/$target" ]] ||
    die "no fuzz target $target in $target_dir/$host/release (a name not in fuzz/Cargo.toml, or the build above failed)"
done
phase_done "built"

# stat_of NAME: a value of libFuzzer's final stats (-print_final_stats) in $logfile
stat_of() {
  sed -n "s/^stat::$1:[[:space:]]*//p" "$logfile" | tail -n 1
}

n=1
for target in "${targets[@]}"; do
  n=$((n + 1))
  corpus="$work/corpus/$target"
  logfile="$work/$target.log"
  mkdir -p "$corpus"
  phase "$n" "$total" "$target: ${seconds}s from $(find "fuzz/corpus/$target" "$corpus" -type f | wc -l) inputs (log: $logfile)"
  # libFuzzer's progress lines ("#65536 pulse cov: ... exec/s: ...") come at
  # doubling execution counts: shown here, everything else goes to the log.
  # New inputs are written to the first corpus directory only.
  set +e
  cargo "+$toolchain" fuzz run --target-dir "$target_dir" "$target" "$corpus" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 2>&1 |
    tee "$logfile" |
    grep --line-buffered -E '^#[0-9]+[[:space:]]+(INITED|pulse|DONE)' |
    sed -u 's/^/  /' >&2
  rc="${PIPESTATUS[0]}"
  set -e
  if ((rc != 0)); then
    die_with_log "$logfile" "$target failed (exit $rc): the input is under fuzz/artifacts/$target/; reproduce with: cargo +$toolchain fuzz run --target-dir fuzz/target $target <that file>"
  fi
  runs="$(stat_of number_of_executed_units)"
  coverage="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$logfile" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)"
  phase_done "$target: no failure in ${runs:-?} inputs ($(stat_of average_exec_per_sec)/s, peak RSS $(stat_of peak_rss_mb) MB; ${coverage:-no coverage line})"
done
log "fuzzing done: ${targets[*]}, ${seconds}s each"
