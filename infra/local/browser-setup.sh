#!/usr/bin/env bash
# Installs the browser the UI tests drive (tests/ui/): Debian's chromium, through playwright-core.
# We use the distribution's build rather than a downloaded one, so it stays patched with the system
# and nothing is fetched outside the package manager. Safe to run again: installs only if missing.
set -euo pipefail

fail() {
  echo "browser-setup: $*" >&2
  exit 1
}

if [ ! -x /usr/bin/chromium ]; then
  command -v apt-get >/dev/null ||
    fail "no /usr/bin/chromium and no apt-get here: install chromium with the system's package manager"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "missing chromium: run this script as root (or install sudo)"
    sudo=(sudo)
  fi
  echo "browser-setup: installing chromium"
  "${sudo[@]}" apt-get update -qq || fail "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium ||
    fail "apt-get install chromium failed"
fi

echo "browser-setup: ok ($(/usr/bin/chromium --version 2>/dev/null || echo 'chromium, version unknown'))"
