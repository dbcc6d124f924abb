# Debian arm64 (aarch64): Raspberry Pi OS 64-bit, Pi 3/4/5 and Zero 2 W, other 64-bit ARM boards.
#   cmake -S . -B build-pkg-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm64.cmake ...
# (scripts/package.sh arm64 does this and installs the cross toolchain and the :arm64 -dev packages.)
set(TWCGW_DEB_ARCH arm64)
set(TWCGW_CROSS_TRIPLET aarch64-linux-gnu)
set(TWCGW_CROSS_PROCESSOR aarch64)
set(TWCGW_CROSS_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
