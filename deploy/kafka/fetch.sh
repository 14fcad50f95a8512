#!/usr/bin/env bash
# Resolves the runtime classpath of an Apache Kafka broker from Maven Central
# with the machine's `mvn` and copies it into
#   ${SLAWATCH_CACHE:-$HOME/.cache/slawatch}/kafka-<version>/lib
# Idempotent: when that directory is complete it returns at once and neither
# Maven nor the network is touched. Prints the cache directory on stdout.
#
#   deploy/kafka/fetch.sh            # fetch if needed
#   deploy/kafka/fetch.sh --force    # throw the cached copy away and refetch
#
# Env: SLAWATCH_KAFKA_VERSION, SLAWATCH_KAFKA_LOG4J2_VERSION, SLAWATCH_CACHE,
#      SLAWATCH_M2_REPO (Maven local repository; default: Maven's own, ~/.m2).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

force=0
case "${1:-}" in
  "") ;;
  --force) force=1 ;;
  -h | --help)
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) kafka_die "unknown argument '$1' (try --help)" ;;
esac

cache_complete() {
  [[ -f "$KAFKA_STAMP" && -f "$KAFKA_LIB/kafka_2.13-$KAFKA_VERSION.jar" ]]
}

if ((!force)) && cache_complete; then
  printf '%s\n' "$KAFKA_HOME_DIR"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
# Serialise concurrent fetches of the same version (parallel CI steps, ...).
exec 9>"$CACHE_ROOT/kafka-$KAFKA_VERSION.lock"
flock 9
if ((!force)) && cache_complete; then # another process finished meanwhile
  printf '%s\n' "$KAFKA_HOME_DIR"
  exit 0
fi

command -v mvn >/dev/null 2>&1 || kafka_die "mvn not found (apt-get install maven)"
kafka_require_java

work="$(mktemp -d "$CACHE_ROOT/.kafka-$KAFKA_VERSION.XXXXXX")"
trap 'rm -rf "$work"' EXIT

sed -e "s/@KAFKA_VERSION@/$KAFKA_VERSION/g" \
  -e "s/@LOG4J2_VERSION@/$LOG4J2_VERSION/g" \
  -e "s/@SLF4J_VERSION@/$SLF4J_VERSION/g" \
  "$KAFKA_SCRIPT_DIR/pom.xml.in" >"$work/pom.xml"

mvn_args=(-B -ntp -f "$work/pom.xml")
if [[ -n "${SLAWATCH_M2_REPO:-}" ]]; then
  mvn_args+=("-Dmaven.repo.local=$SLAWATCH_M2_REPO")
fi

kafka_log "resolving kafka_2.13:$KAFKA_VERSION (+ log4j2 $LOG4J2_VERSION binding) from Maven Central..."
start=$SECONDS
# includeScope=runtime = compile + runtime scopes of the whole closure, which
# is what the broker needs; test/provided/optional deps are left out.
if ! mvn "${mvn_args[@]}" "$MVN_DEPENDENCY_PLUGIN:copy-dependencies" \
  -DincludeScope=runtime \
  -DoutputDirectory="$work/lib" >"$work/mvn.log" 2>&1; then
  tail -n 40 "$work/mvn.log" >&2
  kafka_die "mvn could not resolve Kafka $KAFKA_VERSION (full log above; is Maven Central reachable, does that version exist?)"
fi

# --- sanity checks on what Maven produced -----------------------------------
lib="$work/lib"
missing=()
for jar in "kafka_2.13-$KAFKA_VERSION" "kafka-clients-$KAFKA_VERSION" \
  "kafka-server-$KAFKA_VERSION" "kafka-metadata-$KAFKA_VERSION" \
  "kafka-raft-$KAFKA_VERSION" "kafka-storage-$KAFKA_VERSION" \
  "kafka-group-coordinator-$KAFKA_VERSION" "kafka-transaction-coordinator-$KAFKA_VERSION" \
  "log4j-slf4j-impl-$LOG4J2_VERSION" "log4j-core-$LOG4J2_VERSION" \
  "log4j-api-$LOG4J2_VERSION" "slf4j-api-$SLF4J_VERSION"; do
  [[ -f "$lib/$jar.jar" ]] || missing+=("$jar.jar")
done
((${#missing[@]} == 0)) || kafka_die "resolved classpath lacks: ${missing[*]}"

# One version per artifact, or the JVM picks classes from whichever comes first.
dups="$(find "$lib" -maxdepth 1 -name '*.jar' -printf '%f\n' \
  | sed -E 's/-[0-9][^-]*(-[A-Za-z0-9.]+)?\.jar$//' | sort | uniq -d)"
[[ -z "$dups" ]] || kafka_die "several versions of: $dups"
if find "$lib" -maxdepth 1 -name 'slf4j-api-2.*' | grep -q .; then
  kafka_die "an SLF4J 2.x API was pulled in; the 1.x log4j binding would be ignored"
fi

# The entry points start.sh uses must exist, and the broker must report the
# version we asked for.
for cls in kafka/Kafka.class kafka/tools/StorageTool.class; do
  unzip -l "$lib/kafka_2.13-$KAFKA_VERSION.jar" "$cls" >/dev/null 2>&1 \
    || kafka_die "$cls not found in kafka_2.13-$KAFKA_VERSION.jar"
done
reported="$(java -Xmx64m -cp "$lib/*" kafka.Kafka --version 2>/dev/null | head -n 1 || true)"
[[ "$reported" == "$KAFKA_VERSION"* ]] \
  || kafka_die "kafka.Kafka --version printed '${reported}', expected $KAFKA_VERSION"

# --- publish atomically ------------------------------------------------------
rm -rf "$KAFKA_HOME_DIR"
mkdir -p "$KAFKA_HOME_DIR"
mv "$lib" "$KAFKA_LIB"
mv "$work/pom.xml" "$KAFKA_HOME_DIR/pom.xml"
mv "$work/mvn.log" "$KAFKA_HOME_DIR/mvn.log"
{
  echo "kafka=$KAFKA_VERSION log4j2=$LOG4J2_VERSION slf4j=$SLF4J_VERSION"
  echo "jars=$(find "$KAFKA_LIB" -name '*.jar' | wc -l) size=$(du -sh "$KAFKA_LIB" | cut -f1)"
  date -u +fetched=%Y-%m-%dT%H:%M:%SZ
} >"$KAFKA_STAMP"
kafka_log "cached $(sed -n 2p "$KAFKA_STAMP") in $KAFKA_HOME_DIR ($((SECONDS - start))s)"
printf '%s\n' "$KAFKA_HOME_DIR"
