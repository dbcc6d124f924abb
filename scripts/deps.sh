#!/usr/bin/env bash
# Installs the Debian packages twcgw needs to build and test, if any are missing. Sourced by demo.sh and
# test.sh. Needs root (or passwordless sudo) only when something is missing; otherwise it says what.
set -euo pipefail

TWCGW_PACKAGES=(build-essential cmake pkg-config
  libwebsockets-dev libjansson-dev libssl-dev libserialport-dev libcurl4-openssl-dev libcmocka-dev libmosquitto-dev)
# chromium: the status page's browser test (tests/browser); prometheus: promtool checks /metrics;
# python3-pyftpdlib: the FTP server test_gw_http uploads to and downloads from (skipped without it).
TWCGW_TEST_PACKAGES=(valgrind clang libclang-rt-dev openssl mosquitto mosquitto-clients faketime chromium prometheus
  python3-pyftpdlib)

twcgw_missing_packages() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node.js runs the integration tests; any node >= 18 on PATH will do. npm installs the conformance
  # suite's one dependency (conformance/package-lock.json); Debian ships it apart from nodejs.
  if [ "${TWCGW_NEED_NODE:-0}" = 1 ]; then
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
  fi
  echo "${missing[@]}"
}

twcgw_install_deps() {
  local missing
  missing=$(twcgw_missing_packages "$@")
  [ -z "$missing" ] && return 0
  echo "twcgw: installing missing packages: $missing"
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      echo "twcgw: these Debian packages are missing and I am not root: $missing" >&2
      echo "twcgw: run as root, or: sudo apt-get install $missing" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q </dev/null
  # shellcheck disable=SC2086
  "${sudo[@]}" apt-get install -y -q --no-install-recommends $missing </dev/null
}
