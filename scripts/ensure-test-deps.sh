#!/usr/bin/env bash
# Makes sure the system packages the tests use are there, installing the missing ones from Debian in
# one apt-get run when we may (root with apt-get):
#   - PostgreSQL's server binaries (initdb, pg_ctl): the database engine's tests start their own cluster;
#   - python3-hvac for /usr/bin/python3: the real-client tests (test/clients/);
#   - chromium (/usr/bin/chromium): the console's browser tests, driven by playwright-core.
# Nothing here starts or configures a server.
set -euo pipefail

have_postgresql() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && return 0
  return 1
}
have_python3-hvac() { [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import hvac' >/dev/null 2>&1; }
have_chromium() { [ -x /usr/bin/chromium ]; }

declare -A why=(
  [postgresql]='PostgreSQL server binaries (initdb, pg_ctl), for the database engine tests'
  [python3-hvac]="Debian's python3-hvac (imported by /usr/bin/python3), for the real-client tests"
  [chromium]="Debian's chromium (/usr/bin/chromium), for the console's browser tests"
)

missing() {
  local out=()
  for pkg in postgresql python3-hvac chromium; do "have_$pkg" || out+=("$pkg"); done
  echo "${out[@]}"
}

need=$(missing)
[ -z "$need" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's packages the tests need: $need" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  apt-get install -y -qq --no-install-recommends $need >/dev/null
  need=$(missing)
  [ -z "$need" ] && exit 0
fi

for pkg in $need; do echo "Missing: ${why[$pkg]}." >&2; done
echo "Install them (Debian/Ubuntu: sudo apt-get install $need) and run the tests again." >&2
exit 1
