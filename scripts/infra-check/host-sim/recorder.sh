#!/usr/bin/env bash
# Stand-in for the commands the host script runs that would touch a real
# machine or the network (docker, aws, apt-get, systemctl, mount, ...): linked
# under each command's name, first on PATH inside the simulated root. Records
# every call in $SIM_DIR/events.tsv (command, working directory, whether
# /opt/chat/deploy.sh existed at that moment, the arguments) and answers like
# the real command would on a new instance (scripts/infra-check/host-sim.sh).
set -uo pipefail
name="$(basename "$0")"
state="$SIM_DIR/state"
mkdir -p "$state"
deploy_sh=absent
[[ -x /opt/chat/deploy.sh ]] && deploy_sh=present
# One write(2) per record: recorders run at once (CD's early deploy beside
# the bootstrap), and O_APPEND keeps only whole writes from interleaving.
printf -v record '%s\t%s\t%s' "$name" "$PWD" "$deploy_sh"
(($#)) && printf -v args '\t%s' "$@" && record+=$args
printf '%s\n' "$record" >>"$SIM_DIR/events.tsv"

has() {
  local want=$1 a
  shift
  for a in "$@"; do [[ "$a" == "$want" ]] && return 0; done
  return 1
}

case "$name" in
  sleep) exec /bin/sleep 0.05 ;;
  apt-get)
    if has install "$@"; then printf '%s\n' "$@" >>"$state/apt-installed"; fi
    exit 0
    ;;
  dpkg)
    if has --print-architecture "$@"; then echo amd64; fi
    exit 0
    ;;
  systemctl)
    if has is-active "$@"; then exit 3; fi
    if has amazon-ssm-agent "$@" && { has start "$@" || has --now "$@"; }; then
      touch "$state/ssm-agent-started"
      # SSM Run Command from CD: it arrives as soon as the agent is online.
      if [[ -n "${SIM_EARLY_VERSION:-}" ]]; then
        (
          /opt/chat/deploy.sh "$SIM_EARLY_VERSION" >"$SIM_DIR/early-deploy.log" 2>&1
          echo $? >"$SIM_DIR/early-deploy.rc"
        ) </dev/null &
        disown
      fi
    fi
    exit 0
    ;;
  curl)
    out=""
    for ((i = 1; i <= $#; i++)); do
      if [[ "${!i}" == -o ]]; then
        j=$((i + 1))
        out="${!j}"
      fi
    done
    [[ -n "$out" ]] && : >"$out"
    case "$*" in
      *latest/api/token*) echo sim-imds-token ;;
      *public-ipv4*) echo 203.0.113.10 ;;
    esac
    exit 0
    ;;
  gpg)
    echo "fpr:::::::::9DC858229FC7DD38854AE2D88D81803C0EBFCD88:"
    exit 0
    ;;
  getent)
    echo "203.0.113.10    STREAM chat.example.com"
    exit 0
    ;;
  mountpoint) [[ -e "$state/mounted" ]] && exit 0 || exit 1 ;;
  mount)
    touch "$state/mounted"
    exit 0
    ;;
  blkid)
    if has UUID "$@"; then echo 0f0e0d0c-1111-2222-3333-444455556666; fi
    exit 0
    ;;
  fallocate)
    : >"${*: -1}"
    exit 0
    ;;
  wipefs | mkfs.ext4 | mkswap | swapon | sysctl | udevadm) exit 0 ;;
  docker)
    case "${1:-}" in
      --version) echo "Docker version 29.0.0, build sim" && exit 0 ;;
      login) cat >/dev/null && exit 0 ;;
      image | inspect)
        if [[ "$1" == inspect ]]; then echo "gateway-1 running 0 healthy unless-stopped"; fi
        exit 0
        ;;
      info) echo "overlay2" && exit 0 ;;
      compose) shift ;;
      *) exit 0 ;;
    esac
    if [[ "${1:-}" == version ]]; then
      grep -qx docker-compose-plugin "$state/apt-installed" 2>/dev/null || exit 1
      echo "Docker Compose version v2.40.0"
      exit 0
    fi
    # What compose would find, from this directory with these arguments.
    paths="$("$SIM_PYTHON" "$SIM_HOME/compose_paths.py" "$PWD" "$@" | tr '\n' ';')"
    printf -v record 'compose-paths\t%s\t-\t%s' "$PWD" "$paths"
    printf '%s\n' "$record" >>"$SIM_DIR/events.tsv"
    while (($#)); do
      case "$1" in
        -f | --file | --project-directory | -p | --project-name | --env-file | --profile) shift 2 ;;
        -*) shift ;;
        *) break ;;
      esac
    done
    case "${1:-}" in
      config) has --images "$@" && echo "ghcr.io/example-org/chat/gateway:sim" ;;
      pull)
        if [[ "${SIM_SCENARIO:-}" == private-images ]]; then
          echo "Error response from daemon: Head \"https://ghcr.io/v2/example-org/chat/gateway/manifests/sim\": unauthorized" >&2
          exit 1
        fi
        ;;
      ps) echo sim-container-1 ;;
    esac
    exit 0
    ;;
  aws)
    if [[ "${1:-} ${2:-}" == "s3 cp" ]]; then
      src="" dest=""
      for a in "${@:3}"; do
        [[ "$a" == --* ]] && continue
        if [[ -z "$src" ]]; then src=$a; else dest=$a; fi
      done
      key="${src#s3://*/}"
      [[ -f "$SIM_DIR/s3/$key" ]] || {
        echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key \"$key\" does not exist" >&2
        exit 1
      }
      if [[ "$dest" == - ]]; then cat "$SIM_DIR/s3/$key"; else cp "$SIM_DIR/s3/$key" "$dest"; fi
      exit 0
    fi
    if [[ "${1:-} ${2:-}" == "ssm get-parameters-by-path" ]]; then
      echo '[{"n":"/chat/production/JWT_SECRET","v":"sim-jwt"},{"n":"/chat/production/POSTGRES_PASSWORD","v":"sim-pg"},{"n":"/chat/production/REDIS_PASSWORD","v":"sim-redis"},{"n":"/chat/production/GRAFANA_ADMIN_PASSWORD","v":"sim-grafana"}]'
      exit 0
    fi
    if [[ "${1:-} ${2:-}" == "ssm get-parameter" ]]; then
      echo "An error occurred (ParameterNotFound) when calling the GetParameter operation" >&2
      exit 254
    fi
    exit 0
    ;;
esac
exit 0
