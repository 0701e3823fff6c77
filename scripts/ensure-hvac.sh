#!/usr/bin/env bash
# Makes sure Debian's python3-hvac is importable by /usr/bin/python3 for the real-client tests
# (test/clients/hvac.test.ts), installing the package when it is missing and we may (root with
# apt-get), as scripts/ensure-postgres.sh does for PostgreSQL.
set -euo pipefail

have_hvac() {
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import hvac' >/dev/null 2>&1
}

have_hvac && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "python3-hvac is missing: installing Debian's python3-hvac package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3-hvac >/dev/null
  have_hvac && exit 0
fi

echo "Debian's python3-hvac (imported by /usr/bin/python3) is required by the real-client tests." >&2
echo "Install it (Debian/Ubuntu: sudo apt-get install python3-hvac) and run the tests again." >&2
exit 1
