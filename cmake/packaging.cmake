# Debian packages (.deb) with CPack's DEB generator. In a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr (and, for arm64/armhf, -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-<arch>.cmake):
#   cmake --build <dir> --target twcgw twc-sim && (cd <dir> && cpack -G DEB)
# scripts/package.sh does it all for amd64, arm64 and armhf and checks the result (lintian, qemu).
# The package is what the install() rules install; cmake/deb-stage.cmake then lays it out the Debian
# way in CPack's staging tree (compressed man pages and docs, copyright, changelog) so that a plain
# `cmake --install` stays as it is.
set(TWCGW_DEB_MAINTAINER "twcgw maintainers <maintainers@users.noreply.b-seed-ad25311c.example>"
    CACHE STRING "Maintainer field of the .deb")
if(NOT TWCGW_DEB_ARCH)  # the cross toolchain files set it
  execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE TWCGW_DEB_ARCH
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME twcgw)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR twcgw)
set(CPACK_PACKAGE_CONTACT "${TWCGW_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_DEBIAN_PACKAGE_NAME twcgw)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # twcgw_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "${TWCGW_DEB_ARCH}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${TWCGW_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# The synopsis, then the long description (CPack indents the continuation lines).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Tesla Wall Connector Gen 2 bus master and OCPP 1.6J charge point
twcgw runs up to three Tesla Wall Connectors (Gen 2), set to slave mode, on
one RS-485 bus and decides how much current each may offer, never more than
the wiring limits in its configuration. Without a central system it can
charge from solar surplus (Fronius, Powerwall, Enphase, SolarEdge, Home
Assistant, JSON or MQTT meters) or on a schedule; with one it is an OCPP
1.6J charge point. It can stop and start Tesla cars through the vehicle API.
.
The package holds the twcgw daemon with its systemd unit, man pages and an
example configuration, and twc-sim, a simulator of Wall Connectors with
cars for trying twcgw without the hardware.")
# adduser for the maintainer scripts; linked libraries are found by dpkg-shlibdeps. libcurl4 is named
# because twcgw dlopen()s it on first use (gateway/io/gw_curl.c), which dpkg-shlibdeps cannot see
# (7.85: CURLOPT_PROTOCOLS_STR; libcurl4t64 is its name from Debian 13 on).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, libcurl4 (>= 7.85.0) | libcurl4t64")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)

# conffiles from the install rule's own destination (/etc with the /usr prefix), and the maintainer
# scripts (user, state directory, unit enabling; see packaging/debian/).
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/debian/conffiles
     CONTENT "${CMAKE_INSTALL_FULL_SYSCONFDIR}/twcgw/twcgw.json\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Read by cpack: the prefix check, and DEB_HOST_ARCH for dpkg-shlibdeps in a cross build.
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_LIST_DIR}/cpack-project.cmake)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/deb-stage.cmake)
set(CPACK_TWCGW_SOURCE_DIR "${PROJECT_SOURCE_DIR}")
set(CPACK_TWCGW_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_TWCGW_DOCDIR "${CMAKE_INSTALL_DOCDIR}")
set(CPACK_TWCGW_MANDIR "${CMAKE_INSTALL_MANDIR}")
set(CPACK_TWCGW_DEB_ARCH "${TWCGW_DEB_ARCH}")
set(CPACK_TWCGW_CROSSCOMPILING "${CMAKE_CROSSCOMPILING}")
set(CPACK_TWCGW_STRIP "${CMAKE_STRIP}")  # the target's strip in a cross build
# The changelog's date: SOURCE_DATE_EPOCH when set (scripts/package.sh sets it from the last commit).
string(TIMESTAMP CPACK_TWCGW_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)

# `make package_source`: the tracked tree, not the build directories or packages beside it.
set(CPACK_SOURCE_GENERATOR TXZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "/dist/" "/node_modules/" "\\.swp$")

include(CPack)
