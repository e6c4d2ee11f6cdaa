#!/usr/bin/env bash
# Installs, from Debian 12's apt, whatever the build and the tests need and
# the machine lacks. Safe to run again; does nothing when all is present.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in postgresql-15 postgresql-server-dev-15 postgresql-contrib libdeflate-dev zlib1g-dev \
           make gcc libc6-dev "$@"; do
  have "$pkg" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
