#!/usr/bin/env bash
# Installs what is missing, builds twcgw, and runs its demo: a sped-up cloudy day (06:00-21:00 in about a
# minute) in which the track-green policy charges a car on a simulated Wall Connector from the solar
# surplus of a synthetic house, then a summary (kWh, solar share, starts/stops) and a verdict. The first
# line is the status page's URL (http://127.0.0.1:8080/, or a free port): open it to watch the day live
# and steer it; in a terminal the page stays up after the verdict until Ctrl-C. Extra arguments go to
# twcgw, e.g. --demo-speed 5 (a slower day, 3 minutes), --demo-speed 60 (faster), --demo-http off, or
# --demo-scenario share for the older demo of three Wall Connectors sharing 40 A as cars arrive and leave.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
twcgw_install_deps "${TWCGW_PACKAGES[@]}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target twcgw >/dev/null
exec build/bin/twcgw --demo "$@"
