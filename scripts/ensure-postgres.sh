#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries (initdb, pg_ctl) exist for the database engine's tests,
# installing Debian's package when they are missing and we may (root with apt-get). The tests
# start their own throwaway cluster; nothing here starts or configures a server.
set -euo pipefail

have_pg() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && return 0
  return 1
}

have_pg && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL server binaries are missing: installing Debian's postgresql package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  have_pg && exit 0
fi

echo "PostgreSQL server binaries (initdb, pg_ctl) are required by the database engine tests." >&2
echo "Install them (Debian/Ubuntu: sudo apt-get install postgresql) and run the tests again." >&2
exit 1
