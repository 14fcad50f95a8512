# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this
# Shared settings for deploy/prometheus/*.sh. Sourced, never executed.

PROM_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$PROM_SCRIPT_DIR/../.." && pwd)"

PROM_HOST=127.0.0.1
PROM_PORT="${SLAWATCH_PROM_PORT:-59090}"
PROM_DIR="${SLAWATCH_PROM_DIR:-$REPO/var/prometheus}"
PROM_PIDFILE="$PROM_DIR/prometheus.pid"
PROM_LOGFILE="$PROM_DIR/prometheus.log"
PROM_START_TIMEOUT="${SLAWATCH_PROM_START_TIMEOUT:-60}"
PROM_STOP_TIMEOUT="${SLAWATCH_PROM_STOP_TIMEOUT:-30}"

prom_log() { printf 'prometheus: %s\n' "$*" >&2; }
prom_die() {
  printf 'prometheus: ERROR: %s\n' "$*" >&2
  exit 1
}

prom_check_port() { # value
  if ! [[ "$1" =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > 65535)); then
    prom_die "the port must be a TCP port number, got '$1'"
  fi
}

prom_alive() { # pid: exists and is not a zombie
  local state
  state="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# Prints the pid of the prometheus this instance dir started, if it runs.
prom_running_pid() {
  local pid
  [[ -f "$PROM_PIDFILE" ]] || return 1
  pid="$(<"$PROM_PIDFILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] && prom_alive "$pid" || return 1
  # Guard against pid reuse.
  [[ "$(basename "$(readlink -f "/proc/$pid/exe" 2>/dev/null)")" == prometheus ]] || return 1
  printf '%s\n' "$pid"
}

prom_port_busy() { (exec 3<>"/dev/tcp/$PROM_HOST/$1") 2>/dev/null; }

# HTTP GET with bash only; true on a 200 answer.
prom_http_ok() { # port path
  local status
  status="$(
    { exec 3<>"/dev/tcp/$PROM_HOST/$1"; } 2>/dev/null || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\n\r\n' "$2" "$PROM_HOST" "$1" >&3
    timeout 5 head -n 1 <&3
  )" || return 1
  [[ "$status" == HTTP/*" 200"* ]]
}

prom_lock() {
  mkdir -p "$PROM_DIR"
  exec 6>"$PROM_DIR/.lock"
  flock -w 120 6 || prom_die "another start/stop holds $PROM_DIR/.lock"
}
