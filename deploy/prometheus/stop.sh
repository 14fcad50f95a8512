#!/usr/bin/env bash
# Stops the Prometheus started by deploy/prometheus/start.sh (SIGTERM, wait up
# to ${SLAWATCH_PROM_STOP_TIMEOUT:-30}s, then SIGKILL). Not running -> exits 0.
#
#   deploy/prometheus/stop.sh [--wipe]    # --wipe also deletes the TSDB dir it used
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

wipe=0
case "${1:-}" in
  "") ;;
  --wipe) wipe=1 ;;
  -h | --help)
    sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) prom_die "unknown argument '$1' (try --help)" ;;
esac

if [[ ! -d "$PROM_DIR" ]]; then
  prom_log "not running (no $PROM_DIR)"
  exit 0
fi
prom_lock
if pid="$(prom_running_pid)"; then
  kill -TERM "$pid" 2>/dev/null || true
  waited=0
  while prom_alive "$pid"; do
    if ((waited >= PROM_STOP_TIMEOUT * 10)); then
      prom_log "pid $pid still alive after ${PROM_STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while prom_alive "$pid"; do sleep 0.1; done
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  prom_log "stopped (pid $pid)"
else
  prom_log "not running"
fi
rm -f "$PROM_PIDFILE"
if ((wipe)); then
  data="$PROM_DIR/data"
  [[ ! -s "$PROM_DIR/data.path" ]] || data="$(<"$PROM_DIR/data.path")"
  rm -rf "$data" "$PROM_DIR/data.path"
  prom_log "wiped $data"
fi
