# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this
# Shared settings for deploy/kafka/*.sh. Sourced, never executed.
#
# Every knob is an environment variable with a default; see deploy/README.md.

KAFKA_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$KAFKA_SCRIPT_DIR/../.." && pwd)"

# --- what to run ---------------------------------------------------------
# Kafka 4.3.1 is pinned: a bug-fix release of the 4.3 line, served by Maven
# Central, and the version this setup was verified with. LOG4J2_VERSION must be
# the log4j2 version that Kafka release declares (kafka-server's POM shows it).
KAFKA_VERSION="${SLAWATCH_KAFKA_VERSION:-4.3.1}"
case "$KAFKA_VERSION" in
  4.4.0) _default_log4j2=2.25.5 ;;
  4.2.* | 4.3.*) _default_log4j2=2.25.4 ;;
  4.0.* | 4.1.*) _default_log4j2=2.25.3 ;;
  *) _default_log4j2=2.25.4 ;;
esac
LOG4J2_VERSION="${SLAWATCH_KAFKA_LOG4J2_VERSION:-$_default_log4j2}"
unset _default_log4j2
SLF4J_VERSION=1.7.36
MVN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

# --- where the jars are cached (outside the repo, shared between checkouts) -
CACHE_ROOT="${SLAWATCH_CACHE:-$HOME/.cache/slawatch}"
KAFKA_HOME_DIR="$CACHE_ROOT/kafka-$KAFKA_VERSION"
KAFKA_LIB="$KAFKA_HOME_DIR/lib"
KAFKA_STAMP="$KAFKA_HOME_DIR/.complete"

# --- where one broker instance lives (inside the repo, git-ignored) --------
KAFKA_DIR="${SLAWATCH_KAFKA_DIR:-$REPO/var/kafka}"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOGS="$KAFKA_DIR/logs"
KAFKA_CONFIG="$KAFKA_DIR/server.properties"
KAFKA_PIDFILE="$KAFKA_DIR/kafka.pid"
KAFKA_CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"

KAFKA_HOST=127.0.0.1
KAFKA_PORT="${SLAWATCH_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${SLAWATCH_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_HEAP_OPTS="${SLAWATCH_KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"
KAFKA_START_TIMEOUT="${SLAWATCH_KAFKA_START_TIMEOUT:-120}"
KAFKA_STOP_TIMEOUT="${SLAWATCH_KAFKA_STOP_TIMEOUT:-30}"

if [[ -n "${SLAWATCH_PYTHON:-}" ]]; then
  KAFKA_PYTHON="$SLAWATCH_PYTHON"
elif [[ -x "$REPO/.venv/bin/python" ]]; then
  KAFKA_PYTHON="$REPO/.venv/bin/python"
else
  KAFKA_PYTHON=python3
fi

kafka_log() { printf 'kafka: %s\n' "$*" >&2; }
kafka_die() {
  printf 'kafka: ERROR: %s\n' "$*" >&2
  exit 1
}

kafka_check_port() { # name value
  if ! [[ "$2" =~ ^[0-9]+$ ]] || (("$2" < 1 || "$2" > 65535)); then
    kafka_die "$1 must be a TCP port number, got '$2'"
  fi
}
kafka_check_port SLAWATCH_KAFKA_PORT "$KAFKA_PORT"
kafka_check_port SLAWATCH_KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
[[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ]] \
  || kafka_die "the broker and controller ports must differ (both $KAFKA_PORT)"

kafka_require_java() {
  command -v java >/dev/null 2>&1 \
    || kafka_die "java not found: Kafka ${KAFKA_VERSION} needs a Java 17+ runtime (apt-get install openjdk-17-jre-headless)"
  local v
  v="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
  if ! [[ "$v" =~ ^[0-9]+$ ]] || ((v < 17)); then
    kafka_die "Kafka ${KAFKA_VERSION} needs Java 17+, found java.specification.version='${v:-?}'"
  fi
}

# The JVM expands the trailing '*' itself; keep it quoted everywhere.
kafka_classpath() { printf '%s/*' "$KAFKA_LIB"; }

# Prints the pid of the broker this instance directory started, if it runs.
kafka_running_pid() {
  local pid
  [[ -f "$KAFKA_PIDFILE" ]] || return 1
  pid="$(<"$KAFKA_PIDFILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kafka_alive "$pid" || return 1
  # Guard against pid reuse: it must be a kafka.Kafka JVM using our config.
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$KAFKA_CONFIG" || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF kafka.Kafka || return 1
  printf '%s\n' "$pid"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
kafka_port_busy() {
  (exec 3<>"/dev/tcp/$KAFKA_HOST/$1") 2>/dev/null
}

# True while the process exists and is not a zombie (an orphaned broker is
# reparented to pid 1, which may not reap it promptly).
kafka_alive() { # pid
  local state
  state="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# Sends SIGTERM, waits, then SIGKILL. Returns when the process is gone.
kafka_terminate() { # pid timeout_seconds
  local pid="$1" timeout="$2" waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kafka_alive "$pid"; do
    if ((waited >= timeout * 10)); then
      kafka_log "pid $pid still alive after ${timeout}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  while kafka_alive "$pid"; do sleep 0.1; done
}
