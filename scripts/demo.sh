#!/usr/bin/env bash
# Installs what is missing, builds twcgw, and runs its demo: three simulated Wall Connectors sharing a
# fixed current as cars arrive and leave. Extra arguments go to twcgw (e.g. --demo-speed 10).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
twcgw_install_deps "${TWCGW_PACKAGES[@]}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target twcgw >/dev/null
exec build/bin/twcgw --demo "$@"
