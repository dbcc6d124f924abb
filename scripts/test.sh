#!/usr/bin/env bash
# Installs what is missing, builds twcgw three ways and runs every test:
#   build-asan/  ASan+UBSan build: unit and integration tests
#   build-fuzz/  clang libFuzzer targets: a short run of each (TWCGW_FUZZ_SECONDS, default 30)
#   build/       the normal -Werror build: unit, valgrind and integration tests; its ctest summary ends
#                the output.
# Exit status is non-zero if any step failed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
TWCGW_NEED_NODE=1 twcgw_install_deps "${TWCGW_PACKAGES[@]}" "${TWCGW_TEST_PACKAGES[@]}"

jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${TWCGW_FUZZ_SECONDS:-30}
status=0

echo "== ASan/UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTWCGW_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$jobs" -LE valgrind) || status=1

echo "== libFuzzer targets, ${fuzz_seconds}s each"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DTWCGW_FUZZ=ON \
  -DTWCGW_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_twc_frame fuzz_twc_bus >/dev/null
(cd build-fuzz && ctest --output-on-failure -L fuzz -V 2>&1 | grep -E "stat::number_of_executed_units|Test +#|tests passed|Passed|Failed") || status=1

echo "== Release build: unit, valgrind and integration tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null
(cd build && ctest --output-on-failure -j"$jobs") || status=1
exit $status
