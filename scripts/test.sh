#!/usr/bin/env bash
# Install what the tests need, then run them: the README's second set-up command and CI's.
# As root it also installs Debian's packages the browser and validator tests use.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  need=()
  command -v chromium >/dev/null || need+=(chromium)
  command -v java >/dev/null || need+=(default-jre-headless)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  command -v npm >/dev/null || need+=(npm)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

# The W3C Nu HTML Checker (vnu.jar) and axe-core, pinned by package-lock.json; no install scripts run.
if command -v npm >/dev/null; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"  # property tests derandomized: the same examples on every run (tests/conftest.py)
exec .venv/bin/python -m pytest "$@"
