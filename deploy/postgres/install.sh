#!/usr/bin/env bash
# Makes sure the PostgreSQL 15 server binaries are present (Debian package
# postgresql-15) and that the OS user the server runs as exists. Installs
# nothing when they already are; never starts the Debian cluster/service.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ -z "$PG_BINDIR" ]]; then
  pg_log "PostgreSQL 15 binaries not found, installing postgresql-15 from Debian"
  "$PG_SCRIPT_DIR/../apt-install.sh" postgresql-15
  PG_BINDIR="$(pg_find_bindir)" || pg_die "postgresql-15 installed but pg_ctl/initdb/postgres still not found"
fi
version="$("$PG_BINDIR/postgres" --version)"
[[ "$version" =~ \ 15\. ]] || pg_log "warning: expected PostgreSQL 15, found: $version"

if ((EUID == 0)) && ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
  pg_log "creating system user $PG_OS_USER"
  useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
    --shell /usr/sbin/nologin "$PG_OS_USER"
fi
command -v flock >/dev/null 2>&1 || pg_die "flock (util-linux) is required"
echo "postgres: ok: $version in $PG_BINDIR, server user $PG_OS_USER"
