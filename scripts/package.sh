#!/usr/bin/env bash
# Builds the Debian packages of twcgw into dist/ and checks them:
#   scripts/package.sh [amd64|arm64|armhf|all]      (default all; several may be given)
# For each architecture: installs what it needs with apt-get (as root, like scripts/deps.sh), configures
# build-pkg-<arch>/ with -DCMAKE_INSTALL_PREFIX=/usr and Debian's hardening flags (dpkg-buildflags),
# builds, makes twcgw_<version>_<arch>.deb with CPack (cmake/packaging.cmake), runs lintian on it (an
# error fails), and prints its path and size. The build machine's own architecture is built natively
# (twcgw and twc-sim only); arm64 and armhf are cross-compiled with Debian's cross gcc and the
# Multi-Arch :<arch> -dev packages (cmake/toolchain-<arch>.cmake), and their unit tests are built and run
# under qemu-user (ctest -L unit). Exit status is non-zero if any step failed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh

native=$(dpkg --print-architecture)
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -gt 2 ] && jobs=2
case "${1:-all}" in all) set -- amd64 arm64 armhf ;; esac
for arch in "$@"; do
  case "$arch" in
    "$native") ;;
    arm64 | armhf) [ "$native" = amd64 ] || { echo "package.sh: cross builds need an amd64 machine" >&2; exit 2; } ;;
    *) echo "usage: scripts/package.sh [amd64|arm64|armhf|all]" >&2; exit 2 ;;
  esac
done

triplet_of() {
  case "$1" in
    amd64) echo x86_64-linux-gnu ;;
    arm64) echo aarch64-linux-gnu ;;
    armhf) echo arm-linux-gnueabihf ;;
  esac
}

# The changelog's date and the package's time stamps follow the last commit, not the clock.
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || true)
  [ -n "$SOURCE_DATE_EPOCH" ] && export SOURCE_DATE_EPOCH
fi

# What to install. The cross -dev packages are Multi-Arch: same, so they sit beside the amd64 ones,
# except libwebsockets-dev (its lws_config.h differs per architecture): for that one only the library
# is installed and its -dev package is unpacked into the build directory (lws_overlay below).
need=("${TWCGW_PACKAGES[@]}" dpkg-dev file xz-utils lintian)
cross_dev=(libjansson-dev libssl-dev libserialport-dev libcurl4-openssl-dev libcmocka-dev libmosquitto-dev
  libcap-dev libwebsockets17)
for arch in "$@"; do
  [ "$arch" = "$native" ] && continue
  if ! grep -qx "$arch" <<<"$(dpkg --print-foreign-architectures)"; then
    if [ "$(id -u)" != 0 ]; then
      echo "package.sh: run as root, or: sudo dpkg --add-architecture $arch" >&2
      exit 1
    fi
    echo "package.sh: dpkg --add-architecture $arch"
    dpkg --add-architecture "$arch"
  fi
  t=$(triplet_of "$arch")
  need+=("gcc-$t" "binutils-$t" qemu-user-static)
  for p in "${cross_dev[@]}"; do need+=("$p:$arch"); done
done
twcgw_install_deps "${need[@]}"

# libwebsockets-dev:<arch> unpacked into $2, its .pc pointed there, its libwebsockets.so at the
# installed /usr/lib/<triplet>/libwebsockets.so.N. Redone when libwebsockets17:<arch> changes version.
lws_overlay() {
  local arch=$1 dir=$2 t ver so
  t=$(triplet_of "$arch")
  ver=$(dpkg-query -W -f='${Version}' "libwebsockets17:$arch")
  [ -f "$dir/.version" ] && [ "$(cat "$dir/.version")" = "$ver" ] && return 0
  rm -rf "$dir"
  mkdir -p "$dir/deb"
  # (As root apt-get download warns that it runs unsandboxed: harmless here.)
  if ! (cd "$dir/deb" && apt-get download -q "libwebsockets-dev:$arch=$ver" 2>/dev/null) ||
    ! dpkg-deb -x "$dir"/deb/libwebsockets-dev_*.deb "$dir"; then
    echo "package.sh: cannot fetch or unpack libwebsockets-dev:$arch=$ver" >&2
    return 1
  fi
  sed -i "s|^prefix=.*|prefix=\"$dir/usr\"|" "$dir/usr/lib/$t/pkgconfig/libwebsockets.pc"
  so=$(readlink "$dir/usr/lib/$t/libwebsockets.so")
  ln -sfn "/usr/lib/$t/$so" "$dir/usr/lib/$t/libwebsockets.so"
  rm -f "$dir/usr/lib/$t/libwebsockets.a"
  [ -e "$dir/usr/lib/$t/libwebsockets.so" ] || { echo "package.sh: no /usr/lib/$t/$so" >&2; return 1; }
  echo "$ver" >"$dir/.version"
}

# Every option `twc-sim -h` lists is in its man page (packaging/debian/twc-sim.1).
sim_man_check() {
  local opt missing=0 page
  page=$(sed 's/\\-/-/g' packaging/debian/twc-sim.1)
  for opt in $("$1" -h 2>&1 | grep -oE '(^|[ |(])--?[a-z][a-z0-9-]*' | tr -d ' |(' | sort -u); do
    grep -q -- "$opt" <<<"$page" || { echo "package.sh: twc-sim option $opt is not in packaging/debian/twc-sim.1"; missing=1; }
  done
  return $missing
}

# Every unit test passes under qemu too (test_gw_mqtt counts threads against the process's own, of
# which qemu-user adds one; test_ocpp_json compares with libc only where a 32-bit time_t reaches).
qemu_unit_verdict() {
  local log=$1
  grep -q '100% tests passed' "$log" && return 0
  sed -n '/The following tests FAILED:/,$p' "$log"
  return 1
}

mkdir -p dist
status=0
declare -A unit_result
build_arch() {
  local arch=$1 dir=build-pkg-$1 t flags cflags ldflags deb
  local args=(-S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr
    -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON)
  t=$(triplet_of "$arch")
  echo "== $arch: build ($dir)"
  # Debian's flags for the architecture: -O2 -g, _FORTIFY_SOURCE=2, stack protector, relro, now, and
  # on armhf 64-bit file offsets (future=+lfs: stat and readdir work on any file system; not
  # _TIME_BITS=64, which bookworm's armhf libraries are not built for). _FORTIFY_SOURCE turns some
  # snprintf calls' -Wformat-truncation on; those stay warnings.
  # shellcheck disable=SC2016 # expanded by the inner sh
  flags=$(CC="$t-gcc" DEB_BUILD_MAINT_OPTIONS="hardening=+all future=+lfs" dpkg-architecture -a"$arch" -c \
    sh -c 'echo "$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS)"; dpkg-buildflags --get LDFLAGS')
  cflags="$(sed -n 1p <<<"$flags") -Wno-error=format-truncation"
  ldflags=$(sed -n 2p <<<"$flags")
  args+=(-DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags")
  if [ "$arch" != "$native" ]; then
    lws_overlay "$arch" "$PWD/$dir/lws-dev"
    args+=(-DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-$arch.cmake" -DTWCGW_CROSS_OVERLAY="$PWD/$dir/lws-dev")
  fi
  cmake "${args[@]}" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; return 1; }
  mv "$dir.configure.log" "$dir/configure.log"
  if [ "$arch" = "$native" ]; then
    cmake --build "$dir" -j"$jobs" --target twcgw twc-sim >"$dir/build.log" 2>&1 || { tail -n 40 "$dir/build.log"; return 1; }
    sim_man_check "$dir/bin/twc-sim" || return 1
  else
    # Everything, for the unit tests.
    cmake --build "$dir" -j"$jobs" >"$dir/build.log" 2>&1 || { tail -n 40 "$dir/build.log"; return 1; }
  fi
  grep -c 'warning:' "$dir/build.log" | xargs -I{} echo "$arch: {} compiler warnings (see $dir/build.log)"

  echo "== $arch: package"
  rm -f "$dir"/twcgw_*.deb dist/twcgw_*_"$arch".deb
  (cd "$dir" && cpack -G DEB) >"$dir/cpack.log" 2>&1 || { cat "$dir/cpack.log"; return 1; }
  deb=$(ls "$dir"/twcgw_*_"$arch".deb)
  cp "$deb" dist/
  deb=dist/$(basename "$deb")
  # Only the two programs: no test binary may slip in.
  local progs
  progs=$(dpkg-deb -c "$deb" | awk '$1 ~ /^-..x/ {print $6}' | sort | tr '\n' ' ')
  if [ "$progs" != "./usr/bin/twc-sim ./usr/bin/twcgw " ]; then
    echo "package.sh: unexpected executables in $deb: $progs" >&2
    return 1
  fi

  echo "== $arch: lintian"
  local rc
  lintian --display-info --fail-on error "$deb" >"$dir/lintian.log" 2>&1 && rc=0 || rc=$?
  grep -v 'running with root privileges' "$dir/lintian.log" || echo "lintian: no tags"
  [ "$rc" = 0 ] || return 1

  if [ "$arch" != "$native" ]; then
    echo "== $arch: unit tests under qemu-user (ctest -L unit)"
    local log=$dir/ctest-unit.log
    (cd "$dir" && ctest -L unit -j"$jobs" --output-on-failure) >"$log" 2>&1 || true
    grep -E 'tests passed|\((Failed|Timeout|SEGFAULT|Child aborted)\)' "$log" || true
    unit_result[$arch]=$(grep -E 'tests passed' "$log" || echo "no summary (see $log)")
    qemu_unit_verdict "$log" "$arch" || return 1
  fi
}

start=$SECONDS
for arch in "$@"; do
  build_arch "$arch" || { echo "package.sh: $arch FAILED"; status=1; }
done

echo "== Packages (dist/), $((SECONDS - start)) s"
for arch in "$@"; do
  for f in dist/twcgw_*_"$arch".deb; do
    [ -e "$f" ] && echo "$f $(stat -c %s "$f") bytes, installed $(dpkg-deb -f "$f" Installed-Size) KiB"
  done
  [ -n "${unit_result[$arch]:-}" ] && echo "$arch unit tests (qemu): ${unit_result[$arch]}"
done
exit $status
