#!/usr/bin/env bash
# The local stack of Sluice: Apache Kafka (KRaft, one node), ZooKeeper, Redis, an S3 server
# (Versity's S3 gateway) and a Schema Registry (Apicurio Registry, in memory, answering the
# Confluent-compatible API), all on 127.0.0.1, for development and the tests in test/.
#
#   deploy/local/stack.sh up                 install what is missing, start what is stopped, wait
#   deploy/local/stack.sh down [--purge]     stop everything; --purge also wipes the data
#   deploy/local/stack.sh reset              same as down --purge
#   deploy/local/stack.sh status             one line per service; exit 1 when any is down
#   deploy/local/stack.sh restart <service>  stop and start one of: kafka zookeeper redis s3 registry
#   deploy/local/stack.sh env                print the path of stack.env (written by up)
#
# Everything it installs goes into the git-ignored .cache/ folder of the repository; data,
# logs, pid files and generated configuration into .sluice/ ($SLUICE_STACK_DIR). Once up,
# `set -a; . .sluice/stack.env; set +a` gives the addresses and credentials of the services.
#
# Settings (environment variables, defaults in brackets):
#   SLUICE_STACK_DIR [<repo>/.sluice]         state folder; data in $SLUICE_STACK_DATA_DIR [$SLUICE_STACK_DIR/data]
#   SLUICE_STACK_CACHE_DIR [<repo>/.cache]    where Kafka, ZooKeeper and versitygw are installed
#   SLUICE_STACK_KAFKA_PORT [19092]  SLUICE_STACK_KAFKA_CONTROLLER_PORT [19093]
#   SLUICE_STACK_KAFKA_TLS_PORT [19094] (SSL)  SLUICE_STACK_KAFKA_SASL_PORT [19095] (SASL_SSL)
#   SLUICE_STACK_KAFKA_MTLS_PORT [19096] (SSL with client certificates required)
#   SLUICE_STACK_ZK_PORT [12181]  SLUICE_STACK_REDIS_PORT [16379]  SLUICE_STACK_REDIS_TLS_PORT [16380]
#   SLUICE_STACK_S3_PORT [19000]  SLUICE_STACK_REGISTRY_PORT [18081]
#   SLUICE_STACK_KAFKA_VERSION [4.4.0]  SLUICE_STACK_ZK_VERSION [3.9.5]  SLUICE_STACK_VERSITYGW_VERSION [v1.8.0]
#   SLUICE_STACK_REGISTRY_VERSION [3.0.9] (Apicurio Registry, from Maven Central)
#   SLUICE_STACK_KAFKA_HEAP [768m]  SLUICE_STACK_ZK_HEAP [256m]  SLUICE_STACK_REGISTRY_HEAP [256m]
#   SLUICE_STACK_S3_ACCESS_KEY / SLUICE_STACK_S3_SECRET_KEY   local-only credentials of the S3 server
#   SLUICE_STACK_KAFKA_SASL_USERNAME [sluice] / SLUICE_STACK_KAFKA_SASL_PASSWORD   local-only SASL user
#     (SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN on the SASL_SSL listener)
#   SLUICE_STACK_TIMEOUT_S [180]              how long `up` waits for each service to answer
#   SLUICE_STACK_REDIS_SERVER [redis-server on PATH]  SLUICE_STACK_VERSITYGW_BIN [built from source]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/deploy/local"
SERVICES=(zookeeper kafka redis s3 registry)

abs_path() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$ROOT/$1" ;; esac; }

HOST=127.0.0.1
STACK_DIR="$(abs_path "${SLUICE_STACK_DIR:-.sluice}")"
DATA_DIR="$(abs_path "${SLUICE_STACK_DATA_DIR:-$STACK_DIR/data}")"
LOG_DIR="$STACK_DIR/logs"
RUN_DIR="$STACK_DIR/run"
CONF_DIR="$STACK_DIR/conf"
ENV_FILE="$STACK_DIR/stack.env"
CACHE_DIR="$(abs_path "${SLUICE_STACK_CACHE_DIR:-.cache}")"
PYTHON_READERS="$CACHE_DIR/python-readers/bin/python"

KAFKA_PORT="${SLUICE_STACK_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${SLUICE_STACK_KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_TLS_PORT="${SLUICE_STACK_KAFKA_TLS_PORT:-19094}"
KAFKA_SASL_PORT="${SLUICE_STACK_KAFKA_SASL_PORT:-19095}"
KAFKA_MTLS_PORT="${SLUICE_STACK_KAFKA_MTLS_PORT:-19096}"
ZK_PORT="${SLUICE_STACK_ZK_PORT:-12181}"
REDIS_PORT="${SLUICE_STACK_REDIS_PORT:-16379}"
REDIS_TLS_PORT="${SLUICE_STACK_REDIS_TLS_PORT:-16380}"
S3_PORT="${SLUICE_STACK_S3_PORT:-19000}"
REGISTRY_PORT="${SLUICE_STACK_REGISTRY_PORT:-18081}"

KAFKA_VERSION="${SLUICE_STACK_KAFKA_VERSION:-4.4.0}"
ZK_VERSION="${SLUICE_STACK_ZK_VERSION:-3.9.5}"
VERSITYGW_VERSION="${SLUICE_STACK_VERSITYGW_VERSION:-v1.8.0}"
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
ZK_HOME="$CACHE_DIR/zookeeper-$ZK_VERSION"
VERSITYGW_HOME="$CACHE_DIR/versitygw-$VERSITYGW_VERSION"
REGISTRY_VERSION="${SLUICE_STACK_REGISTRY_VERSION:-3.0.9}"
REGISTRY_HOME="$CACHE_DIR/apicurio-registry-$REGISTRY_VERSION"
REGISTRY_JAR="$REGISTRY_HOME/apicurio-registry-app-$REGISTRY_VERSION-runner.jar"
# The root of its Confluent-compatible REST API: what SLUICE_SCHEMA_REGISTRY_URL names.
REGISTRY_CCOMPAT_PATH=/apis/ccompat/v7

KAFKA_HEAP="${SLUICE_STACK_KAFKA_HEAP:-768m}"
ZK_HEAP="${SLUICE_STACK_ZK_HEAP:-256m}"
REGISTRY_HEAP="${SLUICE_STACK_REGISTRY_HEAP:-256m}"
S3_REGION=us-east-1
# Local-only credentials: the S3 server listens on 127.0.0.1 and holds throwaway test data.
S3_ACCESS_KEY="${SLUICE_STACK_S3_ACCESS_KEY:-sluice-local}"
S3_SECRET_KEY="${SLUICE_STACK_S3_SECRET_KEY:-sluice-local-secret}"
# Local-only SASL user of the Kafka's SASL_SSL listener, same spirit as the S3 credentials.
KAFKA_SASL_USERNAME="${SLUICE_STACK_KAFKA_SASL_USERNAME:-sluice}"
KAFKA_SASL_PASSWORD="${SLUICE_STACK_KAFKA_SASL_PASSWORD:-sluice-local-kafka-secret}"
# The CA, the servers' certificate and a client certificate (for mutual TLS), made by
# make_tls_material; kept across `reset` (they hold no data) and remade when one is missing.
TLS_DIR="$STACK_DIR/tls"
TIMEOUT_S="${SLUICE_STACK_TIMEOUT_S:-180}"
STOP_TIMEOUT_S=30

say() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------------------ helpers

service_port() {
  case "$1" in
    kafka) echo "$KAFKA_PORT" ;; zookeeper) echo "$ZK_PORT" ;; redis) echo "$REDIS_PORT" ;; s3) echo "$S3_PORT" ;;
    registry) echo "$REGISTRY_PORT" ;;
    *) die "unknown service '$1' (one of: ${SERVICES[*]})" ;;
  esac
}
log_file() { echo "$LOG_DIR/$1.log"; }
pid_file() { echo "$RUN_DIR/$1.pid"; }

# The pid of a running service of this stack, or nothing. A recycled pid does not count:
# the process must carry our marker (-Dsluice.stack=... for the JVMs, the binary name otherwise).
service_pid() {
  local svc="$1" file pid marker
  file="$(pid_file "$svc")"
  [ -f "$file" ] || return 0
  pid="$(cat "$file" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  case "$svc" in
    kafka | zookeeper | registry) marker="sluice.stack=$svc" ;;
    redis) marker="redis-server" ;;
    s3) marker="versitygw" ;;
  esac
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$marker"; then echo "$pid"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

probe() {
  SLUICE_STACK_S3_ACCESS_KEY="$S3_ACCESS_KEY" SLUICE_STACK_S3_SECRET_KEY="$S3_SECRET_KEY" \
    SLUICE_STACK_S3_REGION="$S3_REGION" SLUICE_STACK_REGISTRY_PATH="$REGISTRY_CCOMPAT_PATH" node "$HERE/probe.ts" "$1" "$HOST" "$(service_port "$1")"
}

is_root() { [ "$(id -u)" = 0 ]; }

# Installs a Debian package when we may (root with apt-get), else explains how.
apt_install_or_explain() {
  local package="$1" why="$2"
  if is_root && command -v apt-get >/dev/null 2>&1; then
    local log="$LOG_DIR/apt-$package.log"
    say "installing $package with apt-get ($why)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >"$log" 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$log" 2>&1 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >>"$log" 2>&1 \
        || die "apt-get install $package failed; see $log"
    fi
  else
    die "$why: install it with 'sudo apt-get install $package' (Debian/Ubuntu) or your package manager"
  fi
}

need_java() {
  if ! command -v java >/dev/null 2>&1; then
    apt_install_or_explain openjdk-17-jre-headless "Java 17 or newer is needed to run Kafka and ZooKeeper"
  fi
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')"
  [ -n "$major" ] && [ "$major" -ge 17 ] \
    || die "Kafka 4 needs Java 17 or newer, 'java' is ${major:-unknown}: install openjdk-17-jre-headless (apt) or put a JDK 17+ first on PATH"
}

need_maven() {
  command -v mvn >/dev/null 2>&1 && return 0
  apt_install_or_explain maven "Maven is needed once to fetch Kafka, ZooKeeper and Apicurio Registry from Maven Central into .cache/"
}

need_go() {
  command -v go >/dev/null 2>&1 \
    || die "Go 1.25 or newer is needed once to build the S3 server (versitygw) into .cache/: install it from https://go.dev/dl/ (Debian's golang package is too old), or set SLUICE_STACK_VERSITYGW_BIN to a versitygw binary"
  local version
  version="$(go env GOVERSION 2>/dev/null | sed 's/^go//')"
  case "$version" in
    1.2[5-9]* | 1.[3-9][0-9]* | [2-9].*) ;;
    *) say "go is $version and versitygw $VERSITYGW_VERSION asks for Go 1.25+; Go will try to fetch a newer toolchain through the module proxy" ;;
  esac
}

# Runs `mvn dependency:copy-dependencies` on deploy/local/<name>/pom.xml into <dest>/libs.
maven_fetch() {
  local name="$1" dest="$2" version_property="$3" version="$4" tmp
  need_maven
  tmp="$dest.partial"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  say "fetching $name $version from Maven Central into ${dest#"$ROOT"/}"
  if ! mvn -q -B -f "$HERE/$name/pom.xml" "-D$version_property=$version" \
    dependency:copy-dependencies -DincludeScope=runtime "-DoutputDirectory=$tmp/libs" \
    >"$LOG_DIR/install-$name.log" 2>&1; then
    rm -rf "$tmp"
    die "could not fetch $name $version with Maven; see $LOG_DIR/install-$name.log"
  fi
  rm -rf "$dest"
  mv "$tmp" "$dest"
}

install_kafka() {
  [ -f "$KAFKA_HOME/libs/kafka_2.13-$KAFKA_VERSION.jar" ] && return 0
  maven_fetch kafka "$KAFKA_HOME" kafka.version "$KAFKA_VERSION"
}

install_zookeeper() {
  [ -f "$ZK_HOME/libs/zookeeper-$ZK_VERSION.jar" ] && return 0
  maven_fetch zookeeper "$ZK_HOME" zookeeper.version "$ZK_VERSION"
}

# Apicurio Registry ships as one zip on Maven Central (a Quarkus app: the runner jar and lib/):
# `mvn dependency:copy` fetches it (no pom needed), then it is unpacked into REGISTRY_HOME.
install_registry() {
  [ -f "$REGISTRY_JAR" ] && return 0
  local tmp="$REGISTRY_HOME.partial" artifact="io.apicurio:apicurio-registry-app:$REGISTRY_VERSION:zip:all"
  need_maven
  rm -rf "$tmp"
  mkdir -p "$tmp"
  say "fetching Apicurio Registry $REGISTRY_VERSION (about 110 MB) from Maven Central into ${REGISTRY_HOME#"$ROOT"/}"
  if ! mvn -q -B dependency:copy "-Dartifact=$artifact" "-DoutputDirectory=$tmp" >"$LOG_DIR/install-registry.log" 2>&1; then
    rm -rf "$tmp"
    die "could not fetch $artifact with Maven; see $LOG_DIR/install-registry.log"
  fi
  local zip="$tmp/apicurio-registry-app-$REGISTRY_VERSION-all.zip"
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$zip" -d "$tmp" >>"$LOG_DIR/install-registry.log" 2>&1
  else
    python3 -m zipfile -e "$zip" "$tmp" >>"$LOG_DIR/install-registry.log" 2>&1
  fi || {
    rm -rf "$tmp"
    die "could not unpack $zip (unzip or python3 is needed); see $LOG_DIR/install-registry.log"
  }
  rm -f "$zip"
  [ -f "$tmp/${REGISTRY_JAR##*/}" ] || { rm -rf "$tmp"; die "the Apicurio zip holds no ${REGISTRY_JAR##*/}"; }
  rm -rf "$REGISTRY_HOME"
  mv "$tmp" "$REGISTRY_HOME"
}

versitygw_bin() {
  if [ -n "${SLUICE_STACK_VERSITYGW_BIN:-}" ]; then echo "$SLUICE_STACK_VERSITYGW_BIN"; else echo "$VERSITYGW_HOME/bin/versitygw"; fi
}

install_s3() {
  local bin
  bin="$(versitygw_bin)"
  if [ -n "${SLUICE_STACK_VERSITYGW_BIN:-}" ]; then
    [ -x "$bin" ] || die "SLUICE_STACK_VERSITYGW_BIN=$bin is not an executable file"
    return 0
  fi
  [ -x "$bin" ] && return 0
  need_go
  say "building versitygw $VERSITYGW_VERSION with 'go install' into ${VERSITYGW_HOME#"$ROOT"/} (about a minute on 2 cores)"
  # The Go module and build caches stay where the user's Go keeps them, so they are shared
  # and survive a wipe of .cache/; only the binary lands here.
  if ! GOBIN="$VERSITYGW_HOME/bin.partial" GOFLAGS="${GOFLAGS:--buildvcs=false}" \
    go install -trimpath -ldflags "-s -w -X main.Version=$VERSITYGW_VERSION" \
    "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >"$LOG_DIR/install-s3.log" 2>&1; then
    rm -rf "$VERSITYGW_HOME/bin.partial"
    die "could not build versitygw $VERSITYGW_VERSION; see $LOG_DIR/install-s3.log"
  fi
  rm -rf "$VERSITYGW_HOME/bin"
  mv "$VERSITYGW_HOME/bin.partial" "$VERSITYGW_HOME/bin"
}

redis_bin() { echo "${SLUICE_STACK_REDIS_SERVER:-$(command -v redis-server || true)}"; }

install_redis() {
  if [ -z "$(redis_bin)" ]; then
    apt_install_or_explain redis-server "Redis 7 (the redis-server binary) is needed"
    # Debian's package may start a system-wide Redis on 6379; ours uses its own port and config.
  fi
  [ -x "$(redis_bin)" ] || die "redis-server not found at $(redis_bin)"
}

# Moves the previous run's log aside so the log of a failed start shows only that start.
fresh_log() {
  local file
  file="$(log_file "$1")"
  [ -f "$file" ] && mv -f "$file" "$file.1"
  : >"$file"
}

# Starts "$@" in its own session (so a Ctrl-C or a killed process group of the caller does
# not take the service down), stdout and stderr to the service's log, and records its pid.
# The lock descriptor 9 is closed in the child, else the service would hold the lock.
spawn() {
  local svc="$1"
  shift
  fresh_log "$svc"
  setsid nohup "$@" >>"$(log_file "$svc")" 2>&1 </dev/null 9>&- &
  echo "$!" >"$(pid_file "$svc")"
}

# ------------------------------------------------------------------------------ TLS material

need_openssl() {
  command -v openssl >/dev/null 2>&1 && return 0
  apt_install_or_explain openssl "openssl is needed to make the stack's TLS certificates"
}

# Signs a certificate for <name> (CN <cn>) with the stack's CA; <usage> is serverAuth or clientAuth.
sign_cert() {
  local dir="$1" name="$2" cn="$3" usage="$4" ext
  ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$usage"
  # The servers answer on $HOST; a client checks that name against the certificate.
  [ "$usage" = serverAuth ] && ext="$ext
subjectAltName=IP:$HOST,DNS:localhost"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$cn" \
    && openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAserial "$dir/ca.srl" \
      -CAcreateserial -days 3650 -sha256 -extfile <(printf '%s\n' "$ext") -out "$dir/$name.crt" \
    && rm -f "$dir/$name.csr"
}

# A CA of this stack, a certificate for the servers (Kafka's SSL, SASL_SSL and MTLS listeners,
# Redis's TLS port) and one for a client (the MTLS listener asks for it), all PEM with
# unencrypted PKCS#8 keys; Kafka reads its key and chain from one PEM file (ssl.keystore.type=PEM).
# Made once with openssl, no download; remade whole when a file is missing.
make_tls_material() {
  local d="$TLS_DIR" f complete=1
  for f in ca.crt server.crt server.key server-keystore.pem client.crt client.key; do
    [ -f "$d/$f" ] || complete=0
  done
  [ "$complete" = 1 ] && return 0
  need_openssl
  rm -rf "$d.partial"
  mkdir -p "$d.partial"
  if ! (
    umask 077
    cd "$d.partial"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -sha256 \
      -subj "/CN=Sluice local stack CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" \
      && sign_cert . server "$HOST" serverAuth \
      && sign_cert . client sluice-client clientAuth \
      && cat server.key server.crt >server-keystore.pem
  ) >"$LOG_DIR/tls-material.log" 2>&1; then
    rm -rf "$d.partial"
    die "making the stack's TLS certificates with openssl failed; see $LOG_DIR/tls-material.log"
  fi
  rm -rf "$d"
  mv "$d.partial" "$d"
  say "made a CA and certificates for the TLS listeners in $d"
}

# ------------------------------------------------------------------------------ services

write_kafka_config() {
  cat >"$CONF_DIR/kafka.properties" <<EOF
# Generated by deploy/local/stack.sh; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT
# PLAINTEXT is what the programs' settings in stack.env use; SSL (TLS), SASL_SSL (SCRAM or
# PLAIN over TLS) and MTLS (TLS with a client certificate required) are for the security tests.
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT,SSL://$HOST:$KAFKA_TLS_PORT,SASL_SSL://$HOST:$KAFKA_SASL_PORT,MTLS://$HOST:$KAFKA_MTLS_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT,SSL://$HOST:$KAFKA_TLS_PORT,SASL_SSL://$HOST:$KAFKA_SASL_PORT,MTLS://$HOST:$KAFKA_MTLS_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,MTLS:SSL
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/server-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.crt
ssl.client.auth=none
listener.name.mtls.ssl.client.auth=required
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN,OAUTHBEARER
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USERNAME="$KAFKA_SASL_PASSWORD";
# OAUTHBEARER with Kafka's unsecured-token validator (tokens signed with alg "none"): for
# testing a client's token handling only, never a production setting.
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
log.dirs=$DATA_DIR/kafka
num.network.threads=3
num.io.threads=4
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
# One node: internal topics with replication factor 1, few partitions so they are made fast.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fast tests: no wait for more members, quick retention and compaction passes (topics set
# their own segment.ms and retention).
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=5000
log.cleaner.backoff.ms=1000
log.cleaner.enable=true
EOF
}

# Storage formatted before the SASL listener existed has no SCRAM users: add_scram_users adds
# them once the broker answers; this marker says they are there.
scram_marker() { echo "$DATA_DIR/kafka/.sluice-scram-$KAFKA_SASL_USERNAME"; }
scram_users_made() { : >"$(scram_marker)"; }

add_scram_users() {
  [ -f "$(scram_marker)" ] && return 0
  local mechanism
  # One mechanism per call: Kafka refuses two changes of one user's credentials in a request.
  for mechanism in SCRAM-SHA-512 SCRAM-SHA-256; do
    if ! java -Xmx128m -cp "$KAFKA_HOME/libs/*" -Dlog4j2.configurationFile="$HERE/kafka/log4j2.xml" \
      org.apache.kafka.tools.ConfigCommand --bootstrap-server "$HOST:$KAFKA_PORT" --alter --entity-type users \
      --entity-name "$KAFKA_SASL_USERNAME" --add-config "$mechanism=[password=$KAFKA_SASL_PASSWORD]" \
      >"$LOG_DIR/kafka-scram.log" 2>&1; then
      say "adding the $mechanism user $KAFKA_SASL_USERNAME to Kafka failed; see $LOG_DIR/kafka-scram.log"
      return 1
    fi
  done
  scram_users_made
}

start_kafka() {
  install_kafka
  need_java
  make_tls_material
  write_kafka_config
  mkdir -p "$DATA_DIR/kafka"
  if [ ! -f "$DATA_DIR/kafka/meta.properties" ]; then
    # Kafka 4 (KRaft only) needs formatted storage: a cluster id and, with --standalone,
    # this node as the single voter of a dynamic controller quorum.
    local cluster_id
    # A Kafka Uuid: 16 random bytes in URL-safe base64 without padding; like Kafka's own
    # generator, avoid a leading '-', which the command line would read as an option.
    cluster_id=-
    while [ "${cluster_id#-}" != "$cluster_id" ]; do
      cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    done
    if ! java -Xmx256m -cp "$KAFKA_HOME/libs/*" -Dlog4j2.configurationFile="$HERE/kafka/log4j2.xml" \
      kafka.tools.StorageTool format --standalone --cluster-id "$cluster_id" --config "$CONF_DIR/kafka.properties" \
      --add-scram "SCRAM-SHA-512=[name=$KAFKA_SASL_USERNAME,password=$KAFKA_SASL_PASSWORD]" \
      --add-scram "SCRAM-SHA-256=[name=$KAFKA_SASL_USERNAME,password=$KAFKA_SASL_PASSWORD]" \
      >"$LOG_DIR/kafka-format.log" 2>&1; then
      die "formatting Kafka storage in $DATA_DIR/kafka failed; see $LOG_DIR/kafka-format.log"
    fi
    scram_users_made
  fi
  spawn kafka java "-Xms256m" "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true -Dsluice.stack=kafka \
    -Dlog4j2.configurationFile="$HERE/kafka/log4j2.xml" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$CONF_DIR/kafka.properties"
}

start_zookeeper() {
  install_zookeeper
  need_java
  mkdir -p "$DATA_DIR/zookeeper"
  cat >"$CONF_DIR/zookeeper.cfg" <<EOF
# Generated by deploy/local/stack.sh; edit the script, not this file.
# A short tick so tests can use session timeouts of 1 to 4 s.
tickTime=500
minSessionTimeout=1000
maxSessionTimeout=60000
dataDir=$DATA_DIR/zookeeper
clientPort=$ZK_PORT
clientPortAddress=$HOST
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
EOF
  spawn zookeeper java "-Xmx$ZK_HEAP" -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dsluice.stack=zookeeper -Dlogback.configurationFile="$HERE/zookeeper/logback.xml" \
    -Dzookeeper.admin.enableServer=false -cp "$ZK_HOME/libs/*" \
    org.apache.zookeeper.server.ZooKeeperServerMain "$CONF_DIR/zookeeper.cfg"
}

start_redis() {
  install_redis
  make_tls_material
  mkdir -p "$DATA_DIR/redis"
  cat >"$CONF_DIR/redis.conf" <<EOF
# Generated by deploy/local/stack.sh; edit the script, not this file.
bind $HOST
port $REDIS_PORT
protected-mode yes
daemonize no
dir $DATA_DIR/redis
appendonly yes
appendfsync everysec
save ""
maxmemory-policy noeviction
loglevel notice
logfile ""
# rediss:// for the TLS test; clients need no certificate of their own.
tls-port $REDIS_TLS_PORT
tls-cert-file $TLS_DIR/server.crt
tls-key-file $TLS_DIR/server.key
tls-ca-cert-file $TLS_DIR/ca.crt
tls-auth-clients no
EOF
  spawn redis "$(redis_bin)" "$CONF_DIR/redis.conf"
}

start_s3() {
  install_s3
  mkdir -p "$DATA_DIR/s3"
  # posix backend: buckets are folders of $DATA_DIR/s3, object metadata lives in xattrs.
  spawn s3 env ROOT_ACCESS_KEY_ID="$S3_ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
    "$(versitygw_bin)" --port "$HOST:$S3_PORT" --region "$S3_REGION" --keep-alive --quiet \
    posix "$DATA_DIR/s3"
}

start_registry() {
  install_registry
  need_java
  # Quarkus settings: its HTTP port on loopback only, no management port (it would take 9000),
  # the default in-memory H2 storage (schemas last as long as the process: fine for tests).
  spawn registry java "-Xmx$REGISTRY_HEAP" -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dsluice.stack=registry "-Dquarkus.http.host=$HOST" "-Dquarkus.http.port=$REGISTRY_PORT" \
    -Dquarkus.management.enabled=false -Dquarkus.log.console.json=false \
    -jar "$REGISTRY_JAR"
}

# Waits until the service answers its probe; fails fast when its process exits.
wait_ready() {
  local svc="$1" deadline pid last=""
  deadline=$((SECONDS + TIMEOUT_S))
  while :; do
    if last="$(probe "$svc" 2>&1)"; then
      say "$svc is up on $HOST:$(service_port "$svc") ($last)"
      if [ "$svc" = kafka ]; then add_scram_users || return 1; fi
      return 0
    fi
    pid="$(service_pid "$svc")"
    if [ -z "$pid" ]; then
      say "$svc exited while starting; last lines of its log $(log_file "$svc"):"
      tail -n 25 "$(log_file "$svc")" | sed 's/^/    /' >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "$svc did not answer on $HOST:$(service_port "$svc") within ${TIMEOUT_S}s (${last##*: }); see its log $(log_file "$svc")"
      return 1
    fi
    sleep 0.5
  done
}

stop_service() {
  local svc="$1" pid waited=0
  pid="$(service_pid "$svc")"
  if [ -z "$pid" ]; then
    rm -f "$(pid_file "$svc")"
    return 0
  fi
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt $((STOP_TIMEOUT_S * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$svc (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT_S}s; sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$(pid_file "$svc")"
  say "$svc stopped"
}

# Fails when a stopped service's port is taken by something else (checked for all services
# before any is started, so a clash leaves nothing half-started).
check_ports_free() {
  local svc port extra
  for svc in "$@"; do
    port="$(service_port "$svc")"
    if port_in_use "$port"; then
      die "port $HOST:$port for $svc is taken by another process; stop it or choose another port with SLUICE_STACK_$(port_var "$svc")"
    fi
    for extra in $(extra_ports "$svc"); do
      if port_in_use "${extra#*=}"; then
        die "port $HOST:${extra#*=} for $svc is taken by another process; stop it or choose another port with SLUICE_STACK_${extra%=*}"
      fi
    done
  done
}

# Makes sure the tools that installing and running a service need are there (installing
# Debian packages when root), before anything is started: a missing tool leaves nothing
# half-started.
preflight() {
  case "$1" in
    kafka)
      need_java
      [ -f "$KAFKA_HOME/libs/kafka_2.13-$KAFKA_VERSION.jar" ] || need_maven
      ;;
    zookeeper)
      need_java
      [ -f "$ZK_HOME/libs/zookeeper-$ZK_VERSION.jar" ] || need_maven
      ;;
    redis) install_redis ;;
    s3) [ -n "${SLUICE_STACK_VERSITYGW_BIN:-}" ] || [ -x "$(versitygw_bin)" ] || need_go ;;
    registry)
      need_java
      [ -f "$REGISTRY_JAR" ] || need_maven
      ;;
  esac
}

# Starts one service unless it is already running.
start_service() {
  local svc="$1"
  if [ -n "$(service_pid "$svc")" ]; then return 0; fi
  check_ports_free "$svc"
  "start_$svc"
}

# The ports of a service besides its main one, as <name of its SLUICE_STACK_ setting>=<port>.
extra_ports() {
  case "$1" in
    kafka) echo "KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT KAFKA_TLS_PORT=$KAFKA_TLS_PORT KAFKA_SASL_PORT=$KAFKA_SASL_PORT KAFKA_MTLS_PORT=$KAFKA_MTLS_PORT" ;;
    redis) echo "REDIS_TLS_PORT=$REDIS_TLS_PORT" ;;
  esac
}

port_var() {
  case "$1" in kafka) echo KAFKA_PORT ;; zookeeper) echo ZK_PORT ;; redis) echo REDIS_PORT ;; s3) echo S3_PORT ;; registry) echo REGISTRY_PORT ;; esac
}

# Single-quotes a value for the env file when it holds anything a shell would interpret.
env_value() {
  case "$1" in
    *[!A-Za-z0-9_./:@%+,=-]*) printf "'%s'" "${1//\'/\'\\\'\'}" ;;
    *) printf '%s' "$1" ;;
  esac
}

# The secured listeners, for the security tests, when the running Kafka has them (a Kafka
# started by an older stack.sh has not until `stack.sh restart kafka`). The programs' settings
# above keep describing the PLAINTEXT listener.
kafka_security_env() {
  grep -q "^listeners=.*SASL_SSL://" "$CONF_DIR/kafka.properties" 2>/dev/null || return 0
  echo "# Kafka's secured listeners (SSL, SASL_SSL, and SSL with client certificates required)."
  echo "SLUICE_STACK_KAFKA_TLS_BROKERS=$HOST:$KAFKA_TLS_PORT"
  echo "SLUICE_STACK_KAFKA_SASL_BROKERS=$HOST:$KAFKA_SASL_PORT"
  echo "SLUICE_STACK_KAFKA_MTLS_BROKERS=$HOST:$KAFKA_MTLS_PORT"
  echo "SLUICE_STACK_KAFKA_SASL_MECHANISMS=scram-sha-512,scram-sha-256,plain,oauthbearer"
  echo "SLUICE_STACK_KAFKA_SASL_USERNAME=$(env_value "$KAFKA_SASL_USERNAME")"
  echo "SLUICE_STACK_KAFKA_SASL_PASSWORD=$(env_value "$KAFKA_SASL_PASSWORD")"
  echo "SLUICE_STACK_KAFKA_CA_FILE=$(env_value "$TLS_DIR/ca.crt")"
  echo "SLUICE_STACK_KAFKA_CLIENT_CERT_FILE=$(env_value "$TLS_DIR/client.crt")"
  echo "SLUICE_STACK_KAFKA_CLIENT_KEY_FILE=$(env_value "$TLS_DIR/client.key")"
}

# Redis's TLS port, when the running Redis has one (as for Kafka above).
redis_tls_env() {
  grep -q "^tls-port " "$CONF_DIR/redis.conf" 2>/dev/null || return 0
  echo "SLUICE_STACK_REDIS_TLS_URL=rediss://$HOST:$REDIS_TLS_PORT"
  echo "SLUICE_STACK_REDIS_TLS_CA_FILE=$(env_value "$TLS_DIR/ca.crt")"
}

write_env_file() {
  local tmp="$ENV_FILE.tmp"
  {
    echo "# Written by deploy/local/stack.sh up; load with: set -a; . $(env_value "$ENV_FILE"); set +a"
    echo "# Local development only: the credentials below guard throwaway data on 127.0.0.1."
    echo "SLUICE_KAFKA_BROKERS=$HOST:$KAFKA_PORT"
    echo "SLUICE_ZOOKEEPER=$HOST:$ZK_PORT"
    echo "SLUICE_REDIS_URL=redis://$HOST:$REDIS_PORT"
    echo "SLUICE_S3_ENDPOINT=http://$HOST:$S3_PORT"
    echo "SLUICE_S3_REGION=$S3_REGION"
    echo "SLUICE_S3_FORCE_PATH_STYLE=true"
    echo "# versitygw refuses PutObject and CompleteMultipartUpload with If-None-Match: * on an existing key (412)."
    echo "SLUICE_S3_CONDITIONAL_WRITES=true"
    echo "AWS_ACCESS_KEY_ID=$(env_value "$S3_ACCESS_KEY")"
    echo "AWS_SECRET_ACCESS_KEY=$(env_value "$S3_SECRET_KEY")"
    echo "AWS_REGION=$S3_REGION"
    echo "SLUICE_STACK_DIR=$(env_value "$STACK_DIR")"
    echo "SLUICE_STACK_LOG_DIR=$(env_value "$LOG_DIR")"
    echo "# Kafka's Java tools: java -cp \"\$SLUICE_STACK_KAFKA_HOME/libs/*\" org.apache.kafka.tools.ConsumerPerformance ..."
    echo "SLUICE_STACK_KAFKA_HOME=$(env_value "$KAFKA_HOME")"
    echo "SLUICE_STACK_KAFKA_VERSION=$KAFKA_VERSION"
    echo "SLUICE_STACK_KAFKA_CONTROLLER=$HOST:$KAFKA_CONTROLLER_PORT"
    kafka_security_env
    echo "SLUICE_STACK_ZK_HOME=$(env_value "$ZK_HOME")"
    echo "SLUICE_STACK_ZK_VERSION=$ZK_VERSION"
    echo "SLUICE_STACK_S3_SERVER=versitygw"
    echo "SLUICE_STACK_S3_DATA_DIR=$(env_value "$DATA_DIR/s3")"
    echo "# Apicurio Registry's Confluent-compatible API (in memory: its schemas go when it stops)."
    echo "SLUICE_SCHEMA_REGISTRY_URL=http://$HOST:$REGISTRY_PORT$REGISTRY_CCOMPAT_PATH"
    redis_tls_env
    echo "# pyarrow, DuckDB and fastavro (test/readers/requirements.txt), for reading Parquet and Avro output."
    echo "SLUICE_STACK_PYTHON=$(env_value "$PYTHON_READERS")"
  } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

# ------------------------------------------------------------------------------ commands

prepare() {
  mkdir -p "$LOG_DIR" "$RUN_DIR" "$CONF_DIR" "$DATA_DIR" "$CACHE_DIR"
  # shellcheck source=../../scripts/ensure-node.sh
  . "$ROOT/scripts/ensure-node.sh" || die "Node.js 22.22+ is needed for the readiness probes"
}

# One `up`, `down` or `restart` at a time per state folder.
take_lock() {
  exec 9>"$RUN_DIR/lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 600 9 || die "another stack.sh holds $RUN_DIR/lock"
  fi
}

cmd_up() {
  local stopped=() svc failed=0 t0=$SECONDS
  for svc in "${SERVICES[@]}"; do
    [ -n "$(service_pid "$svc")" ] || stopped+=("$svc")
  done
  check_ports_free "${stopped[@]}"
  for svc in "${stopped[@]}"; do preflight "$svc"; done
  for svc in "${stopped[@]}"; do start_service "$svc"; done
  for svc in "${SERVICES[@]}"; do
    wait_ready "$svc" || failed=1
  done
  [ "$failed" = 0 ] || die "the stack is not fully up (services still running were left running; 'npm run stack:down' stops them)"
  # The readers tests check Parquet and Avro output with (pyarrow, DuckDB, fastavro), from PyPI.
  PYTHON_READERS="$(SLUICE_STACK_CACHE_DIR="$CACHE_DIR" bash "$ROOT/scripts/python-readers.sh")" ||
    die "could not install the Python readers (scripts/python-readers.sh); see the lines above"
  write_env_file
  if [ "${#stopped[@]}" -gt 0 ]; then
    say "up in $((SECONDS - t0))s (started: ${stopped[*]}); env in $ENV_FILE"
  else
    say "already up; env in $ENV_FILE"
  fi
}

cmd_down() {
  local purge=0 svc pids=()
  [ "${1:-}" = --purge ] && purge=1
  rm -f "$ENV_FILE"
  for svc in "${SERVICES[@]}"; do
    stop_service "$svc" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  if [ "$purge" = 1 ]; then
    rm -rf "$DATA_DIR"
    say "data wiped ($DATA_DIR)"
  fi
}

cmd_status() {
  local svc pid port answer down=0
  for svc in "${SERVICES[@]}"; do
    pid="$(service_pid "$svc")"
    port="$(service_port "$svc")"
    if [ -z "$pid" ]; then
      printf '%-10s down      %s:%-6s log %s\n' "$svc" "$HOST" "$port" "$(log_file "$svc")"
      down=1
    elif answer="$(probe "$svc" 2>&1)"; then
      printf '%-10s up        %s:%-6s pid %-8s %s\n' "$svc" "$HOST" "$port" "$pid" "$answer"
    else
      printf '%-10s starting  %s:%-6s pid %-8s %s\n' "$svc" "$HOST" "$port" "$pid" "$answer"
      down=1
    fi
  done
  return "$down"
}

cmd_restart() {
  local svc="${1:-}"
  [ -n "$svc" ] || die "usage: stack.sh restart <${SERVICES[*]}>"
  service_port "$svc" >/dev/null
  preflight "$svc"
  stop_service "$svc"
  start_service "$svc"
  wait_ready "$svc" || die "$svc did not come back"
  [ -f "$ENV_FILE" ] || write_env_file
}

main() {
  local command="${1:-}"
  [ $# -gt 0 ] && shift
  case "$command" in
    up) prepare; take_lock; cmd_up ;;
    down) prepare; take_lock; cmd_down "$@" ;;
    reset) prepare; take_lock; cmd_down --purge ;;
    status) prepare; cmd_status ;;
    restart) prepare; take_lock; cmd_restart "$@" ;;
    env) [ -f "$ENV_FILE" ] || die "local stack is not running: run npm run stack:up"; echo "$ENV_FILE" ;;
    *) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

main "$@"
