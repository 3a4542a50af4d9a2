#!/bin/bash
# Stand-ins for Kafka's kafka-topics.sh and kafka-configs.sh (this one file
# under both names), for compose-check's run of the topic creator. A topic is
# a directory under $CHAT_KAFKA_STUB_STATE/topics holding its partition count
# and its config lines (key=value, the last one wins). Like Kafka, `--create
# --if-not-exists` leaves an existing topic and its config as they are. Only
# the forms the topic creator may use are understood: anything else fails.
set -euo pipefail

state="${CHAT_KAFKA_STUB_STATE:?CHAT_KAFKA_STUB_STATE is not set}"
tool="$(basename "$0")"
printf '%s %s\n' "$tool" "$*" >>"$state/calls.log"

fail() {
  echo "$tool (stand-in): $*" >&2
  exit 1
}

op="" topic="" partitions="" if_not_exists="" entity_type="" add_config=""
configs=()
while (($# > 0)); do
  case "$1" in
    --create | --describe | --alter) op="${1#--}" ;;
    --if-not-exists) if_not_exists=1 ;;
    --bootstrap-server | --replication-factor | --topic | --entity-name | --entity-type | --partitions | --config | --add-config)
      (($# >= 2)) || fail "$1 needs a value"
      case "$1" in
        --topic | --entity-name) topic="$2" ;;
        --entity-type) entity_type="$2" ;;
        --partitions) partitions="$2" ;;
        --config) configs+=("$2") ;;
        --add-config) add_config="$2" ;;
      esac
      shift
      ;;
    *) fail "unexpected argument '$1'" ;;
  esac
  shift
done
[[ -n "$topic" ]] || fail "no topic named"
dir="$state/topics/$topic"

# effective_config: the topic's config, one key=value per key (the last wins).
effective_config() {
  awk -F= '{ value[$1] = $0 } END { for (k in value) print value[k] }' "$dir/config" | sort
}

case "$tool:$op" in
  kafka-topics.sh:create)
    if [[ -d "$dir" ]]; then
      [[ -n "$if_not_exists" ]] || fail "topic '$topic' already exists"
      exit 0
    fi
    [[ "$partitions" =~ ^[0-9]+$ ]] || fail "--partitions missing"
    mkdir -p "$dir"
    printf '%s\n' "$partitions" >"$dir/partitions"
    : >"$dir/config"
    for c in ${configs[@]+"${configs[@]}"}; do
      printf '%s\n' "$c" >>"$dir/config"
    done
    echo "Created topic $topic."
    ;;
  kafka-topics.sh:describe)
    [[ -d "$dir" ]] || fail "topic '$topic' does not exist"
    n="$(<"$dir/partitions")"
    printf 'Topic: %s\tPartitionCount: %s\tReplicationFactor: 1\n' "$topic" "$n"
    for ((i = 0; i < n; i++)); do
      printf '\tTopic: %s\tPartition: %s\tLeader: 1\tReplicas: 1\tIsr: 1\n' "$topic" "$i"
    done
    ;;
  kafka-configs.sh:alter | kafka-configs.sh:describe)
    [[ "$entity_type" == topics ]] || fail "--entity-type topics expected"
    [[ -d "$dir" ]] || fail "topic '$topic' does not exist"
    if [[ "$op" == alter ]]; then
      [[ -n "$add_config" ]] || fail "--add-config missing"
      tr ',' '\n' <<<"$add_config" >>"$dir/config"
      echo "Completed updating config for topic $topic."
    else
      echo "Dynamic configs for topic $topic are:"
      effective_config | while IFS= read -r line; do
        printf '  %s sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:%s}\n' "$line" "$line"
      done
    fi
    ;;
  *) fail "'$op' is not understood here" ;;
esac
