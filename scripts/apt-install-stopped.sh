#!/usr/bin/env bash
# Install Debian packages without starting their services (a policy-rc.d
# that refuses every start, removed again afterwards): `make eval` and
# `make bench` run private instances of spamd, rspamd and Redis on loopback
# and want no system-wide ones. Usage: scripts/apt-install-stopped.sh PKG...
set -euo pipefail
[ $# -gt 0 ] || exit 0
policy=/usr/sbin/policy-rc.d
if [ -e "$policy" ]; then
  echo "apt-install-stopped: keeping the $policy that is there" >&2
else
  trap 'rm -f "$policy"' EXIT
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
