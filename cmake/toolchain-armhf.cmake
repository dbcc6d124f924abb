# Debian armhf (ARMv7-A, hard float): Raspberry Pi OS 32-bit on a Pi 2/3/4/5 or Zero 2 W. Not ARMv6
# (Pi 1, Zero, Zero W): Debian's armhf baseline is ARMv7; build from source there.
#   cmake -S . -B build-pkg-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armhf.cmake ...
# (scripts/package.sh armhf does this and installs the cross toolchain and the :armhf -dev packages.)
set(TWCGW_DEB_ARCH armhf)
set(TWCGW_CROSS_TRIPLET arm-linux-gnueabihf)
set(TWCGW_CROSS_PROCESSOR arm)
set(TWCGW_CROSS_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
