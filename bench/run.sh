#!/usr/bin/env bash
# The one command of issue 19's benchmarks: builds twcgw and twc-sim (RelWithDebInfo, into build/
# unless --build DIR names another directory), then runs bench/bench_cp.mjs, which measures one charge
# point with three simulated slaves against a loopback central system and prints the table of figures
# beside their targets. Every other option (--adapter-ms MS, --quick, --latency, --window S,
# --profiles N, --starts N, --calls N, --json FILE) goes to bench_cp.mjs; --no-build skips the build.
# --latency measures only SetChargingProfile -> heartbeat on the wire (about 2 minutes instead of 8).
# Then bench/bench_depot.mjs measures 16 and 64 charge points in one process (about 12 minutes;
# --quick shortens it, --latency and --no-depot skip it).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=build
build_it=1
depot=1
depot_args=()
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=${2:?--build needs a directory}; shift 2 ;;
	--no-build) build_it=0; shift ;;
	--no-depot) depot=0; shift ;;
	--latency) depot=0; args+=("$1"); shift ;;
	--quick) depot_args+=(--quick); args+=("$1"); shift ;;
	*) args+=("$1"); shift ;;
	esac
done
case "$build" in /*) ;; *) build="$root/$build" ;; esac

if [ "$build_it" = 1 ]; then
	# Quiet unless it fails: the table is the output that matters.
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
		cmake --build "$build" -j"$(nproc)" --target twcgw twc-sim; } >"$log" 2>&1; then
		cat "$log" >&2
		exit 1
	fi
fi
if [ -e /proc/loadavg ]; then
	echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)" >&2
fi
node "$root/bench/bench_cp.mjs" --build "$build" ${args[@]+"${args[@]}"}
if [ "$depot" = 1 ]; then
	exec node "$root/bench/bench_depot.mjs" --build "$build" ${depot_args[@]+"${depot_args[@]}"}
fi
