#!/usr/bin/env bash
# `terraform validate` of infra/, offline, against the real schema of the AWS
# provider version that infra/versions.tf accepts.
#
#   scripts/infra-check/terraform-validate.sh [INFRA_DIR]
#
# Terraform cannot download providers here, but the schema of each AWS
# provider release is published in the npm registry: the CDK for Terraform
# bindings @cdktf/provider-aws are generated from it (21.22.1 <- hashicorp/aws
# 6.25.0). gen_schema.py turns their type information back into the
# provider's schema, and tf-standin/ (a Go plugin on terraform-plugin-go)
# serves it to Terraform as hashicorp/aws 6.25.0 from a local filesystem
# mirror. `terraform init -backend=false` then also checks that versions.tf
# accepts that version, and `terraform validate` checks resource and data
# source types, arguments, required arguments, blocks, types and references
# exactly as it does with the real provider. The stand-in answers no plan,
# apply or read: provider-side validation (value formats, conflicting
# arguments) is not covered.
#
# Caches (in $STACK_DIR/tools/tf-standin): the schema per package version and
# the plugin binary; npm's and Go's own caches keep the downloads.
set -euo pipefail

LOG_NAME=terraform-validate
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT"

# Bump both together: the package's README names the provider version.
CDKTF_PROVIDER_AWS_VERSION=21.22.1
AWS_PROVIDER_VERSION=6.25.0
# Used only when no terraform is on PATH: OpenTofu, built from its Go module
# (the hashicorp/terraform module cannot be built from the module proxy: its
# go.mod replaces modules with directories that its zip leaves out).
OPENTOFU_VERSION=v1.10.6
INFRA_DIR="${1:-infra}"
HERE="$ROOT/scripts/infra-check/tf-standin"
CACHE="$STACK_DIR/tools/tf-standin"
SCHEMA="$CACHE/aws-$AWS_PROVIDER_VERSION.schema.json"
PLUGIN="$CACHE/bin/terraform-provider-aws"
mkdir -p "$CACHE/bin"

command -v go >/dev/null || die "go is needed to build the stand-in provider (as for actionlint)"
command -v npm >/dev/null || die "npm is needed to fetch @cdktf/provider-aws"

# The schema: regenerated when the generator changed.
stamp="$CDKTF_PROVIDER_AWS_VERSION $(sha256sum "$HERE/gen_schema.py" | cut -c1-16)"
if [[ ! -s "$SCHEMA" || "$(cat "$SCHEMA.stamp" 2>/dev/null)" != "$stamp" ]]; then
  tmp="$(mktemp -d)"
  log "npm pack @cdktf/provider-aws@$CDKTF_PROVIDER_AWS_VERSION (37 MB, once; npm caches it)"
  (cd "$tmp" && npm pack --silent "@cdktf/provider-aws@$CDKTF_PROVIDER_AWS_VERSION" >/dev/null) ||
    die "npm pack @cdktf/provider-aws@$CDKTF_PROVIDER_AWS_VERSION failed"
  tar -xzf "$tmp"/cdktf-provider-aws-*.tgz -C "$tmp" package/.jsii
  python3 "$HERE/gen_schema.py" "$tmp/package/.jsii" "$SCHEMA.tmp" >&2
  rm -rf "$tmp"
  got="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["provider_version"])' "$SCHEMA.tmp")"
  [[ "$got" == "$AWS_PROVIDER_VERSION" ]] ||
    die "@cdktf/provider-aws@$CDKTF_PROVIDER_AWS_VERSION carries hashicorp/aws $got, not $AWS_PROVIDER_VERSION"
  mv "$SCHEMA.tmp" "$SCHEMA"
  printf '%s\n' "$stamp" >"$SCHEMA.stamp"
fi

# The plugin: go build is a no-op when nothing changed (Go's build cache).
unformatted="$(cd "$HERE" && gofmt -l .)"
[[ -z "$unformatted" ]] || die "gofmt: $unformatted in $HERE needs formatting"
(cd "$HERE" && go vet . && go build -trimpath -o "$PLUGIN" .) || die "building the stand-in provider failed"

# Terraform itself, or OpenTofu built from its module.
if command -v terraform >/dev/null; then
  TF=terraform
  host=registry.terraform.io
else
  TF="$CACHE/bin/tofu"
  host=registry.opentofu.org
  if [[ ! -x "$TF" || "$(cat "$TF.version" 2>/dev/null)" != "$OPENTOFU_VERSION" ]]; then
    log "no terraform on PATH: building OpenTofu $OPENTOFU_VERSION from its Go module (once; about 4 CPU-minutes)"
    dir="$(go mod download -json "github.com/opentofu/opentofu@$OPENTOFU_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
    (cd "$dir" && go build -trimpath -o "$TF" ./cmd/tofu) || die "building OpenTofu $OPENTOFU_VERSION failed"
    printf '%s\n' "$OPENTOFU_VERSION" >"$TF.version"
  fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mirror="$work/mirror/$host/hashicorp/aws/$AWS_PROVIDER_VERSION/linux_amd64"
mkdir -p "$mirror"
cp "$PLUGIN" "$mirror/terraform-provider-aws_v$AWS_PROVIDER_VERSION"
cat >"$work/cli.tfrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["$host/hashicorp/aws"]
  }
}
disable_checkpoint = true
RC
cp -r "$INFRA_DIR" "$work/infra"
rm -rf "$work/infra/.terraform" "$work/infra/.terraform.lock.hcl"
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" STANDIN_SCHEMA="$SCHEMA" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
if ! out="$(cd "$work/infra" && "$TF" init -backend=false -input=false -no-color 2>&1)"; then
  printf '%s\n' "$out" >&2
  die "$TF init failed: does $INFRA_DIR/versions.tf accept hashicorp/aws $AWS_PROVIDER_VERSION?"
fi
if ! out="$(cd "$work/infra" && "$TF" validate -no-color 2>&1)"; then
  printf '%s\n' "$out" >&2
  die "$TF validate failed against hashicorp/aws $AWS_PROVIDER_VERSION's schema"
fi
log "$("$TF" version | head -n 1): configuration valid against hashicorp/aws $AWS_PROVIDER_VERSION ($(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["resources"]), "resource and", len(d["data_sources"]), "data source types")' "$SCHEMA"))"
