# CPACK_PROJECT_CONFIG_FILE (cmake/packaging.cmake): run by cpack for each generator.
if(CPACK_GENERATOR STREQUAL "DEB")
  # The maintainer scripts and the unit name /etc/twcgw and /usr/bin: the package needs the /usr prefix.
  if(NOT CPACK_TWCGW_INSTALL_PREFIX STREQUAL "/usr")
    message(FATAL_ERROR "twcgw: the .deb needs a build configured with -DCMAKE_INSTALL_PREFIX=/usr "
                        "(this one has ${CPACK_TWCGW_INSTALL_PREFIX}); see scripts/package.sh")
  endif()
  # dpkg-shlibdeps looks in /usr/lib/<triplet> and uses <triplet>-objdump for the host architecture.
  if(CPACK_TWCGW_CROSSCOMPILING)
    set(ENV{DEB_HOST_ARCH} "${CPACK_TWCGW_DEB_ARCH}")
  endif()
endif()
