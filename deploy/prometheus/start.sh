#!/usr/bin/env bash
# Starts a private Prometheus in the background and waits until it is ready.
#
#   deploy/prometheus/start.sh [CONFIG [DATA_DIR [PORT]]]
#
#   CONFIG    prometheus.yml to load    (default: $SLAWATCH_PROM_CONFIG or deploy/prometheus/prometheus.yml)
#   DATA_DIR  TSDB directory            (default: $SLAWATCH_PROM_DIR/data = <repo>/var/prometheus/data)
#   PORT      listens on 127.0.0.1:PORT (default: $SLAWATCH_PROM_PORT or 59090)
#
# pid file and log: ${SLAWATCH_PROM_DIR:-<repo>/var/prometheus}/prometheus.{pid,log}.
# The config is validated with promtool first. /-/reload (POST) is enabled.
# Already running -> says so and exits 0 (a changed config is NOT reloaded:
# use `curl -X POST http://127.0.0.1:PORT/-/reload` or stop.sh + start.sh).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

case "${1:-}" in
  -h | --help)
    sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac
(($# <= 3)) || prom_die "too many arguments (try --help)"
config="${1:-${SLAWATCH_PROM_CONFIG:-$PROM_SCRIPT_DIR/prometheus.yml}}"
data="${2:-$PROM_DIR/data}"
port="${3:-$PROM_PORT}"
prom_check_port "$port"
[[ -f "$config" ]] || prom_die "config file not found: $config"
config="$(readlink -f "$config")"

"$PROM_SCRIPT_DIR/install.sh" >/dev/null
prom_lock

if pid="$(prom_running_pid)"; then
  if prom_http_ok "$port" /-/ready; then
    prom_log "already running (pid $pid) on $PROM_HOST:$port"
    exit 0
  fi
  prom_die "prometheus pid $pid runs but is not ready on $PROM_HOST:$port (other port?); run deploy/prometheus/stop.sh"
fi
rm -f "$PROM_PIDFILE"
prom_port_busy "$port" && prom_die "$PROM_HOST:$port is already in use by another process; set SLAWATCH_PROM_PORT"

if ! out="$(promtool check config "$config" 2>&1)"; then
  printf '%s\n' "$out" >&2
  prom_die "invalid Prometheus config: $config"
fi

mkdir -p "$data"
data="$(readlink -f "$data")"
printf '%s\n' "$data" >"$PROM_DIR/data.path" # for stop.sh --wipe
t0=$SECONDS
launched=""
ready=0
cleanup() {
  if [[ -n "$launched" ]] && ((!ready)); then
    prom_log "start failed: stopping the half-started prometheus (pid $launched)"
    kill -TERM "$launched" 2>/dev/null || true
    for _ in $(seq 50); do prom_alive "$launched" || break; sleep 0.1; done
    kill -KILL "$launched" 2>/dev/null || true
    rm -f "$PROM_PIDFILE"
    printf -- '----- %s -----\n' "$PROM_LOGFILE" >&2
    tail -n 20 "$PROM_LOGFILE" >&2 || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ ! -f "$PROM_LOGFILE" ]] || mv -f "$PROM_LOGFILE" "$PROM_LOGFILE.1"
# fd 6 (the lock) is not inherited; setsid detaches it from the caller's terminal.
setsid prometheus \
  --config.file="$config" \
  --storage.tsdb.path="$data" \
  --storage.tsdb.retention.time="${SLAWATCH_PROM_RETENTION:-7d}" \
  --web.listen-address="$PROM_HOST:$port" \
  --web.enable-lifecycle \
  </dev/null >"$PROM_LOGFILE" 2>&1 6>&- &
launched=$!
printf '%s\n' "$launched" >"$PROM_PIDFILE"

deadline=$((SECONDS + PROM_START_TIMEOUT))
until prom_http_ok "$port" /-/ready; do
  prom_alive "$launched" || prom_die "prometheus exited during startup (log: $PROM_LOGFILE)"
  ((SECONDS < deadline)) || prom_die "prometheus not ready on $PROM_HOST:$port within ${PROM_START_TIMEOUT}s"
  sleep 0.2
done
ready=1
prom_log "ready on http://$PROM_HOST:$port (pid $launched, $((SECONDS - t0))s); config $config, data $data, log $PROM_LOGFILE"
