# Shared part of the Debian cross toolchain files (toolchain-arm64.cmake, toolchain-armhf.cmake).
# The compiler is Debian's cross gcc (gcc-<triplet>); headers and libraries are the Multi-Arch
# :<arch> -dev packages in /usr/include and /usr/lib/<triplet>, so there is no sysroot: the root is /.
# scripts/package.sh installs all of it. The including file sets TWCGW_DEB_ARCH, TWCGW_CROSS_TRIPLET,
# TWCGW_CROSS_PROCESSOR and TWCGW_CROSS_QEMU.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${TWCGW_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${TWCGW_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${TWCGW_CROSS_TRIPLET})
# Programs found at configure time (pkg-config, node, valgrind) are the build machine's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# pkg-config sees only the target's .pc files. libwebsockets-dev is the one -dev package that is not
# Multi-Arch co-installable (its lws_config.h names the libdir), so scripts/package.sh unpacks
# libwebsockets-dev:<arch> into TWCGW_CROSS_OVERLAY (in the build directory) and links against the
# installed libwebsockets17:<arch>; its .pc comes first.
# (The environment is the whole cmake process's, and try_compile re-reads this file: pass it along.)
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TWCGW_CROSS_OVERLAY)
set(_twcgw_pc "/usr/lib/${TWCGW_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
if(TWCGW_CROSS_OVERLAY)
  set(_twcgw_pc "${TWCGW_CROSS_OVERLAY}/usr/lib/${TWCGW_CROSS_TRIPLET}/pkgconfig:${_twcgw_pc}")
endif()
set(ENV{PKG_CONFIG_LIBDIR} "${_twcgw_pc}")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
unset(_twcgw_pc)

# ctest runs the target's test programs under qemu-user (qemu-user-static). With libc6:<arch> installed
# (the -dev packages pull it in) qemu finds the loader, libc and the rest in / as the target would.
# Not -L /usr/<triplet> then: that mixes libc6-<arch>-cross's loader with libc6:<arch>'s libc, two
# builds of glibc whose private layout differs, and every fork() child spins or crashes. Only without
# libc6:<arch> does qemu need the cross libc's prefix.
if(EXISTS /usr/lib/${TWCGW_CROSS_TRIPLET}/libc.so.6)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TWCGW_CROSS_QEMU})
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TWCGW_CROSS_QEMU} -L /usr/${TWCGW_CROSS_TRIPLET})
endif()
