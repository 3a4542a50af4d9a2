#!/bin/bash
# The one-shot `kafka-init` service of docker-compose.yml (apache/kafka image,
# mounted read-only at /opt/chat/create-topics.sh): creates the chat's topics
# when they do not exist and checks the partition counts of those that do.
# Same topics as scripts/kafka.sh creates for the local stack.
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
# The broker's heap settings are not for a command-line tool.
export KAFKA_HEAP_OPTS="-Xmx128m"

kafka_topics() {
  "$kafka_home/bin/kafka-topics.sh" --bootstrap-server "$bootstrap" "$@"
}

for spec in "${topics[@]}"; do
  topic="${spec%:*}"
  want="${spec##*:}"
  kafka_topics --create --if-not-exists --topic "$topic" \
    --partitions "$want" --replication-factor 1 >/dev/null
  have="$(kafka_topics --describe --topic "$topic" | grep -c 'Partition: ' || true)"
  if ((have != want)); then
    # More partitions would move rooms to other partitions (key = room id):
    # never changed here.
    echo "topic $topic has $have partitions, expected $want: left as it is" >&2
  fi
  echo "topic $topic ready ($have partitions)"
done
