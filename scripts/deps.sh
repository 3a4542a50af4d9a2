#!/usr/bin/env bash
# Installs what building and running the chat backend needs and is missing,
# then prints a summary. Safe to run again: installed things are left alone.
#
#   scripts/deps.sh
#
#   1. Debian packages: Postgres, Redis, nginx (never started by apt: scripts/stack.sh
#      and scripts/nginx.sh run our own instances), gettext-base (envsubst renders
#      the nginx config), the C toolchain and headers rdkafka's build needs
#      (cmake, libssl, zlib, sasl, zstd, curl), python3 and its venv module (the
#      check tools from PyPI live in a project venv), and what the deployment
#      checks use: sslscan, testssl.sh, libnss3-tools (certutil), jq, unzip
#   2. Java 17+ and Maven (installed from Debian when missing), for the Kafka broker
#   3. cargo (must already be there: no way to fetch a toolchain here), node and npm
#   4. the Kafka broker's jars (scripts/kafka.sh classpath: Maven Central -> ~/.m2)
#   5. for scripts/fuzz.sh: a nightly Rust toolchain (rustup, when it can reach
#      the internet; $FUZZ_TOOLCHAIN, default nightly) and cargo-fuzz (crates.io)
set -euo pipefail

LOG_NAME=deps
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# the cargo-fuzz release scripts/fuzz.sh is known to work with
CARGO_FUZZ_VERSION=0.13.2
FUZZ_TOOLCHAIN="${FUZZ_TOOLCHAIN:-nightly}"

DEBIAN_PACKAGES=(
  postgresql redis-server nginx gettext-base
  build-essential cmake pkg-config
  libssl-dev zlib1g-dev libsasl2-dev libzstd-dev libcurl4-openssl-dev
  python3 python3-venv curl shellcheck
  sslscan testssl.sh libnss3-tools jq unzip
)

# first_line CMD...: the first line CMD prints (stdout or stderr), or "?".
first_line() {
  local out
  out="$("$@" 2>&1 | head -n 1)" || true
  printf '%s' "${out:-?}"
}

java_major() {
  local v
  v="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  printf '%s' "${v%%.*}"
}

phase 1 5 "Debian packages: ${DEBIAN_PACKAGES[*]}"
ensure_apt "${DEBIAN_PACKAGES[@]}"
phase_done "Debian packages present"

phase 2 5 "Java 17+ and Maven"
if ! command -v java >/dev/null; then
  ensure_apt openjdk-17-jdk-headless
fi
major="$(java_major)"
if ! [[ "$major" =~ ^[0-9]+$ ]] || ((major < 17)); then
  log "java is '$(first_line java -version)', Kafka needs 17+: installing openjdk-17-jdk-headless"
  ensure_apt openjdk-17-jdk-headless
  major="$(java_major)"
  if ! [[ "$major" =~ ^[0-9]+$ ]] || ((major < 17)); then
    die "'java' on PATH is still $major after installing openjdk-17 (update-alternatives --config java)"
  fi
fi
if ! command -v mvn >/dev/null; then
  ensure_apt maven
fi
phase_done "java $major, maven present"

phase 3 5 "cargo, node, npm"
if ! command -v cargo >/dev/null && [[ -x "$HOME/.cargo/bin/cargo" ]]; then
  export PATH="$HOME/.cargo/bin:$PATH"
  log "cargo found in ~/.cargo/bin (not on PATH: add it, e.g. source ~/.cargo/env)"
fi
command -v cargo >/dev/null ||
  die "cargo not found. This machine cannot download a Rust toolchain (rustup needs the internet); install Rust stable (rustup) where it is allowed, or use a machine that has it"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  ensure_apt nodejs npm
fi
# the web client's toolchain (Vite) needs Node 20.19+ or 22.12+
node_version="$(node --version)"
node_version="${node_version#v}"
IFS=. read -r node_major node_minor _ <<<"$node_version"
if ((node_major < 20 || (node_major == 20 && node_minor < 19) || (node_major == 21) || (node_major == 22 && node_minor < 12))); then
  die "node $node_version is too old for the web client: Node 20.19+ or 22.12+ is needed"
fi
phase_done "cargo, node $node_version and npm present"

phase 4 5 "Kafka broker jars (Maven Central -> ~/.m2)"
cp_file="$(LOG_NAME=kafka "$ROOT/scripts/kafka.sh" classpath)"
kafka_version="$(basename "$cp_file" .txt)"
kafka_version="${kafka_version#kafka-classpath-}"
phase_done "Kafka classpath cached under $STACK_DIR"

phase 5 5 "fuzzing: the $FUZZ_TOOLCHAIN Rust toolchain and cargo-fuzz"
if ! cargo "+$FUZZ_TOOLCHAIN" --version >/dev/null 2>&1; then
  command -v rustup >/dev/null ||
    die "no $FUZZ_TOOLCHAIN Rust toolchain and no rustup to install it: scripts/fuzz.sh needs one (cargo-fuzz uses nightly-only sanitizer flags)"
  log "rustup toolchain install $FUZZ_TOOLCHAIN --profile minimal"
  rustup toolchain install "$FUZZ_TOOLCHAIN" --profile minimal ||
    die "could not install the $FUZZ_TOOLCHAIN toolchain (rustup needs the internet)"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "cargo install cargo-fuzz --version $CARGO_FUZZ_VERSION --locked (about 2 minutes)"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
phase_done "$(first_line cargo "+$FUZZ_TOOLCHAIN" --version) and $(first_line cargo fuzz --version) present"

printf '\nsummary\n'
printf '  %-10s %s\n' \
  postgres "$("$(pg_bindir)/postgres" --version)" \
  redis "$(first_line redis-server --version)" \
  nginx "$(first_line nginx -v)" \
  cmake "$(first_line cmake --version)" \
  cc "$(first_line cc --version)" \
  python3 "$(first_line python3 --version)" \
  java "$(first_line java -version)" \
  maven "$(first_line mvn -B -v | sed 's/\x1b\[[0-9;]*m//g')" \
  cargo "$(first_line cargo --version)" \
  nightly "$(first_line cargo "+$FUZZ_TOOLCHAIN" --version)" \
  cargo-fuzz "$(first_line cargo fuzz --version)" \
  rustc "$(first_line rustc --version)" \
  node "$(first_line node --version)" \
  npm "$(first_line npm --version)" \
  kafka "Apache Kafka $kafka_version (classpath $cp_file)"
log "all dependencies present"
