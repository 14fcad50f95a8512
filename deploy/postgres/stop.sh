#!/usr/bin/env bash
# Stops the cluster started by deploy/postgres/start.sh. Not running -> exits 0.
#
#   deploy/postgres/stop.sh               # fast shutdown (rolls back open transactions, checkpoint)
#   deploy/postgres/stop.sh --immediate   # like a crash: no checkpoint, WAL recovery on next start
#   deploy/postgres/stop.sh --wipe        # fast shutdown, then delete the cluster
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mode=fast
wipe=0
for arg in "$@"; do
  case "$arg" in
    --immediate) mode=immediate ;;
    --wipe) wipe=1 ;;
    -h | --help)
      sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) pg_die "unknown argument '$arg' (try --help)" ;;
  esac
done

if [[ ! -d "$PG_DIR" ]]; then
  pg_log "not running (no $PG_DIR)"
  exit 0
fi
pg_lock

if [[ -n "$PG_BINDIR" ]] && pg_running; then
  t0=$SECONDS
  if ! pg_ctl_ stop -m "$mode" -w -t "$PG_STOP_TIMEOUT" >/dev/null; then
    pg_log "'$mode' shutdown did not finish in ${PG_STOP_TIMEOUT}s, using immediate"
    pg_ctl_ stop -m immediate -w -t 30 >/dev/null
  fi
  pg_log "stopped ($mode, $((SECONDS - t0))s)"
else
  pg_log "not running"
fi

if ((wipe)); then
  rm -rf "$PGDATA_DIR" "$PG_DIR/log" "$PG_SOCKET_DIR"
  pg_log "wiped $PGDATA_DIR"
fi
