#!/usr/bin/env bash
# Makes sure Debian's chromium exists for the console's browser tests (test/console/), installing
# the package when it is missing and we may (root with apt-get), as scripts/ensure-postgres.sh does
# for PostgreSQL. playwright-core drives it at /usr/bin/chromium; it downloads no browser.
set -euo pipefail

have_chromium() {
  [ -x /usr/bin/chromium ]
}

have_chromium && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing: installing Debian's chromium package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  have_chromium && exit 0
fi

echo "Debian's chromium (/usr/bin/chromium) is required by the console's browser tests." >&2
echo "Install it (Debian/Ubuntu: sudo apt-get install chromium) and run the tests again." >&2
exit 1
