#!/usr/bin/env bash
# Installs what is missing, checks the house rules (scripts/checksrc.sh), builds twcgw three ways and
# runs every test:
#   build-asan/  ASan+UBSan build: unit and integration tests
#   build-fuzz/  clang libFuzzer targets: a short run of each (TWCGW_FUZZ_SECONDS, default 30)
#   build/       the normal -Werror build: unit, valgrind and integration tests, then the OCPP conformance
#                suite (conformance/, node) against build/bin/twcgw and twc-sim, JUnit XML in
#                build/conformance.xml; in between, the solar day benchmark prints its figures.
# The output ends with the release ctest summary and the conformance suite's closing line.
# Exit status is non-zero if any step failed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
TWCGW_NEED_NODE=1 twcgw_install_deps "${TWCGW_PACKAGES[@]}" "${TWCGW_TEST_PACKAGES[@]}"

jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${TWCGW_FUZZ_SECONDS:-30}
status=0

echo "== House rules (scripts/checksrc.sh)"
bash scripts/checksrc.sh || status=1

# The node packages of a test folder (conformance/: ocpp-rpc; tests/browser/: playwright-core), installed
# from its lock file when node_modules is missing or the lock file changed since the last install.
npm_deps() {
  local dir=$1 want have=""
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  [ -f "$dir/node_modules/.lock-sha256" ] && have=$(cat "$dir/node_modules/.lock-sha256")
  if [ ! -d "$dir/node_modules" ] || [ "$want" != "$have" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund) || return 1
    echo "$want" >"$dir/node_modules/.lock-sha256"
  fi
}
conformance_deps() { npm_deps conformance; }

echo "== Node packages of the browser test (tests/browser) and the conformance suite"
npm_deps tests/browser || status=1
conformance_deps || status=1

echo "== ASan/UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTWCGW_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$jobs" -LE valgrind) || status=1

echo "== libFuzzer targets, ${fuzz_seconds}s each"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DTWCGW_FUZZ=ON \
  -DTWCGW_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_twc_frame fuzz_twc_bus fuzz_ocpp_frame fuzz_ocpp_cp fuzz_tesla_api \
  fuzz_ems_parse fuzz_ems_meter fuzz_gw_config fuzz_gw_held fuzz_gw_journal fuzz_ocpp_state fuzz_tesla_files \
  fuzz_gw_http_parse fuzz_gw_api fuzz_gw_httpd fuzz_certs_pem fuzz_certs_store fuzz_certs_sig >/dev/null
(cd build-fuzz && ctest --output-on-failure -L fuzz -V -j"$jobs" 2>&1 | grep -E "stat::number_of_executed_units|Test +#|tests passed|Passed|Failed") || status=1

echo "== Release build: unit, valgrind and integration tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null
ctest_log=build/ctest-release.log
if ! (cd build && ctest --output-on-failure -j"$jobs") 2>&1 | tee "$ctest_log"; then
  status=1
fi

echo "== Debian package of this machine's architecture (scripts/package.sh): build-pkg-*/, dist/, lintian"
bash scripts/package.sh "$(dpkg --print-architecture)" || status=1

echo "== Solar day benchmark (bench/bench_solar): the policy against an oracle"
if ! build/bin/bench_solar; then
  status=1
fi

echo "== Fault suite, short mode (tests/faults/run.mjs, docs/reliability.md)"; { conformance_deps && node tests/faults/run.mjs --short --twcgw build/bin/twcgw --twcsim build/bin/twc-sim; } || status=1
echo "== OCPP 1.6J conformance suite (conformance/run.mjs)"
conformance_log=build/conformance.log
if conformance_deps; then
  if ! node conformance/run.mjs --twcgw build/bin/twcgw --twcsim build/bin/twc-sim \
    --junit build/conformance.xml 2>&1 | tee "$conformance_log"; then
    status=1
  fi
else
  echo "conformance: npm ci failed" | tee "$conformance_log"
  status=1
fi

echo "== Summary"
sed -n '/tests passed, /,$p' "$ctest_log" | grep -v '^$' || echo "ctest: no summary (see above)"
grep -E '^[0-9]+ passed, [0-9]+ failed' "$conformance_log" | tail -n 1 || echo "conformance: no summary (see above)"
exit $status
