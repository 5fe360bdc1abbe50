#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft) broker on 127.0.0.1 for local development and tests.
#
#   bash scripts/kafka-local.sh start  [--port P] [--secured]
#                                                   fetch jars if needed, format a fresh data dir,
#                                                   start, wait for a real metadata round trip
#   bash scripts/kafka-local.sh stop   [--port P]   SIGTERM (SIGKILL after 20 s), remove the data dir
#   bash scripts/kafka-local.sh status [--port P]   exit 0 when running and answering, 1 otherwise
#   bash scripts/kafka-local.sh fetch               only download the broker jars into the cache
#
# --secured adds authenticated and encrypted listeners next to PLAINTEXT on P (controller P+1):
# SASL_PLAINTEXT on P+2 (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, one user each), SSL on P+3 (client
# certificate requested) and SSL on P+4 (client certificate required). A throwaway CA, broker and
# client certificates are made with openssl in the state folder. start prints the addresses, SASL
# credentials and PEM file paths as KEY=value lines after KAFKA_BROKERS=.
#
# With KAFKA_LOCAL_KEEP_DATA=1, stop keeps the data dir and start reuses an existing one (same
# cluster id, topics, committed offsets) instead of formatting a new one: a broker restart.
#
# Needs OpenJDK 17+, Node with the repository's npm dependencies installed, and Maven
# (Maven only while the jar cache is empty); --secured also needs openssl. See docs/kafka-local.md.
set -euo pipefail

KAFKA_VERSION=4.1.1 # keep in step with scripts/kafka-local/pom.xml

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KL_DIR="$HERE/kafka-local"
POM="$KL_DIR/pom.xml"

CACHE_ROOT="${KAFKA_LOCAL_CACHE:-$HOME/.cache/rig-kafka-local}"
case "$CACHE_ROOT" in /*) ;; *) CACHE_ROOT="$PWD/$CACHE_ROOT" ;; esac
CACHE="$CACHE_ROOT/$KAFKA_VERSION"
LIBS="$CACHE/libs"
M2_REPO="${KAFKA_LOCAL_M2_REPO:-$CACHE_ROOT/m2}"
READY_TIMEOUT="${KAFKA_LOCAL_READY_TIMEOUT:-60}"
KEEP_DATA="${KAFKA_LOCAL_KEEP_DATA:-0}"
STOP_TIMEOUT=20

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

say() { echo "kafka-local: $*" >&2; }
die() {
  echo "kafka-local: error: $*" >&2
  exit 1
}

usage() {
  cat >&2 <<EOF
usage: bash scripts/kafka-local.sh <command> [--port P] [--secured]

commands:
  start [--port P] [--secured]
                     start a fresh single-node broker on 127.0.0.1:P (default 19092; controller P+1)
                     --secured: also SASL_PLAINTEXT on P+2 (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512),
                     SSL on P+3 (client certificate optional) and SSL on P+4 (client certificate
                     required), with a throwaway CA and certificates made by openssl; prints the
                     addresses, credentials and PEM files as KEY=value lines
  stop [--port P]    stop it and delete its data
  status [--port P]  exit 0 when the broker is running and answers metadata requests
  fetch              download the broker jars from Maven Central into the cache only

environment:
  KAFKA_LOCAL_PORT           default port when --port is not given (19092)
  KAFKA_LOCAL_CACHE          jar cache root (default \$HOME/.cache/rig-kafka-local)
  KAFKA_LOCAL_M2_REPO        Maven local repository used by fetch (default <cache root>/m2)
  KAFKA_LOCAL_DIR            runtime state folder (default /tmp/rig-kafka-local-<port>)
  KAFKA_LOCAL_READY_TIMEOUT  seconds to wait for readiness on start (default 60)
  KAFKA_LOCAL_KEEP_DATA      1: stop keeps the data, start reuses it (a restart of the same cluster)
  JAVA_HOME                  JDK to use (default: java on PATH)
EOF
}

# ---------------------------------------------------------------- arguments
CMD="${1:-}"
[ $# -gt 0 ] && shift
PORT="${KAFKA_LOCAL_PORT:-19092}"
SECURED=0
while [ $# -gt 0 ]; do
  case "$1" in
    --secured)
      [ "$CMD" = start ] || die "--secured only applies to start"
      SECURED=1
      shift
      ;;
    --port)
      [ $# -ge 2 ] || die "--port needs a value"
      PORT="$2"
      shift 2
      ;;
    --port=*)
      PORT="${1#--port=}"
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage
      die "unknown argument: $1"
      ;;
  esac
done
case "$PORT" in
  '' | *[!0-9]*) die "port must be a number, got '$PORT'" ;;
esac
PORT=$((10#$PORT))
if [ "$PORT" -lt 1024 ] || [ "$PORT" -gt 65534 ]; then die "port must be between 1024 and 65534, got $PORT"; fi
if [ "$SECURED" = 1 ] && [ "$PORT" -gt 65531 ]; then die "with --secured the port must be at most 65531 (it uses P to P+4), got $PORT"; fi
CPORT=$((PORT + 1))
SASL_PORT=$((PORT + 2))
SSL_PORT=$((PORT + 3))
MTLS_PORT=$((PORT + 4))
BROKERS="127.0.0.1:$PORT"

STATE="${KAFKA_LOCAL_DIR:-/tmp/rig-kafka-local-$PORT}"
case "$STATE" in /*) ;; *) STATE="$PWD/$STATE" ;; esac
STATE="${STATE%/}"
DATA="$STATE/data"
LOGS="$STATE/logs"
PIDFILE="$STATE/kafka.pid"
MARKER="$STATE/.rig-kafka-local"
TLS="$STATE/tls"
SECURED_ENV="$STATE/secured.env" # the KEY=value lines of a --secured broker; present only for one
SCRAM_MARKER="$STATE/.scram-users" # the data was formatted with --secured: it holds the SCRAM users

# ---------------------------------------------------------------- prerequisites
# Each check prints what is missing and returns 1; preflight reports every problem at once.
check_java() {
  if ! command -v "$JAVA" >/dev/null 2>&1; then
    say "missing: java. Install OpenJDK 17 or newer (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME."
    return 1
  fi
  local v
  v="$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java\.specification\.version/ {print $2; exit}' | tr -d '[:space:]')"
  case "$v" in 1.*) v="${v#1.}" ;; esac
  v="${v%%.*}"
  case "$v" in
    '' | *[!0-9]*)
      say "could not read the Java version from '$JAVA'; Kafka $KAFKA_VERSION needs Java 17 or newer"
      return 1
      ;;
  esac
  if [ "$v" -lt 17 ]; then
    say "Java $v found at $(command -v "$JAVA"); Kafka $KAFKA_VERSION needs Java 17 or newer (install OpenJDK 17+ or set JAVA_HOME to one)"
    return 1
  fi
}

check_node() {
  if ! command -v node >/dev/null 2>&1; then
    say "missing: node. Install Node.js 20 or newer; it runs the readiness check."
    return 1
  fi
  if ! (cd "$KL_DIR" && node -e "require.resolve('kafkajs')" >/dev/null 2>&1); then
    say "missing: the kafkajs package. Run 'npm install' (or 'npm ci') in the repository first."
    return 1
  fi
}

check_mvn() { # only needed while the jar cache is empty
  cache_ok && return 0
  if ! command -v mvn >/dev/null 2>&1; then
    say "missing: mvn, needed once because the jar cache $LIBS is empty. Install Apache Maven 3.8+ (Debian/Ubuntu: apt-get install maven)."
    return 1
  fi
}

check_openssl() { # only for --secured
  if ! command -v openssl >/dev/null 2>&1; then
    say "missing: openssl, needed by --secured to make the throwaway CA and certificates. Install OpenSSL 1.1.1 or newer (Debian/Ubuntu: apt-get install openssl)."
    return 1
  fi
}

preflight() { # preflight java node mvn [openssl]
  local bad=0 c
  for c in "$@"; do
    "check_$c" || bad=1
  done
  [ "$bad" -eq 0 ] || die "prerequisites missing (see above)"
}

cache_key() { cksum <"$POM" | awk '{print $1 "-" $2}'; }

cache_ok() {
  [ -f "$CACHE/.complete" ] && [ "$(cat "$CACHE/.complete")" = "$(cache_key)" ] &&
    [ -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]
}

fetch() {
  if cache_ok; then
    say "broker jars already cached in $LIBS"
    return 0
  fi
  preflight java mvn
  say "downloading Apache Kafka $KAFKA_VERSION broker jars from Maven Central into $LIBS (once) ..."
  mkdir -p "$CACHE"
  local partial="$CACHE/libs.partial" mvnlog="$CACHE/fetch.log" t0=$SECONDS
  rm -rf "$partial"
  # -f with an absolute pom path: nothing is written into the repository.
  if ! mvn -B -q -Dstyle.color=never -f "$POM" -Dmaven.repo.local="$M2_REPO" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$partial" >"$mvnlog" 2>&1; then
    tail -n 30 "$mvnlog" >&2 || true
    die "Maven could not fetch the broker jars (full output: $mvnlog). Is Maven Central reachable from this machine?"
  fi
  [ -f "$partial/kafka_2.13-$KAFKA_VERSION.jar" ] || die "Maven finished but $partial has no kafka_2.13-$KAFKA_VERSION.jar"
  rm -rf "$LIBS"
  mv "$partial" "$LIBS"
  cache_key >"$CACHE/.complete"
  say "fetched $(find "$LIBS" -name '*.jar' | wc -l | tr -d ' ') jars ($(du -sh "$LIBS" | cut -f1)) in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------- process helpers
read_pid() {
  [ -f "$PIDFILE" ] || return 1
  local p
  p="$(cat "$PIDFILE" 2>/dev/null || true)"
  case "$p" in '' | *[!0-9]*) return 1 ;; esac
  echo "$p"
}

# True when the pid file names a live broker JVM that was started for this state folder.
broker_pid() {
  local p args
  p="$(read_pid)" || return 1
  kill -0 "$p" 2>/dev/null || return 1
  args="$(ps -p "$p" -o args= 2>/dev/null || true)"
  case "$args" in
    *kafka.Kafka*"$STATE/server.properties"*) echo "$p" ;;
    *) return 1 ;;
  esac
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_ready() { # extra arguments go to wait-ready.mjs
  (cd "$KL_DIR" && node ./wait-ready.mjs --brokers "$BROKERS" "$@")
}

# Deletes the state folder, but only one this script created (or an empty one).
wipe_state() {
  [ -e "$STATE" ] || return 0
  if [ -f "$MARKER" ] || [ -z "$(ls -A "$STATE" 2>/dev/null)" ]; then
    rm -rf "$STATE"
  else
    die "refusing to delete $STATE: it exists and was not created by this script (set KAFKA_LOCAL_DIR to another folder)"
  fi
}

show_log_tail() {
  local f
  for f in "$LOGS/server.log" "$LOGS/stdout.log"; do
    if [ -s "$f" ]; then
      echo "----- last lines of $f -----" >&2
      tail -n 40 "$f" >&2 || true
    fi
  done
}

# ---------------------------------------------------------------- configuration
# --secured: one user per SASL mechanism, and the passphrases of the generated keys. Throwaway
# values for a broker that listens on 127.0.0.1 only; start prints them.
PLAIN_USER=rig-plain
PLAIN_PASS='plain:secret' # with a ':' on purpose: KAFKA_SASL's password is everything after the second ':'
SCRAM256_USER=rig-scram256
SCRAM256_PASS=scram256-secret
SCRAM512_USER=rig-scram512
SCRAM512_PASS=scram512-secret
BROKER_KEY_PASS=broker-key-secret
CLIENT_KEY_PASS=client-key-secret

write_config() {
  mkdir -p "$DATA" "$LOGS"
  : >"$MARKER"
  local listeners="PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT"
  local advertised="PLAINTEXT://127.0.0.1:$PORT"
  local protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [ "$SECURED" = 1 ]; then
    listeners="$listeners,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT,SSL://127.0.0.1:$SSL_PORT,MTLS://127.0.0.1:$MTLS_PORT"
    advertised="$advertised,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT,SSL://127.0.0.1:$SSL_PORT,MTLS://127.0.0.1:$MTLS_PORT"
    protocols="$protocols,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,MTLS:SSL"
  fi
  cat >"$STATE/server.properties" <<EOF
# Generated by scripts/kafka-local.sh; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
controller.listener.names=CONTROLLER
listeners=$listeners
advertised.listeners=$advertised
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
log.dirs=$DATA
auto.create.topics.enable=true
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
EOF
  if [ "$SECURED" = 1 ]; then
    cat >>"$STATE/server.properties" <<EOF
# --secured. SASL_PLAINTEXT: PLAIN users are listed here, SCRAM users were stored in the metadata
# log by the storage format step (--add-scram).
listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$PLAIN_USER="$PLAIN_PASS";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# SSL and MTLS: PEM files made by openssl in $TLS. broker.pem holds the encrypted key, the broker
# certificate and the CA; client certificates are checked against ca.pem. SSL asks for a client
# certificate but accepts a client without one; MTLS refuses a client without one.
ssl.keystore.type=PEM
ssl.keystore.location=$TLS/broker.pem
ssl.key.password=$BROKER_KEY_PASS
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.pem
listener.name.ssl.ssl.client.auth=requested
listener.name.mtls.ssl.client.auth=required
EOF
  fi
  cat >"$STATE/log4j2.properties" <<'EOF'
# Generated by scripts/kafka-local.sh: warnings and errors to one file, plus the start-up line.
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
EOF
}

# A throwaway CA, a broker certificate for 127.0.0.1/localhost and a client certificate (EC P-256,
# valid 30 days), as PEM files in $TLS. Keys are PKCS#8; the broker's and one copy of the
# client's are encrypted.
make_tls() {
  local log="$LOGS/openssl.log" rc=0
  rm -rf "$TLS"
  mkdir -p "$TLS"
  (
    cd "$TLS" || exit 1
    umask 077
    run() { "$@" || { echo "failed: $*"; exit 1; }; }
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    run openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 30 -subj '/CN=rig kafka-local throwaway CA' \
      -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'
    printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth' 'subjectAltName=IP:127.0.0.1,DNS:localhost' >broker.ext
    printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=clientAuth' >client.ext
    run openssl req -new "${ec[@]}" -keyout broker.tmp -out broker.csr -subj '/CN=localhost'
    run openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -set_serial 1 -days 30 -extfile broker.ext -out broker.crt
    # Kafka reads a PEM key store only with an encrypted key (ssl.key.password), and Java 17 cannot
    # decrypt PBES2 (AES) PKCS#8 keys: the broker key uses PBES1 with SHA-1 and 3DES.
    run openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES -passout "pass:$BROKER_KEY_PASS" -in broker.tmp -out broker.key
    cat broker.key broker.crt ca.pem >broker.pem
    run openssl req -new "${ec[@]}" -keyout client.tmp -out client.csr -subj '/CN=rig-gateway'
    run openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 30 -extfile client.ext -out client.pem
    run openssl pkcs8 -topk8 -nocrypt -in client.tmp -out client.key
    run openssl pkcs8 -topk8 -v2 aes-256-cbc -passout "pass:$CLIENT_KEY_PASS" -in client.tmp -out client-encrypted.key
    rm -f ./*.tmp ./*.csr ./*.ext broker.key broker.crt
  ) >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    cat "$log" >&2
    die "openssl could not make the TLS files in $TLS (output above and in $log)"
  fi
}

# The KEY=value lines start prints for a --secured broker (after KAFKA_BROKERS=); status repeats them.
write_secured_env() {
  cat >"$SECURED_ENV" <<EOF
KAFKA_SASL_BROKERS=127.0.0.1:$SASL_PORT
KAFKA_SSL_BROKERS=127.0.0.1:$SSL_PORT
KAFKA_MTLS_BROKERS=127.0.0.1:$MTLS_PORT
KAFKA_SASL_PLAIN=plain:$PLAIN_USER:$PLAIN_PASS
KAFKA_SASL_SCRAM_SHA_256=scram-sha-256:$SCRAM256_USER:$SCRAM256_PASS
KAFKA_SASL_SCRAM_SHA_512=scram-sha-512:$SCRAM512_USER:$SCRAM512_PASS
KAFKA_SSL_CA_CERTFILE=$TLS/ca.pem
KAFKA_SSL_CERTFILE=$TLS/client.pem
KAFKA_SSL_KEYFILE=$TLS/client.key
KAFKA_SSL_KEYFILE_ENCRYPTED=$TLS/client-encrypted.key
KAFKA_SSL_KEYFILE_ENCRYPTED_PASS=$CLIENT_KEY_PASS
EOF
}

print_addresses() {
  echo "KAFKA_BROKERS=$BROKERS"
  if [ -f "$SECURED_ENV" ]; then cat "$SECURED_ENV"; fi
}

random_cluster_id() { # base64url of 16 random bytes, 22 characters, never starting with '-'
  local id
  while :; do
    id="$(node -e "process.stdout.write(require('crypto').randomBytes(16).toString('base64url'))")"
    case "$id" in -*) ;; *)
      echo "$id"
      return
      ;;
    esac
  done
}

jvm_flags() {
  JVM=("$JAVA" -Xms256m -Xmx512m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    "-Dkafka.logs.dir=$LOGS" "-Dlog4j2.configurationFile=$STATE/log4j2.properties" -cp "$LIBS/*")
}

# ---------------------------------------------------------------- commands
cmd_start() {
  local pid
  if pid="$(broker_pid)"; then
    if [ "$SECURED" = 1 ] && [ ! -f "$SECURED_ENV" ]; then
      die "a broker without --secured is already running on $BROKERS (pid $pid); run 'bash scripts/kafka-local.sh stop --port $PORT' first"
    fi
    if wait_ready --timeout "$READY_TIMEOUT" --pid "$pid" --quiet; then
      say "a broker is already running on $BROKERS (pid $pid, state $STATE)"
      print_addresses
      return 0
    fi
    die "a broker process (pid $pid) exists for $STATE but does not answer; run 'bash scripts/kafka-local.sh stop --port $PORT' first"
  fi
  if [ "$SECURED" = 1 ]; then preflight java node mvn openssl; else preflight java node mvn; fi
  if port_in_use "$PORT"; then die "port $PORT on 127.0.0.1 is already in use by another program; choose another with --port"; fi
  if port_in_use "$CPORT"; then die "controller port $CPORT (port + 1) on 127.0.0.1 is already in use; choose another --port"; fi
  if [ "$SECURED" = 1 ]; then
    local p
    for p in "$SASL_PORT" "$SSL_PORT" "$MTLS_PORT"; do
      if port_in_use "$p"; then die "port $p (needed by --secured, which uses port + 2 to port + 4) on 127.0.0.1 is already in use; choose another --port"; fi
    done
  fi
  fetch

  local t0=$SECONDS cluster_id
  local -a scram=()
  if [ "$KEEP_DATA" = 1 ] && [ -f "$MARKER" ] && [ -f "$DATA/meta.properties" ]; then
    # A restart: same cluster, same topics and offsets. Only the generated files are rewritten.
    if [ "$SECURED" = 1 ] && [ ! -f "$SCRAM_MARKER" ]; then
      die "the data in $DATA was formatted without --secured, so it has no SCRAM users; start without KAFKA_LOCAL_KEEP_DATA=1 for a fresh secured broker"
    fi
    write_config
    if [ "$SECURED" = 1 ]; then
      if [ ! -f "$TLS/broker.pem" ]; then make_tls; fi
      write_secured_env
    else
      rm -f "$SECURED_ENV"
    fi
    jvm_flags
    say "reusing the data in $DATA (KAFKA_LOCAL_KEEP_DATA=1)"
  else
    wipe_state
    write_config
    if [ "$SECURED" = 1 ]; then
      make_tls
      write_secured_env
      scram=(--add-scram "SCRAM-SHA-256=[name=$SCRAM256_USER,password=$SCRAM256_PASS]"
        --add-scram "SCRAM-SHA-512=[name=$SCRAM512_USER,password=$SCRAM512_PASS]")
    fi
    jvm_flags
    cluster_id="$(random_cluster_id)"
    if ! "${JVM[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$STATE/server.properties" ${scram[@]+"${scram[@]}"} >"$LOGS/format.log" 2>&1; then
      cat "$LOGS/format.log" >&2
      die "formatting the data folder $DATA failed"
    fi
    if [ "$SECURED" = 1 ]; then : >"$SCRAM_MARKER"; fi
  fi

  if [ "$SECURED" = 1 ]; then
    say "starting Kafka $KAFKA_VERSION on $BROKERS (controller 127.0.0.1:$CPORT, SASL_PLAINTEXT 127.0.0.1:$SASL_PORT, SSL 127.0.0.1:$SSL_PORT, SSL with client certificate 127.0.0.1:$MTLS_PORT, state $STATE) ..."
  else
    say "starting Kafka $KAFKA_VERSION on $BROKERS (controller 127.0.0.1:$CPORT, state $STATE) ..."
  fi
  nohup "${JVM[@]}" kafka.Kafka "$STATE/server.properties" >"$LOGS/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PIDFILE"
  trap 'kill -TERM "$pid" 2>/dev/null || true; exit 130' INT TERM

  local rc=0
  wait_ready --timeout "$READY_TIMEOUT" --pid "$pid" --groups || rc=$?
  trap - INT TERM
  if [ "$rc" -ne 0 ]; then
    show_log_tail
    if kill -0 "$pid" 2>/dev/null; then
      stop_pid "$pid" || true
      die "the broker did not become ready within ${READY_TIMEOUT}s and was stopped; logs are in $LOGS"
    fi
    die "the broker exited during start-up; logs are in $LOGS"
  fi
  say "ready in $((SECONDS - t0))s (pid $pid, data $DATA, logs $LOGS)"
  print_addresses
}

# SIGTERM, wait up to STOP_TIMEOUT seconds, then SIGKILL.
stop_pid() {
  local p="$1" i
  kill -TERM "$p" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 4; i++)); do
    kill -0 "$p" 2>/dev/null || return 0
    sleep 0.25
  done
  say "pid $p still running after ${STOP_TIMEOUT}s; sending SIGKILL"
  kill -KILL "$p" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do
    kill -0 "$p" 2>/dev/null || return 0
    sleep 0.25
  done
  return 1
}

cmd_stop() {
  local pid t0=$SECONDS
  if pid="$(broker_pid)"; then
    say "stopping the broker on $BROKERS (pid $pid) ..."
    stop_pid "$pid" || die "pid $pid did not exit even after SIGKILL"
    say "stopped in $((SECONDS - t0))s"
  else
    say "no broker running for $STATE"
  fi
  rm -f "$PIDFILE"
  if [ "$KEEP_DATA" = 1 ]; then
    if [ -d "$DATA" ]; then say "kept $DATA (KAFKA_LOCAL_KEEP_DATA=1)"; fi
  elif [ -d "$DATA" ]; then
    if [ -f "$MARKER" ]; then rm -rf "$DATA"; else die "refusing to delete $DATA: $STATE was not created by this script"; fi
    say "removed $DATA (logs kept in $LOGS until the next start)"
  fi
}

cmd_status() {
  local pid
  if ! pid="$(broker_pid)"; then
    say "not running (no broker process for $STATE)"
    exit 1
  fi
  preflight node
  if wait_ready --timeout 5 --pid "$pid" --quiet; then
    say "running and ready on $BROKERS (pid $pid, state $STATE)"
    print_addresses
    exit 0
  fi
  say "process $pid is running but $BROKERS does not answer metadata requests"
  exit 1
}

case "$CMD" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  fetch) fetch ;;
  -h | --help | help)
    usage
    exit 0
    ;;
  '')
    usage
    exit 2
    ;;
  *)
    usage
    echo "kafka-local: error: unknown command: $CMD" >&2
    exit 2
    ;;
esac
