#!/usr/bin/env bash
# The chat host's own tool, installed by cloud-init as /opt/chat/bin/chat-host
# (infra/cloud-init.yaml.tftpl) with its settings in /etc/chat/host.env.
#
#   chat-host bootstrap      first boot (cloud-init runcmd): SSM agent, data
#                            volume at /var/lib/docker, Docker Engine + compose
#                            plugin, AWS CLI, systemd units; then deploys the
#                            release in s3://$CHAT_BUCKET/releases/current if
#                            CD has published one (a replacement instance)
#   chat-host deploy VERSION fetch releases/VERSION.tar.gz from S3, check its
#                            sha256, write .env from SSM, pull the images, roll
#                            the stack, wait until it is healthy; on failure go
#                            back to the previous release. CD runs it over SSM
#                            Run Command as /opt/chat/deploy.sh VERSION, which
#                            cloud-init writes before the SSM agent exists (a
#                            command may arrive while the bootstrap still runs:
#                            the deploy waits for it).
#   chat-host status         the current release and `docker compose ps`
#
# Certificates are the compose stack's business (docker-compose.yml): nginx
# starts with a throwaway self-signed certificate, the `certbot` service gets
# the real one over HTTP-01 (webroot) and tries a renewal every 12 hours, and
# nginx reloads itself when the certificate changes. This script only warns
# when the domain does not point at this host yet.
#
# Layout on the host:
#   /etc/chat/host.env             settings from Terraform (no secrets)
#   /opt/chat/releases/VERSION/    one unpacked bundle each (docker-compose.yml,
#                                  nginx/, monitoring/, scripts/) + its .env (0600)
#   /opt/chat/current              -> releases/VERSION of the running stack
#   /opt/chat/{docker-compose.yml,.env,docker,nginx,monitoring,scripts}
#                                  -> current/... (every top-level entry of the
#                                  bundle): `cd /opt/chat && docker compose ...`
#                                  finds every file compose refers to, and the
#                                  backup runs /opt/chat/scripts/backup.sh
#   /var/lib/docker                the data volume (images, named volumes; Docker's
#                                  classic image store, not containerd's, which
#                                  would keep images in /var/lib/containerd)
#   /var/backups/chat              local copies of the nightly dumps
set -euo pipefail

# SSM Run Command starts this with a bare environment.
export HOME="${HOME:-/root}" DEBIAN_FRONTEND=noninteractive
HOST_ENV=/etc/chat/host.env
CHAT_DIR=/opt/chat
RELEASES_DIR=$CHAT_DIR/releases
STATE_DIR=/var/lib/chat
BACKUP_DIR=/var/backups/chat
DOCKER_DIR=/var/lib/docker
LOCK_FILE=/run/lock/chat-deploy.lock
# The compose project (top-level `name:` of docker-compose.yml): it names the
# volumes, so it must never change.
COMPOSE_PROJECT=chat
# Docker's apt repository signing key (docs.docker.com/engine/install/debian).
DOCKER_KEY_FINGERPRINT=9DC858229FC7DD38854AE2D88D81803C0EBFCD88
# Seconds the stack has to become healthy after `docker compose up`.
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-420}
# Unpacked releases kept on disk for a quick manual rollback.
KEEP_RELEASES=${KEEP_RELEASES:-5}
# apt waits this long for the dpkg lock: at first boot unattended-upgrades
# (and cloud-init's own package run) may hold it for minutes.
APT_LOCK=(-o DPkg::Lock::Timeout=900)
# Names in /opt/chat that a bundle's top-level entries must not replace.
RESERVED_NAMES=(bin releases current current.new deploy.sh)

log() {
  printf '%s chat-host: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

# retry TRIES DELAY CMD...: run CMD until it succeeds, at most TRIES times.
retry() {
  local tries=$1 delay=$2 n=1
  shift 2
  until "$@"; do
    if ((n >= tries)); then
      log "gave up after $n tries: $*"
      return 1
    fi
    log "try $n of $tries failed, again in ${delay}s: $*"
    sleep "$delay"
    n=$((n + 1))
  done
}

# wait_for DESC TIMEOUT CMD...: poll CMD (output discarded) every 5 s.
wait_for() {
  local desc=$1 timeout=$2 start
  shift 2
  start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS - start >= timeout)); then
      log "$desc: timed out after ${timeout}s"
      return 1
    fi
    sleep 5
  done
  log "$desc: ok after $((SECONDS - start))s"
}

load_settings() {
  [[ -r "$HOST_ENV" ]] || die "$HOST_ENV is missing (written by cloud-init from Terraform)"
  set -a
  # shellcheck source=/dev/null
  source "$HOST_ENV"
  set +a
  local v
  for v in CHAT_PROJECT CHAT_ENVIRONMENT AWS_REGION CHAT_BUCKET CHAT_KMS_KEY_ARN CHAT_SSM_PATH CHAT_DOMAIN \
    CHAT_ACME_EMAIL CHAT_IMAGE_REPOSITORY CHAT_ENABLE_BOT CHAT_DATA_VOLUME_ID CHAT_BACKUP_TIME; do
    [[ -n "${!v:-}" ]] || die "$v is not set in $HOST_ENV"
  done
}

# ------------------------------------------------------------------ bootstrap

apt_install() {
  retry 5 10 apt-get "${APT_LOCK[@]}" install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# The SSM agent comes first: once it runs, the host has a shell (Session
# Manager) even if a later step fails. Debian's AMI does not ship it; AWS
# publishes the package in a bucket of each region.
install_ssm_agent() {
  if systemctl is-active --quiet amazon-ssm-agent; then
    log "SSM agent already running"
    return 0
  fi
  local deb=/tmp/amazon-ssm-agent.deb
  retry 10 10 curl -fsSL --proto '=https' --tlsv1.2 -o "$deb" \
    "https://s3.${AWS_REGION}.amazonaws.com/amazon-ssm-${AWS_REGION}/latest/debian_amd64/amazon-ssm-agent.deb"
  dpkg -i "$deb"
  rm -f "$deb"
  systemctl enable --now amazon-ssm-agent
  log "SSM agent installed and running"
}

# The data volume, found by its volume id: Nitro instances expose EBS volumes
# as NVMe devices whose serial is the volume id without the dash.
data_volume_device() {
  local link="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${CHAT_DATA_VOLUME_ID//-/}"
  [[ -e "$link" ]] && readlink -f "$link"
}

mount_data_volume() {
  if mountpoint -q "$DOCKER_DIR"; then
    log "$DOCKER_DIR already mounted"
    return 0
  fi
  # Terraform attaches the volume right after the instance starts.
  wait_for "data volume $CHAT_DATA_VOLUME_ID attached" 600 data_volume_device ||
    die "data volume $CHAT_DATA_VOLUME_ID never showed up"
  local dev uuid
  dev="$(data_volume_device)"
  # Format only a volume that carries no signature at all (a new one): an
  # existing volume holds the database of the instance this one replaced.
  if [[ -z "$(blkid -p -o value -s TYPE "$dev" 2>/dev/null)" && -z "$(wipefs "$dev" 2>/dev/null)" ]]; then
    log "formatting the new data volume $dev (ext4)"
    mkfs.ext4 -q -L chat-data "$dev"
  else
    log "data volume $dev already has a file system: keeping its data"
  fi
  uuid="$(blkid -o value -s UUID "$dev")"
  mkdir -p "$DOCKER_DIR"
  if ! grep -q "UUID=$uuid" /etc/fstab; then
    printf 'UUID=%s %s ext4 defaults,nofail,x-systemd.device-timeout=120s 0 2\n' "$uuid" "$DOCKER_DIR" >>/etc/fstab
  fi
  systemctl daemon-reload
  mount "$DOCKER_DIR"
  log "data volume mounted at $DOCKER_DIR"
}

# A swap file on the root volume: a safety margin against the OOM killer on a
# 4 GiB host during image pulls and JVM start-up, not a place to run from.
ensure_swap() {
  [[ -e /swapfile ]] && return 0
  fallocate -l 2G /swapfile
  chmod 600 /swapfile
  mkswap /swapfile >/dev/null
  printf '/swapfile none swap sw 0 0\n' >>/etc/fstab
  swapon /swapfile
  sysctl -q -w vm.swappiness=10
  printf 'vm.swappiness=10\n' >/etc/sysctl.d/60-chat-swap.conf
}

install_docker() {
  if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
    log "Docker and the compose plugin already installed"
    return 0
  fi
  install -m 0755 -d /etc/apt/keyrings
  local key=/etc/apt/keyrings/docker.asc fpr
  retry 10 10 curl -fsSL --proto '=https' --tlsv1.2 -o "$key.tmp" https://download.docker.com/linux/debian/gpg
  fpr="$(gpg --show-keys --with-colons "$key.tmp" | awk -F: '/^fpr:/ {print $10; exit}')"
  [[ "$fpr" == "$DOCKER_KEY_FINGERPRINT" ]] ||
    die "Docker's apt key has fingerprint '$fpr', expected $DOCKER_KEY_FINGERPRINT"
  mv "$key.tmp" "$key"
  chmod 0644 "$key"
  local codename
  # shellcheck source=/dev/null
  codename="$(. /etc/os-release && printf '%s' "$VERSION_CODENAME")"
  printf 'deb [arch=%s signed-by=%s] https://download.docker.com/linux/debian %s stable\n' \
    "$(dpkg --print-architecture)" "$key" "$codename" >/etc/apt/sources.list.d/docker.list
  retry 5 10 apt-get "${APT_LOCK[@]}" update -q
  # The data volume must be mounted before Docker ever starts.
  mkdir -p /etc/systemd/system/docker.service.d
  cat >/etc/systemd/system/docker.service.d/10-chat-data-volume.conf <<EOF
[Unit]
RequiresMountsFor=$DOCKER_DIR
EOF
  mkdir -p /etc/docker
  # Bounded container logs (the default json-file driver grows without end);
  # live-restore keeps containers running while dockerd is upgraded. The
  # containerd image store (the default from Docker Engine 29) keeps images
  # in /var/lib/containerd, on the 20 GiB root volume: the classic store
  # keeps them in /var/lib/docker, on the data volume.
  cat >/etc/docker/daemon.json <<'EOF'
{
  "data-root": "/var/lib/docker",
  "features": { "containerd-snapshotter": false },
  "log-driver": "local",
  "log-opts": { "max-size": "20m", "max-file": "5" },
  "live-restore": true
}
EOF
  systemctl daemon-reload
  apt_install docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin
  systemctl enable --now docker
  local driver
  driver="$(docker info --format '{{.Driver}}')"
  [[ "$driver" == overlay2 ]] ||
    die "Docker's storage driver is '$driver', not overlay2: images would not be on the data volume ($DOCKER_DIR)"
  log "installed $(docker --version), $(docker compose version), storage driver $driver"
}

install_units() {
  # Nightly backup: scripts/backup.sh of the current release dumps Postgres
  # inside the compose postgres service and uploads the dump to S3, encrypted
  # with the environment's KMS key (the bucket policy refuses any other).
  # It finds the compose project through /opt/chat (links to current/).
  cat >/etc/systemd/system/chat-backup.service <<EOF
[Unit]
Description=chat: nightly Postgres dump to s3://$CHAT_BUCKET/backups
After=docker.service
Requires=docker.service
ConditionPathExists=$CHAT_DIR/scripts/backup.sh

[Service]
Type=oneshot
WorkingDirectory=$CHAT_DIR
EnvironmentFile=$HOST_ENV
Environment=COMPOSE_PROJECT_NAME=$COMPOSE_PROJECT
Environment=BACKUP_VIA_COMPOSE=1
Environment=BACKUP_S3_URI=s3://$CHAT_BUCKET/backups
Environment=BACKUP_S3_SSE=aws:kms
Environment=BACKUP_S3_KMS_KEY_ID=$CHAT_KMS_KEY_ARN
ExecStart=$CHAT_DIR/scripts/backup.sh $BACKUP_DIR
TimeoutStartSec=2h
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
EOF
  cat >/etc/systemd/system/chat-backup.timer <<EOF
[Unit]
Description=chat: nightly Postgres backup at $CHAT_BACKUP_TIME UTC

[Timer]
OnCalendar=*-*-* $CHAT_BACKUP_TIME:00 UTC
RandomizedDelaySec=10m
Persistent=true

[Install]
WantedBy=timers.target
EOF
  systemctl daemon-reload
  systemctl enable --now chat-backup.timer
  log "systemd units installed"
}

bootstrap() {
  load_settings
  # cloud-init wrote it before this runs, so that CD's Run Command, which may
  # arrive as soon as the SSM agent below is online, finds it.
  [[ -x "$CHAT_DIR/deploy.sh" ]] || die "$CHAT_DIR/deploy.sh is missing (written by cloud-init)"
  mkdir -p "$STATE_DIR" "$RELEASES_DIR" "$BACKUP_DIR"
  chmod 0700 "$BACKUP_DIR"
  log "bootstrap of $CHAT_PROJECT-$CHAT_ENVIRONMENT ($CHAT_DOMAIN)"
  # The Elastic IP is associated a few seconds after the instance starts:
  # until then there is no way out, so the first apt-get update may fail.
  retry 60 10 apt-get "${APT_LOCK[@]}" update -q
  apt_install ca-certificates curl gnupg unattended-upgrades
  # Debian's security updates, daily (Docker's own repository is not in the
  # default origins: Docker is upgraded on purpose, not overnight). Kernel
  # updates wait for a reboot (docs/deploy.md).
  printf 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n' \
    >/etc/apt/apt.conf.d/20auto-upgrades
  install_ssm_agent
  apt_install awscli jq e2fsprogs
  mount_data_volume
  ensure_swap
  install_docker
  install_units
  touch "$STATE_DIR/bootstrapped"
  # A replacement instance picks up the release that CD published last.
  local current
  if current="$(aws s3 cp --only-show-errors "s3://$CHAT_BUCKET/releases/current" - 2>/dev/null)" && [[ -n "$current" ]]; then
    log "published release: $current: deploying it"
    CHAT_IN_BOOTSTRAP=1 deploy "$current"
  else
    log "no release published yet: the first CD run deploys one (/opt/chat/deploy.sh VERSION)"
  fi
  log "bootstrap done"
}

# ------------------------------------------------------------------- deploy

valid_version() {
  [[ "$1" =~ ^(v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?|sha-[0-9a-f]{7,40})$ ]]
}

# compose DIR ARGS...: docker compose on the release unpacked in DIR, always
# under the same project name (so its named volumes are the same ones), with
# the bot's profile when it is enabled.
compose() {
  local dir=$1 profile=()
  shift
  if [[ "$CHAT_ENABLE_BOT" == true ]]; then
    profile=(--profile bot)
  fi
  docker compose --project-name "$COMPOSE_PROJECT" --project-directory "$dir" \
    --file "$dir/docker-compose.yml" --env-file "$dir/.env" "${profile[@]}" "$@"
}

# Set by this script in .env; an SSM parameter may not set them too.
HOST_SET_VARS=(COMPOSE_PROJECT_NAME CHAT_IMAGE_REGISTRY CHAT_IMAGE_TAG DOMAIN LETSENCRYPT_EMAIL)

# write_env DIR VERSION: DIR/.env for compose: every parameter directly under
# $CHAT_SSM_PATH/ (JWT_SECRET, POSTGRES_PASSWORD, REDIS_PASSWORD,
# GRAFANA_ADMIN_PASSWORD, optional settings such as LETSENCRYPT_STAGING or
# OLLAMA_MODEL; SecureStrings decrypted) plus the host's non-secret settings
# (HOST_SET_VARS). Mode 0600, root's.
write_env() {
  local dir=$1 version=$2 json tmp n
  json="$(aws ssm get-parameters-by-path --path "$CHAT_SSM_PATH/" --with-decryption \
    --query 'Parameters[].{n:Name,v:Value}' --output json)" ||
    die "cannot read the SSM parameters under $CHAT_SSM_PATH/"
  tmp="$(mktemp "$dir/.env.XXXXXX")"
  chmod 0600 "$tmp"
  {
    printf '# Written by chat-host deploy %s at %s. Secrets from SSM %s/: do not copy.\n' \
      "$version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$CHAT_SSM_PATH"
    printf "COMPOSE_PROJECT_NAME='%s'\n" "$COMPOSE_PROJECT"
    printf "CHAT_IMAGE_REGISTRY='%s'\n" "$CHAT_IMAGE_REPOSITORY"
    printf "CHAT_IMAGE_TAG='%s'\n" "$version"
    printf "DOMAIN='%s'\n" "$CHAT_DOMAIN"
    printf "LETSENCRYPT_EMAIL='%s'\n" "$CHAT_ACME_EMAIL"
    # Names become variable names; values are written single-quoted (compose
    # takes them literally), so they may hold anything but a quote or newline.
    jq -r --arg prefix "$CHAT_SSM_PATH/" --arg reserved "${HOST_SET_VARS[*]}" '
      ($reserved | split(" ")) as $host
      | .[] | (.n | ltrimstr($prefix)) as $k
      | if ($k | test("^[A-Z][A-Z0-9_]*$")) | not then
          error("parameter name \(.n): the last part must be an UPPER_CASE variable name")
        elif ($host | index($k)) then
          error("parameter \(.n): \($k) is set by the host (Terraform), not by SSM")
        elif (.v | test("[\u0027\n\r]")) then
          error("parameter \(.n): a value must not contain a single quote or a newline")
        else "\($k)=\u0027\(.v)\u0027" end' <<<"$json"
  } >"$tmp" || {
    rm -f "$tmp"
    die "cannot write .env from the SSM parameters"
  }
  n="$(jq length <<<"$json")"
  mv -f "$tmp" "$dir/.env"
  log "wrote $dir/.env ($n parameters from $CHAT_SSM_PATH/)"
}

# Registry credentials are optional (public images need none), SecureStrings
# one level down (so they are not in .env):
#   $CHAT_SSM_PATH/registry/{username,token}   the images' registry (GHCR): a
#                                              token that can only read packages
#   $CHAT_SSM_PATH/dockerhub/{username,token}  Docker Hub (postgres, kafka, ...):
#                                              its anonymous pull limit counts
#                                              per address, here the Elastic IP
login_from_ssm() {
  local prefix=$1 registry=$2 user token
  user="$(aws ssm get-parameter --name "$CHAT_SSM_PATH/$prefix/username" --with-decryption \
    --query Parameter.Value --output text 2>/dev/null)" || return 0
  token="$(aws ssm get-parameter --name "$CHAT_SSM_PATH/$prefix/token" --with-decryption \
    --query Parameter.Value --output text)" || die "$CHAT_SSM_PATH/$prefix/username is set but $prefix/token cannot be read"
  printf '%s' "$token" | docker login --username "$user" --password-stdin "$registry" >/dev/null
  log "logged in to $registry as $user"
}

registry_login() {
  login_from_ssm registry "${CHAT_IMAGE_REPOSITORY%%/*}"
  login_from_ssm dockerhub docker.io
}

fetch_release() {
  local version=$1 dir=$2 tmp
  tmp="$(mktemp -d)"
  retry 3 5 aws s3 cp --only-show-errors "s3://$CHAT_BUCKET/releases/$version.tar.gz" "$tmp/bundle.tar.gz" ||
    die "cannot download s3://$CHAT_BUCKET/releases/$version.tar.gz"
  retry 3 5 aws s3 cp --only-show-errors "s3://$CHAT_BUCKET/releases/$version.tar.gz.sha256" "$tmp/bundle.sha256" ||
    die "cannot download the checksum of release $version"
  local want have
  want="$(awk '{print $1; exit}' "$tmp/bundle.sha256")"
  have="$(sha256sum "$tmp/bundle.tar.gz" | awk '{print $1}')"
  [[ "$want" == "$have" ]] || die "release $version: sha256 $have does not match the published $want"
  rm -rf "$dir.new"
  mkdir -p "$dir.new"
  tar -xzf "$tmp/bundle.tar.gz" -C "$dir.new" --no-same-owner --no-same-permissions
  [[ -f "$dir.new/docker-compose.yml" ]] || die "release $version has no docker-compose.yml"
  rm -rf "$dir" "$tmp"
  mv "$dir.new" "$dir"
  log "release $version unpacked in $dir"
}

# Links in /opt/chat that always point at the running release: one per
# top-level entry of the bundle (docker-compose.yml, docker/, nginx/, ...)
# and .env, so that compose run from /opt/chat finds its build contexts and
# bind-mount sources (relative to /opt/chat, the compose file's directory).
link_current() {
  local version=$1 name
  ln -sfn "releases/$version" "$CHAT_DIR/current.new"
  mv -Tf "$CHAT_DIR/current.new" "$CHAT_DIR/current"
  while IFS= read -r name; do
    if printf '%s\n' "${RESERVED_NAMES[@]}" | grep -qxF -- "$name"; then
      log "WARNING: the bundle's top-level $name is not linked into $CHAT_DIR (a name the host uses)"
      continue
    fi
    ln -sfn "current/$name" "$CHAT_DIR/$name"
  done < <(find "$RELEASES_DIR/$version" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort)
}

public_ipv4() {
  local token
  token="$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)"
  curl -fsS -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/public-ipv4
}

# certbot (in the stack) can only get the certificate once the domain points
# here; say so instead of letting it fail quietly every 10 minutes.
warn_if_dns_elsewhere() {
  local ip
  ip="$(public_ipv4)" || return 0
  if ! getent ahostsv4 "$CHAT_DOMAIN" | awk '{print $1}' | grep -qxF "$ip"; then
    log "WARNING: $CHAT_DOMAIN does not resolve to this host ($ip): certbot cannot get the certificate until its A record points here (terraform output dns_record)"
  fi
}

# all_images_present DIR: every image of the stack is in the local store
# (pulled), so that `up --no-build` never falls back to building on the host.
all_images_present() {
  local dir=$1 image
  while IFS= read -r image; do
    docker image inspect "$image" >/dev/null 2>&1 || {
      log "image $image is missing after the pull"
      return 1
    }
  done < <(compose "$dir" config --images)
}

# stack_healthy DIR: every long-running container is running and, if it has
# a health check, healthy; every one-shot container (restart "no": migrate,
# kafka-init) exited 0; and the site answers /healthz over HTTPS on this host
# (-k: the certificate may still be the placeholder). The bot and its model
# server are left out: the chat runs without them, and the first model
# download takes long.
stack_healthy() {
  local dir=$1 id name status code health restart
  while IFS= read -r id; do
    read -r name status code health restart < <(docker inspect --format \
      '{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.HostConfig.RestartPolicy.Name}}' "$id")
    case "$name" in bot | ollama) continue ;; esac
    if [[ "$restart" == no || -z "$restart" ]]; then
      [[ "$status" == exited && "$code" == 0 ]] || return 1
    else
      [[ "$status" == running && ("$health" == healthy || "$health" == none) ]] || return 1
    fi
  done < <(compose "$dir" ps --all --quiet)
  curl -fsSk --max-time 5 --resolve "$CHAT_DOMAIN:443:127.0.0.1" "https://$CHAT_DOMAIN/healthz" >/dev/null
}

# Why a pull fails on a first deploy: GHCR creates new packages private, even
# for a public repository, and the host pulls anonymously unless a token is
# in SSM (registry_login).
explain_pull_failure() {
  local registry=${CHAT_IMAGE_REPOSITORY%%/*}
  log "cannot pull the images of this release from $registry ($CHAT_IMAGE_REPOSITORY/<service>)."
  log "On a first deploy this is GHCR's default: new packages are private, even for a public repository. Either make"
  log "each package public (GitHub: the package's Package settings -> Change visibility), or store a token that can"
  log "only read packages as SSM SecureStrings $CHAT_SSM_PATH/registry/username and $CHAT_SSM_PATH/registry/token"
  log "(docs/deploy.md, \"6. First deploy\"); with a token stored, check that it has read:packages and has not expired."
  log "If the refused image is one of Docker Hub's (postgres, kafka, ...; see above): its anonymous pull limit counts per"
  log "address, here the Elastic IP; store a Docker Hub token as $CHAT_SSM_PATH/dockerhub/username and .../dockerhub/token."
}

roll_stack() {
  local dir=$1 recreate=()
  if ! retry 3 10 compose "$dir" pull --quiet; then
    explain_pull_failure
    return 1
  fi
  all_images_present "$dir" || return 1
  warn_if_dns_elsewhere
  # On a replacement instance, Docker (on the old data volume) has already
  # restarted the old containers, whose bind mounts pointed into a release
  # directory this root volume did not have yet: recreate everything.
  if [[ -n "${CHAT_IN_BOOTSTRAP:-}" ]]; then
    recreate=(--force-recreate)
  fi
  # Otherwise only services whose image or configuration changed are
  # recreated: the data stores keep running across a release that does not
  # touch them.
  compose "$dir" up --detach --remove-orphans --no-build --pull never "${recreate[@]}" || return 1
  wait_for "stack healthy and https://$CHAT_DOMAIN/healthz answering on this host" \
    "$HEALTH_TIMEOUT" stack_healthy "$dir"
}

prune_releases() {
  local keep=$1 current old
  current="$(basename "$(readlink -f "$CHAT_DIR/current")")"
  # Newest first; keep the current one and the KEEP_RELEASES newest.
  while IFS= read -r old; do
    [[ "$old" == "$current" ]] && continue
    rm -rf "${RELEASES_DIR:?}/$old"
    log "removed old release $old"
  done < <(find "$RELEASES_DIR" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %f\n' | sort -rn | awk -v k="$keep" 'NR > k {print $2}')
  # Images of the last week stay, for a quick rollback.
  docker image prune --all --force --filter until=168h >/dev/null
}

deploy() {
  local version=${1:-}
  valid_version "$version" || die "usage: deploy VERSION (vX.Y.Z or sha-<hex>), got '$version'"
  load_settings
  if [[ -z "${CHAT_IN_BOOTSTRAP:-}" && ! -e "$STATE_DIR/bootstrapped" ]]; then
    wait_for "first-boot bootstrap finished" 1200 test -e "$STATE_DIR/bootstrapped" ||
      die "the bootstrap has not finished: see /var/log/cloud-init-output.log"
  fi
  mkdir -p "$(dirname "$LOCK_FILE")"
  exec 9>"$LOCK_FILE"
  flock -w 900 9 || die "another deploy holds $LOCK_FILE"

  local dir="$RELEASES_DIR/$version" previous=""
  if [[ -L "$CHAT_DIR/current" ]]; then
    previous="$(basename "$(readlink -f "$CHAT_DIR/current")")"
  fi
  log "deploying $version (running: ${previous:-none})"
  fetch_release "$version" "$dir"
  write_env "$dir" "$version"
  registry_login
  link_current "$version"
  if roll_stack "$dir"; then
    printf '%s\n' "$version" >"$STATE_DIR/deployed"
    prune_releases "$KEEP_RELEASES"
    log "deployed $version"
    return 0
  fi
  log "release $version is not healthy"
  compose "$dir" ps --all >&2 || true
  compose "$dir" logs --tail 50 >&2 || true
  if [[ -n "$previous" && "$previous" != "$version" && -d "$RELEASES_DIR/$previous" ]]; then
    log "rolling back to $previous"
    write_env "$RELEASES_DIR/$previous" "$previous"
    link_current "$previous"
    if roll_stack "$RELEASES_DIR/$previous"; then
      die "deploy of $version failed; $previous is running again"
    fi
    die "deploy of $version failed and the rollback to $previous is not healthy either"
  fi
  die "deploy of $version failed (no previous release to go back to)"
}

# ---------------------------------------------------------------- the rest

status() {
  load_settings
  if [[ ! -L "$CHAT_DIR/current" ]]; then
    printf 'no release deployed yet\n'
    return 0
  fi
  local dir
  dir="$(readlink -f "$CHAT_DIR/current")"
  printf 'release: %s\n' "$(basename "$dir")"
  compose "$dir" ps
}

main() {
  ((EUID == 0)) || die "run as root"
  local cmd=${1:-}
  shift || true
  case "$cmd" in
    bootstrap) bootstrap ;;
    deploy) deploy "$@" ;;
    status) status ;;
    *) die "usage: chat-host bootstrap | deploy VERSION | status" ;;
  esac
}

main "$@"
