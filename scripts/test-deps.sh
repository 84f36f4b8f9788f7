#!/usr/bin/env bash
# Installs what the tests need beyond Go, from Debian's packages, when it is
# missing: promtool and prometheus (alert rules, the alert test), chromium
# (the UI test), Node.js and npm (the TypeScript Nexus caller, whose
# packages the test installs with `npm ci` from its lockfile) and PostgreSQL
# (make test-cluster; Debian keeps initdb off PATH). Run by `make test` and
# `make test-cluster`.
set -euo pipefail
missing=()
command -v promtool >/dev/null && command -v prometheus >/dev/null || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "test-deps: missing ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "test-deps: installing ${missing[*]} (apt-get)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
