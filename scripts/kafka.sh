#!/usr/bin/env bash
# Runs the official Apache Kafka broker, assembled from Maven Central
# (scripts/kafka/pom.xml), as one KRaft node (broker + controller) on loopback.
#
#   scripts/kafka.sh up          classpath, format storage once, start, wait, create topics
#   scripts/kafka.sh down        stop the broker (SIGTERM, then SIGKILL after a deadline)
#   scripts/kafka.sh status      "up"/"down"; exit 0 when up, 3 when down
#   scripts/kafka.sh classpath   resolve (download) the jars and print the classpath file
#   scripts/kafka.sh topics ARGS run TopicCommand against the broker, e.g. `topics --list`
#
# Environment (scripts/stack.sh sets these per profile):
#   KAFKA_DIR               data dir: config, log.dirs, pid, logs  ($STACK_DIR/dev/kafka)
#   KAFKA_PORT              PLAINTEXT listener on 127.0.0.1        (19092)
#   KAFKA_CONTROLLER_PORT   CONTROLLER listener                    (KAFKA_PORT + 1)
#   KAFKA_VERSION           org.apache.kafka:kafka_2.13 version    (4.3.1)
#   KAFKA_TOPIC             main topic, 8 partitions               (chat.messages)
#   KAFKA_DLQ_TOPIC         dead-letter topic, 1 partition         (chat.messages.dlq)
#   KAFKA_TOPIC_CONFIG      config both topics get, created now or before   (empty:
#                           the broker's defaults; stack.sh sets flush.messages=1 for
#                           dev, fsync before the ack, as docker/kafka/create-topics.sh
#                           does in production)
#   KAFKA_READY_TIMEOUT     seconds to wait for the broker         (90)
#   KAFKA_HEAP_OPTS         the broker JVM's heap                  (-Xms256m -Xmx512m)
set -euo pipefail

LOG_NAME="${LOG_NAME:-kafka}"
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# 4.4.0 is the newest kafka_2.13 on Maven Central, but its kafka-tools-api and
# kafka-tools 4.4.0 (which kafka_2.13 4.4.0 itself depends on) are not
# published there, so it cannot be assembled; 4.3.1 is the newest complete one.
KAFKA_VERSION="${KAFKA_VERSION:-4.3.1}"
KAFKA_DIR="${KAFKA_DIR:-$STACK_DIR/dev/kafka}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_TOPIC="${KAFKA_TOPIC:-chat.messages}"
KAFKA_TOPIC_PARTITIONS=8
KAFKA_DLQ_TOPIC="${KAFKA_DLQ_TOPIC:-chat.messages.dlq}"
KAFKA_DLQ_PARTITIONS=1
KAFKA_TOPIC_CONFIG="${KAFKA_TOPIC_CONFIG:-}"
KAFKA_READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"

POM="$ROOT/scripts/kafka/pom.xml"
LOG4J2_CONFIG="$ROOT/scripts/kafka/log4j2.xml"
CP_FILE="$STACK_DIR/kafka-classpath-$KAFKA_VERSION.txt"
CONFIG="$KAFKA_DIR/server.properties"
DATA="$KAFKA_DIR/data"
PIDFILE="$KAFKA_DIR/kafka.pid"
LOGFILE="$KAFKA_DIR/kafka.log"
TOOLS_LOG="$KAFKA_DIR/tools.log"
TOPICS_SEEN="$KAFKA_DIR/topics.txt"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"

# shellcheck disable=SC2206 # KAFKA_HEAP_OPTS is a list of JVM flags
BROKER_JAVA_OPTS=(
  $KAFKA_HEAP_OPTS
  -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent
  -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$LOG4J2_CONFIG"
  "-Dchat.kafka.log.file=$LOGFILE"
)
# Short-lived command-line tools: small heap, quick start, logs to tools.log.
TOOL_JAVA_OPTS=(
  -Xms32m -Xmx256m
  -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto
  -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$LOG4J2_CONFIG"
  "-Dchat.kafka.log.file=$TOOLS_LOG"
)

CP=""

ensure_java_and_maven() {
  if ! command -v java >/dev/null; then
    ensure_apt openjdk-17-jre-headless
  fi
  local v major
  v="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  major="${v%%.*}"
  [[ "$major" =~ ^[0-9]+$ ]] || die "cannot read the Java version from 'java -version' (got '$v')"
  ((major >= 17)) || die "Kafka $KAFKA_VERSION needs Java 17+, 'java' is $v (apt-get install openjdk-17-jre-headless)"
  if ! command -v mvn >/dev/null; then
    ensure_apt maven
  fi
}

# classpath_complete FILE: every entry of the cached classpath still exists
# (~/.m2 may have been cleaned since).
classpath_complete() {
  local f=$1 entry
  local -a entries
  [[ -s "$f" ]] || return 1
  IFS=: read -r -a entries <"$f"
  ((${#entries[@]} > 10)) || return 1
  for entry in "${entries[@]}"; do
    [[ -f "$entry" ]] || return 1
  done
}

resolve_classpath() {
  ensure_java_and_maven
  mkdir -p "$STACK_DIR"
  if [[ "$POM" -nt "$CP_FILE" ]] || ! classpath_complete "$CP_FILE"; then
    log "resolving the Kafka $KAFKA_VERSION classpath with Maven (the first run downloads ~100 MB into ~/.m2)"
    local tmp mvnlog
    tmp="$CP_FILE.tmp.$$"
    mvnlog="$STACK_DIR/kafka-classpath-$KAFKA_VERSION.mvn.log"
    if ! mvn -q -B -f "$POM" "-Dkafka.version=$KAFKA_VERSION" \
      dependency:build-classpath "-Dmdep.outputFile=$tmp" >"$mvnlog" 2>&1; then
      rm -f "$tmp"
      die_with_log "$mvnlog" "Maven could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION (see $mvnlog)"
    fi
    mv -f "$tmp" "$CP_FILE"
    rm -f "$mvnlog"
    log "classpath cached in $CP_FILE"
  else
    log "using cached classpath $CP_FILE"
  fi
  CP="$(<"$CP_FILE")"
}

# run_tool MAIN_CLASS ARGS...: a Kafka command-line tool on the broker's classpath.
run_tool() {
  java "${TOOL_JAVA_OPTS[@]}" -cp "$CP" "$@"
}

# topic_command ARGS...: TopicCommand, killed after TOPIC_TIMEOUT seconds (60).
topic_command() {
  timeout "${TOPIC_TIMEOUT:-60}" java "${TOOL_JAVA_OPTS[@]}" -cp "$CP" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$BOOTSTRAP" "$@"
}

# config_command ARGS...: ConfigCommand, killed after TOPIC_TIMEOUT seconds (60).
config_command() {
  timeout "${TOPIC_TIMEOUT:-60}" java "${TOOL_JAVA_OPTS[@]}" -cp "$CP" kafka.admin.ConfigCommand \
    --bootstrap-server "$BOOTSTRAP" "$@"
}

# broker_pid: the pid of *our* broker (pidfile, alive, and its command line
# names our server.properties), or nothing.
broker_pid() {
  local pid
  pid="$(read_pidfile "$PIDFILE")"
  [[ -n "$pid" ]] || return 0
  pid_alive "$pid" || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F -- "kafka.Kafka $CONFIG" >/dev/null; then
    printf '%s' "$pid"
  fi
}

write_config() {
  mkdir -p "$KAFKA_DIR" "$DATA"
  cat >"$CONFIG.tmp" <<EOF
# Written by scripts/kafka.sh on every start; edits are lost.
# One KRaft node that is both broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT

log.dirs=$DATA
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false

offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

# sized for a machine of two cores: every request goes from a network thread
# to an I/O thread and back, and fewer threads hand off less (at 200 chat
# messages/s: the broker's CPU -13 %, the chat's p99 -17 %; BENCHMARKS.md)
num.network.threads=1
num.io.threads=2
log.retention.hours=168
EOF
  mv -f "$CONFIG.tmp" "$CONFIG"
}

format_storage_once() {
  if [[ -f "$DATA/meta.properties" ]]; then
    log "storage already formatted ($DATA)"
    return 0
  fi
  local cluster_id out
  cluster_id="$(run_tool kafka.tools.StorageTool random-uuid 2>>"$TOOLS_LOG" | tail -n 1)"
  [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die_with_log "$TOOLS_LOG" "StorageTool random-uuid printed '$cluster_id', not a cluster id"
  log "formatting storage in $DATA (cluster id $cluster_id)"
  if ! out="$(run_tool kafka.tools.StorageTool format --config "$CONFIG" \
    --cluster-id "$cluster_id" --ignore-formatted 2>&1)"; then
    printf '%s\n' "$out" >>"$TOOLS_LOG"
    die_with_log "$TOOLS_LOG" "kafka-storage format failed"
  fi
  printf '%s\n' "$out" >>"$TOOLS_LOG"
  log "$(printf '%s\n' "$out" | tail -n 1)"
}

start_broker() {
  : >>"$LOGFILE"
  printf '\n===== %s starting Kafka %s on %s =====\n' "$(date -Is)" "$KAFKA_VERSION" "$BOOTSTRAP" >>"$LOGFILE"
  # setsid: its own session, so it outlives this script and a Ctrl-C here.
  # The child writes its own pid before exec'ing java, so the pidfile is exact.
  # shellcheck disable=SC2016 # $$, $1 and $@ are for the inner bash
  setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' kafka-launch "$PIDFILE" \
    java "${BROKER_JAVA_OPTS[@]}" -cp "$CP" kafka.Kafka "$CONFIG" \
    </dev/null >>"$LOGFILE" 2>&1 &
  wait_until "broker pidfile" 10 test -s "$PIDFILE" ||
    die_with_log "$LOGFILE" "the Kafka JVM did not start"
}

# broker_ready: listening, and TopicCommand --list answers (the topic list
# is kept in $TOPICS_SEEN). Exits $WAIT_ABORT when the JVM is gone.
broker_ready() {
  [[ -n "$(broker_pid)" ]] || return "$WAIT_ABORT"
  port_open "$KAFKA_PORT" || return 1
  TOPIC_TIMEOUT=20 topic_command --list >"$TOPICS_SEEN.tmp" 2>>"$TOOLS_LOG" || return 1
  mv -f "$TOPICS_SEEN.tmp" "$TOPICS_SEEN"
}

# ensure_topics NAME:PARTITIONS...: creates the topics that $TOPICS_SEEN does
# not list. Each TopicCommand is a JVM start (~2 s), so they run side by side.
ensure_topics() {
  local spec topic partitions i failed="" item
  local -a names=() pids=() config_args=() items=()
  if [[ -n "$KAFKA_TOPIC_CONFIG" ]]; then
    IFS=, read -r -a items <<<"$KAFKA_TOPIC_CONFIG"
    for item in "${items[@]}"; do
      config_args+=(--config "$item")
    done
  fi
  for spec in "$@"; do
    topic="${spec%:*}"
    partitions="${spec##*:}"
    if grep -qxF -- "$topic" "$TOPICS_SEEN"; then
      log "topic $topic exists"
      continue
    fi
    topic_command --create --if-not-exists --topic "$topic" \
      --partitions "$partitions" --replication-factor 1 "${config_args[@]}" \
      >"$KAFKA_DIR/create-$topic.out" 2>&1 &
    names+=("$topic ($partitions partitions)")
    pids+=("$!")
  done
  for i in "${!pids[@]}"; do
    topic="${names[$i]%% *}"
    if wait "${pids[$i]}"; then
      log "created topic ${names[$i]}"
    else
      log "ERROR: creating topic ${names[$i]} failed:"
      cat "$KAFKA_DIR/create-$topic.out" >&2
      failed=1
    fi
    cat "$KAFKA_DIR/create-$topic.out" >>"$TOOLS_LOG"
    rm -f "$KAFKA_DIR/create-$topic.out"
  done
  [[ -z "$failed" ]] || die_with_log "$LOGFILE" "could not create the topics"
}

# topic_has_config DESCRIBED TOPIC KEY=VALUE: ConfigCommand's description
# DESCRIBED lists KEY=VALUE among TOPIC's dynamic configs.
topic_has_config() {
  awk -v topic="$2" -v item="$3" '
    /^Dynamic configs for topic / { current = $5; next }
    current == topic && $1 == item { found = 1 }
    END { exit !found }' <<<"$1"
}

# ensure_topic_config TOPIC...: every TOPIC has each item of
# $KAFKA_TOPIC_CONFIG, whether created now or before it was set (one
# describe; an alter, checked, where an item is missing). An alter of a
# topic's config needs no restart and moves no data.
ensure_topic_config() {
  local topic item described missing
  local -a items
  if [[ -z "$KAFKA_TOPIC_CONFIG" ]]; then
    log "topics keep the broker's defaults (KAFKA_TOPIC_CONFIG is empty)"
    return 0
  fi
  IFS=, read -r -a items <<<"$KAFKA_TOPIC_CONFIG"
  described="$(config_command --describe --entity-type topics 2>>"$TOOLS_LOG")" ||
    die_with_log "$TOOLS_LOG" "cannot describe the topics' configs"
  for topic in "$@"; do
    missing=""
    for item in "${items[@]}"; do
      topic_has_config "$described" "$topic" "$item" || missing=1
    done
    if [[ -z "$missing" ]]; then
      log "topic $topic has $KAFKA_TOPIC_CONFIG"
      continue
    fi
    config_command --alter --entity-type topics --entity-name "$topic" \
      --add-config "$KAFKA_TOPIC_CONFIG" >>"$TOOLS_LOG" 2>&1 ||
      die_with_log "$TOOLS_LOG" "cannot set $KAFKA_TOPIC_CONFIG on topic $topic"
    described="$(config_command --describe --entity-type topics --entity-name "$topic" 2>>"$TOOLS_LOG")" ||
      die_with_log "$TOOLS_LOG" "cannot describe topic $topic's config"
    for item in "${items[@]}"; do
      topic_has_config "$described" "$topic" "$item" ||
        die_with_log "$TOOLS_LOG" "topic $topic does not have $item after the alter"
    done
    log "topic $topic: set $KAFKA_TOPIC_CONFIG"
  done
}

cmd_up() {
  phase 1 4 "Kafka $KAFKA_VERSION classpath"
  resolve_classpath
  phase_done "classpath ready"

  phase 2 4 "storage in $KAFKA_DIR"
  write_config
  format_storage_once
  phase_done "storage ready"

  local pid
  pid="$(broker_pid)"
  if [[ -n "$pid" ]]; then
    phase 3 4 "broker already running (pid $pid), checking it answers on $BOOTSTRAP"
  else
    if port_open "$KAFKA_PORT" || port_open "$KAFKA_CONTROLLER_PORT"; then
      die "port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT on 127.0.0.1 is taken by another process (set KAFKA_PORT, or stop it)"
    fi
    phase 3 4 "starting broker on $BOOTSTRAP (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT), log $LOGFILE"
    start_broker
  fi
  if ! wait_until "Kafka answers on $BOOTSTRAP" "$KAFKA_READY_TIMEOUT" broker_ready; then
    if [[ -z "$(broker_pid)" ]]; then
      die_with_log "$LOGFILE" "the Kafka broker exited during startup"
    fi
    die_with_log "$LOGFILE" "Kafka did not become ready on $BOOTSTRAP within ${KAFKA_READY_TIMEOUT}s (still running as pid $(broker_pid); scripts/kafka.sh down stops it)"
  fi
  phase_done "broker up (pid $(broker_pid))"

  phase 4 4 "topics $KAFKA_TOPIC ($KAFKA_TOPIC_PARTITIONS partitions), $KAFKA_DLQ_TOPIC ($KAFKA_DLQ_PARTITIONS)"
  ensure_topics "$KAFKA_TOPIC:$KAFKA_TOPIC_PARTITIONS" "$KAFKA_DLQ_TOPIC:$KAFKA_DLQ_PARTITIONS"
  ensure_topic_config "$KAFKA_TOPIC" "$KAFKA_DLQ_TOPIC"
  phase_done "topics ready${KAFKA_TOPIC_CONFIG:+ ($KAFKA_TOPIC_CONFIG)}"
}

broker_gone() {
  [[ -z "$(broker_pid)" ]]
}

cmd_down() {
  local pid
  pid="$(broker_pid)"
  if [[ -z "$pid" ]]; then
    log "broker not running ($KAFKA_DIR)"
    rm -f "$PIDFILE"
    return 0
  fi
  log "stopping broker pid $pid (SIGTERM, up to ${KAFKA_STOP_TIMEOUT}s)"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until "broker pid $pid exits" "$KAFKA_STOP_TIMEOUT" broker_gone; then
    log "broker pid $pid still running: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_until "broker pid $pid exits after SIGKILL" 10 broker_gone ||
      die "broker pid $pid survived SIGKILL"
  fi
  rm -f "$PIDFILE"
  log "broker stopped"
}

cmd_status() {
  local pid
  pid="$(broker_pid)"
  if [[ -n "$pid" ]] && port_open "$KAFKA_PORT"; then
    printf 'kafka     up    pid %-7s %s  (Kafka %s, data %s)\n' "$pid" "$BOOTSTRAP" "$KAFKA_VERSION" "$KAFKA_DIR"
    return 0
  elif [[ -n "$pid" ]]; then
    printf 'kafka     starting pid %-7s %s not listening yet\n' "$pid" "$BOOTSTRAP"
    return 3
  fi
  printf 'kafka     down  %s\n' "$BOOTSTRAP"
  return 3
}

usage() {
  # The comment block at the top of this file.
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    classpath)
      resolve_classpath
      printf '%s\n' "$CP_FILE"
      ;;
    topics)
      resolve_classpath
      topic_command "$@"
      ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
