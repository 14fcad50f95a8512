#!/usr/bin/env bash
# Installs Debian packages without starting their services.
#
#   deploy/apt-install.sh PACKAGE...
#
# - needs root (or passwordless sudo);
# - runs `apt-get update` first only when the package lists are missing or
#   when installing from the current lists fails;
# - blocks service start-up during the install with a temporary
#   /usr/sbin/policy-rc.d (exit 101), unless one already exists: our scripts
#   run the servers themselves, on their own ports and data directories.
set -euo pipefail

(($# > 0)) || {
  echo "usage: $0 PACKAGE..." >&2
  exit 2
}

SUDO=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "apt-install: ERROR: installing $* needs root" >&2
    exit 1
  fi
fi

policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  if ((created_policy)); then "${SUDO[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\n# temporary, from slawatch deploy/apt-install.sh\nexit 101\n' \
    | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "$@"
}

if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
  echo "apt-install: no package lists yet, running apt-get update" >&2
  "${SUDO[@]}" apt-get update -q
fi
if ! apt_install "$@"; then
  echo "apt-install: retrying after apt-get update" >&2
  "${SUDO[@]}" apt-get update -q
  apt_install "$@"
fi
