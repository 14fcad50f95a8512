#!/usr/bin/env bash
# Stops the broker started by deploy/kafka/start.sh: SIGTERM (controlled
# shutdown), wait up to ${SLAWATCH_KAFKA_STOP_TIMEOUT:-30}s, then SIGKILL.
# Not running -> says so and exits 0.
#
#   deploy/kafka/stop.sh           # stop, keep topics and offsets
#   deploy/kafka/stop.sh --wipe    # stop and delete the data (fresh cluster next start)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

wipe=0
case "${1:-}" in
  "") ;;
  --wipe) wipe=1 ;;
  -h | --help)
    sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) kafka_die "unknown argument '$1' (try --help)" ;;
esac

if [[ ! -d "$KAFKA_DIR" ]]; then
  kafka_log "not running (no $KAFKA_DIR)"
  exit 0
fi
exec 8>"$KAFKA_DIR/.lock"
flock -w 300 8 || kafka_die "another start/stop holds $KAFKA_DIR/.lock"

if pid="$(kafka_running_pid)"; then
  kafka_log "stopping pid $pid..."
  t0=$SECONDS
  kafka_terminate "$pid" "$KAFKA_STOP_TIMEOUT"
  kafka_log "stopped ($((SECONDS - t0))s)"
else
  kafka_log "not running"
fi
rm -f "$KAFKA_PIDFILE"

if ((wipe)); then
  rm -rf "$KAFKA_DATA" "$KAFKA_CLUSTER_ID_FILE"
  kafka_log "wiped $KAFKA_DATA"
fi
