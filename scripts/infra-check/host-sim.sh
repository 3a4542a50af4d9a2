#!/usr/bin/env bash
# The host's first boot and deploy, simulated: cloud-init's files written
# into a copy-on-write view of this machine's root (overlayfs in a private
# mount namespace, so nothing outside changes), then `chat-host bootstrap`
# (cloud-init's runcmd) run in it with the commands that would touch a real
# machine or AWS (docker, aws, apt-get, systemctl, mount, ...) replaced by
# recorders (host-sim/recorder.sh); host-sim/verify.py then checks the
# recorded events and the files left behind.
#
#   scripts/infra-check/host-sim.sh [INFRA_DIR]
#
# Scenarios, each in a fresh root:
#   replacement  a new instance while a release is published: bootstrap
#                deploys it, and CD's Run Command (/opt/chat/deploy.sh) is
#                sent the moment the SSM agent starts, as deploy.yml does;
#                then an operator's `docker compose run` from /opt/chat
#   private-images  the registry refuses the pull: the deploy must fail and
#                say what to do (public packages or a token in SSM)
# Needs root (mount namespace, overlayfs, chroot).
set -euo pipefail

LOG_NAME="host-sim"
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT"

INFRA_DIR="$(cd "${1:-infra}" && pwd)"
SIM_HOME="$ROOT/scripts/infra-check/host-sim"
VERSION=sha-0123456789ab
RECORDED=(apt-get dpkg systemctl curl gpg getent mountpoint mount blkid wipefs mkfs.ext4 fallocate mkswap swapon sysctl udevadm docker aws sleep)

if [[ "${2:-}" == --inside ]]; then
  # In the private mount namespace: $3 is the scenario, $4 its directory.
  scenario=$3 sim=$4
  mount -t tmpfs -o size=512m tmpfs "$sim/fs"
  mkdir -p "$sim/fs/upper" "$sim/fs/work" "$sim/fs/root"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$sim/fs/upper,workdir=$sim/fs/work" "$sim/fs/root"
  r="$sim/fs/root"
  # A /dev of our own: the usual character devices, and the data volume's
  # NVMe link (a plain file stands for the disk).
  mount -t tmpfs tmpfs "$r/dev"
  for d in null zero full random urandom tty; do
    : >"$r/dev/$d"
    mount --bind "/dev/$d" "$r/dev/$d"
  done
  ln -s /proc/self/fd "$r/dev/fd"
  ln -s /proc/self/fd/0 "$r/dev/stdin"
  ln -s /proc/self/fd/1 "$r/dev/stdout"
  ln -s /proc/self/fd/2 "$r/dev/stderr"
  mount -t proc proc "$r/proc"
  mkdir -p "$r/dev/disk/by-id"
  : >"$r/dev/disk/sim-nvme1n1"
  ln -s ../sim-nvme1n1 "$r/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0"
  # The repository, and the scenario's directory (recorders write there),
  # the same inside as outside: writes to them are real.
  mkdir -p "$r$ROOT"
  mount --bind "$ROOT" "$r$ROOT"
  if [[ "$sim" != "$ROOT"/* ]]; then
    mkdir -p "$r$sim"
    mount --bind "$sim" "$r$sim"
  fi
  [[ "$INFRA_DIR" == "$ROOT"/* ]] || { mkdir -p "$r$INFRA_DIR" && mount --bind "$INFRA_DIR" "$r$INFRA_DIR"; }
  mapfile -t runcmd < <(python3 "$SIM_HOME/render.py" "$INFRA_DIR" "$r")
  # SIM_PYTHON: a python with yaml, for the recorders (the outer part
  # checked that this one has it).
  SIM_PYTHON="$(command -v python3)"
  export SIM_DIR="$sim" SIM_HOME SIM_SCENARIO="$scenario" SIM_PYTHON
  export PATH="$sim/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  if [[ "$scenario" == replacement ]]; then
    export SIM_EARLY_VERSION=$VERSION
  fi
  rc=0
  for line in "${runcmd[@]}"; do
    IFS=$'\t' read -r -a cmd <<<"$line"
    echo "runcmd: ${cmd[*]}" >>"$sim/bootstrap.log"
    chroot "$r" "${cmd[@]}" >>"$sim/bootstrap.log" 2>&1 || rc=$?
  done
  echo "$rc" >"$sim/bootstrap.rc"
  if [[ "$scenario" == replacement ]]; then
    # CD's early Run Command, if the agent started, finishes within the deadline.
    for _ in $(seq 1 600); do
      [[ -e "$sim/early-deploy.rc" || ! -e "$sim/state/ssm-agent-started" ]] && break
      /bin/sleep 0.1
    done
    # The operator, as docs/deploy.md says: from /opt/chat.
    chroot "$r" bash -c 'cd /opt/chat && docker compose run --rm --no-deps certbot true' >>"$sim/operator.log" 2>&1 ||
      echo "operator command failed: $?" >>"$sim/operator.log"
  else
    chroot "$r" /opt/chat/deploy.sh "$VERSION" >"$sim/deploy.log" 2>&1 && echo 0 >"$sim/deploy.rc" || echo $? >"$sim/deploy.rc"
  fi
  python3 "$SIM_HOME/verify.py" "$scenario" "$sim" "$r"
  exit $?
fi

if ((EUID != 0)); then
  # GitHub's runners: a passwordless sudo.
  sudo -n true 2>/dev/null || die "needs root: a mount namespace, overlayfs and chroot"
  exec sudo -n env "PATH=$PATH" "STACK_DIR=$STACK_DIR" "TOOLS_VENV=$TOOLS_VENV" "$0" "$@"
fi
command -v unshare >/dev/null || die "unshare (util-linux) is missing"
python3 -c 'import yaml' 2>/dev/null || PATH="$TOOLS_VENV/bin:$PATH"
python3 -c 'import yaml' || die "python3 with yaml is needed (the tools venv has it: scripts/check-infra.sh)"

# The release bundle, made the way deploy.yml makes it.
base="$STACK_DIR/host-sim"
rm -rf "$base"
mkdir -p "$base"
bundle_paths="$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["env"]["BUNDLE_PATHS"])' \
  "${CHECK_WORKFLOWS_DIR:-.github/workflows}/deploy.yml")"
# The recorders themselves: several at once (CD's early deploy runs beside
# the bootstrap) must still log one whole line per call, or a check below
# reads a torn record as a call that never happened.
selfcheck="$base/recorder-selfcheck"
mkdir -p "$selfcheck/bin"
ln -s "$SIM_HOME/recorder.sh" "$selfcheck/bin/wipefs"
for p in 1 2 3 4; do
  (for i in $(seq 1 100); do SIM_DIR="$selfcheck" "$selfcheck/bin/wipefs" "p$p" "$i" /dev/disk/sim-nvme1n1 --all --force; done) &
done
wait
torn="$(awk -F'\t' 'NF != 8 || $1 != "wipefs"' "$selfcheck/events.tsv" | wc -l)"
calls="$(wc -l <"$selfcheck/events.tsv")"
((torn == 0 && calls == 400)) ||
  die "the recorders tear their log when run at once: $torn bad of $calls lines (400 calls)"
log "recorders: 400 calls from 4 processes at once, 400 whole lines"

failed=0
for scenario in replacement private-images; do
  sim="$base/$scenario"
  mkdir -p "$sim/bin" "$sim/s3/releases" "$sim/fs"
  for c in "${RECORDED[@]}"; do ln -s "$SIM_HOME/recorder.sh" "$sim/bin/$c"; done
  # shellcheck disable=SC2086 # a list of paths
  tar --sort=name --owner=0 --group=0 --numeric-owner -czf "$sim/s3/releases/$VERSION.tar.gz" $bundle_paths
  (cd "$sim/s3/releases" && sha256sum "$VERSION.tar.gz" >"$VERSION.tar.gz.sha256")
  if [[ "$scenario" == replacement ]]; then printf '%s\n' "$VERSION" >"$sim/s3/releases/current"; fi
  log "scenario $scenario"
  if ! unshare --mount --propagation private "$0" "$INFRA_DIR" --inside "$scenario" "$sim"; then
    failed=1
    for f in bootstrap.log early-deploy.log deploy.log operator.log; do
      [[ -s "$sim/$f" ]] && { echo "----- $scenario: $f (last 30 lines)"; tail -n 30 "$sim/$f"; }
    done
  fi
done
((failed == 0)) || die "the simulated host deploy failed a check (logs in $base)"
log "host deploy simulation: every check passed (2 scenarios)"
