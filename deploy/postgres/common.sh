# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this
# Shared settings for deploy/postgres/*.sh. Sourced, never executed.

PG_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$PG_SCRIPT_DIR/../.." && pwd)"

PG_PORT="${SLAWATCH_PG_PORT:-55432}"
PG_HOST=127.0.0.1
PG_APP_USER=slawatch
PG_APP_PASSWORD=slawatch
PG_APP_DB=slawatch
PG_SUPERUSER=postgres
PG_START_TIMEOUT="${SLAWATCH_PG_START_TIMEOUT:-60}"
PG_STOP_TIMEOUT="${SLAWATCH_PG_STOP_TIMEOUT:-60}"

pg_log() { printf 'postgres: %s\n' "$*" >&2; }
pg_die() {
  printf 'postgres: ERROR: %s\n' "$*" >&2
  exit 1
}

if ! [[ "$PG_PORT" =~ ^[0-9]+$ ]] || ((PG_PORT < 1 || PG_PORT > 65535)); then
  pg_die "SLAWATCH_PG_PORT must be a TCP port number, got '$PG_PORT'"
fi
for _v in PG_START_TIMEOUT PG_STOP_TIMEOUT; do
  [[ "${!_v}" =~ ^[1-9][0-9]*$ ]] || pg_die "SLAWATCH_${_v} must be a whole number of seconds, got '${!_v}'"
done
unset _v

# --- binaries: PostgreSQL 15 from Debian (postgresql-15) -------------------
pg_find_bindir() {
  local d
  for d in "${SLAWATCH_PG_BINDIR:-}" /usr/lib/postgresql/15/bin; do
    if [[ -n "$d" && -x "$d/pg_ctl" && -x "$d/initdb" && -x "$d/postgres" ]]; then
      printf '%s\n' "$d"
      return 0
    fi
  done
  if command -v pg_ctl >/dev/null 2>&1; then
    d="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
    if [[ -x "$d/initdb" && -x "$d/postgres" ]]; then
      printf '%s\n' "$d"
      return 0
    fi
  fi
  return 1
}
PG_BINDIR="$(pg_find_bindir || true)"

# --- who runs the server -----------------------------------------------------
# PostgreSQL refuses to run as root. As root we run it as the system user
# `postgres` (created if missing); as any other user, as that user.
if ((EUID == 0)); then
  PG_OS_USER="${SLAWATCH_PG_OS_USER:-postgres}"
else
  PG_OS_USER="$(id -un)"
fi

pg_as_owner() { # command...: runs as the server's OS user, from a neutral cwd
  if ((EUID == 0)); then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    (cd / && "$@")
  fi
}

# --- where the cluster lives -------------------------------------------------
PG_DIR_REQUESTED="${SLAWATCH_PG_DIR:-$REPO/var/postgres}"
PG_DIR="$PG_DIR_REQUESTED"
# The server's OS user must be able to reach the directory. A checkout under
# a private home (e.g. /root, mode 700) is not reachable by `postgres`; then
# the cluster goes to /var/tmp instead (same path for every script).
pg_nearest_existing() {
  local p="$1"
  while [[ ! -e "$p" ]]; do p="$(dirname "$p")"; done
  printf '%s\n' "$p"
}
if ((EUID == 0)) && id -u "$PG_OS_USER" >/dev/null 2>&1; then
  if ! runuser -u "$PG_OS_USER" -- test -x "$(pg_nearest_existing "$PG_DIR_REQUESTED")" 2>/dev/null; then
    PG_DIR="/var/tmp/slawatch-postgres-$(printf '%s' "$PG_DIR_REQUESTED" | cksum | cut -d' ' -f1)"
  fi
fi
PGDATA_DIR="$PG_DIR/data"
PG_LOGFILE="$PG_DIR/log/postgres.log"
PG_SOCKET_DIR="$PG_DIR/run"
# A unix socket path is limited to 107 bytes (".s.PGSQL.<port>" included).
if ((${#PG_SOCKET_DIR} > 90)); then
  PG_SOCKET_DIR="/tmp/slawatch-pg-$(printf '%s' "$PG_DIR" | cksum | cut -d' ' -f1)"
fi

pg_require_binaries() {
  [[ -n "$PG_BINDIR" ]] || pg_die "PostgreSQL 15 binaries not found (looked in \$SLAWATCH_PG_BINDIR, /usr/lib/postgresql/15/bin, PATH); run deploy/postgres/install.sh"
}

pg_ctl_() { pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" "$@"; }

pg_initialized() { [[ -f "$PGDATA_DIR/PG_VERSION" ]]; }

pg_running() { # the cluster in $PGDATA_DIR has a live postmaster
  pg_initialized || return 1
  pg_ctl_ status >/dev/null 2>&1
}

# True when something accepts TCP connections on 127.0.0.1:$1.
pg_port_busy() {
  (exec 3<>"/dev/tcp/$PG_HOST/$1") 2>/dev/null
}

pg_lock() {
  mkdir -p "$PG_DIR"
  exec 7>"$PG_DIR/.lock"
  flock -w 300 7 || pg_die "another start/stop holds $PG_DIR/.lock"
}

pg_url() { printf 'postgresql+asyncpg://%s:%s@%s:%s/%s\n' \
  "$PG_APP_USER" "$PG_APP_PASSWORD" "$PG_HOST" "$PG_PORT" "$PG_APP_DB"; }
