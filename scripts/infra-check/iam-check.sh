#!/usr/bin/env bash
# The bucket, key and IAM policies of infra/ evaluated against the requests
# that CD (deploy.yml), the host (chat-host.sh) and the nightly backup
# (backup.sh) make, each with the decision it must get.
#
#   scripts/infra-check/iam-check.sh [INFRA_DIR]
#
# iam/requests.py renders the policies (every aws_iam_policy_document, and
# the deploy role's policy from docs/deploy.md) and reads the requests from
# the scripts; iam/evaluate.mjs evaluates them with @cloud-copilot/iam-simulate
# (npm, pinned by iam/package-lock.json; AGPL-3.0, a test tool run here, not
# shipped). Python from the tools venv: hcl2 and yaml come with checkov
# (scripts/check-infra.sh installs it first).
set -euo pipefail

LOG_NAME=iam-check
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT"

INFRA_DIR="${1:-infra}"
HERE="$ROOT/scripts/infra-check/iam"
NODE_DIR="$STACK_DIR/tools/iam-check"
PY="$TOOLS_VENV/bin/python"
[[ -x "$PY" ]] || die "no tools venv at $TOOLS_VENV (scripts/check-infra.sh installs checkov there first)"
command -v node >/dev/null || die "node is needed (scripts/deps.sh installs it)"

mkdir -p "$NODE_DIR"
if ! cmp -s "$HERE/package-lock.json" "$NODE_DIR/package-lock.json" || [[ ! -d "$NODE_DIR/node_modules" ]]; then
  log "npm ci @cloud-copilot/iam-simulate (into $NODE_DIR)"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --silent --no-audit --no-fund) || die "npm ci in $NODE_DIR failed"
fi
cp "$HERE/evaluate.mjs" "$NODE_DIR/"

"$PY" "$HERE/requests.py" "$INFRA_DIR" "${CHECK_WORKFLOWS_DIR:-.github/workflows}/deploy.yml" \
  "$INFRA_DIR/host/chat-host.sh" scripts/backup.sh docs/deploy.md >"$NODE_DIR/cases.json" ||
  die "could not render the policies and requests"
node "$NODE_DIR/evaluate.mjs" "$NODE_DIR/cases.json"
