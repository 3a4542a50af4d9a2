#!/bin/bash
# The one-shot `kafka-init` service of docker-compose.yml (apache/kafka image,
# mounted read-only at /opt/chat/create-topics.sh): creates the chat's topics
# when they do not exist, checks the partition counts of those that do, and
# gives every one of them the durability settings below, created now or
# before (an alter is idempotent). Same topics and settings as
# scripts/kafka.sh gives the local dev stack.
#
# Durability: one broker, replication factor 1, so acks=all means "in the
# broker's page cache", which a power loss empties. flush.messages=1 fsyncs
# the log before a produce is acknowledged: the gateway acks a message after
# its delivery report, so an acknowledged message is on disk. Also the
# dead-letter topic: the writer commits its offsets once a dead letter is
# acknowledged. Checked offline by docker/compose-check (topics.go).
#
# Environment: KAFKA_BOOTSTRAP (kafka:9092), KAFKA_TOPIC (chat.messages, 8
# partitions), KAFKA_DLQ_TOPIC (chat.messages.dlq, 1 partition),
# CHAT_KAFKA_HOME (/opt/kafka, the image's; docker/compose-check points it at
# stand-in tools).
set -euo pipefail

bootstrap="${KAFKA_BOOTSTRAP:-kafka:9092}"
kafka_home="${CHAT_KAFKA_HOME:-/opt/kafka}"
topics=(
  "${KAFKA_TOPIC:-chat.messages}:8"
  "${KAFKA_DLQ_TOPIC:-chat.messages.dlq}:1"
)
durability="flush.messages=1"
# The broker's heap settings are not for a command-line tool.
export KAFKA_HEAP_OPTS="-Xmx128m"

kafka_topics() {
  "$kafka_home/bin/kafka-topics.sh" --bootstrap-server "$bootstrap" "$@"
}

kafka_configs() {
  "$kafka_home/bin/kafka-configs.sh" --bootstrap-server "$bootstrap" "$@"
}

for spec in "${topics[@]}"; do
  topic="${spec%:*}"
  want="${spec##*:}"
  kafka_topics --create --if-not-exists --topic "$topic" \
    --partitions "$want" --replication-factor 1 --config "$durability" >/dev/null
  # A topic that existed keeps its old config through --create: set it.
  kafka_configs --alter --entity-type topics --entity-name "$topic" \
    --add-config "$durability" >/dev/null
  if ! kafka_configs --describe --entity-type topics --entity-name "$topic" | grep -qF " $durability "; then
    echo "topic $topic does not have $durability after the alter: refusing to start the chat on it" >&2
    exit 1
  fi
  have="$(kafka_topics --describe --topic "$topic" | grep -c 'Partition: ' || true)"
  if ((have != want)); then
    # More partitions would move rooms to other partitions (key = room id):
    # never changed here.
    echo "topic $topic has $have partitions, expected $want: left as it is" >&2
  fi
  echo "topic $topic ready ($have partitions, $durability)"
done
