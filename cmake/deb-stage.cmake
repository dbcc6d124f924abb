# CPACK_PRE_BUILD_SCRIPTS (cmake/packaging.cmake): runs on CPack's staging tree, after the install()
# rules and before the .deb is made, and lays the tree out as Debian policy wants: man pages and the
# larger docs gzipped (-n, no name or time stamp: reproducible), the copyright file and a changelog in
# /usr/share/doc/twcgw, twc-sim's man page, the programs stripped as dh_strip does. `cmake --install`
# itself is left as it is.
if(NOT CPACK_GENERATOR STREQUAL "DEB")
  return()
endif()
set(root "${CPACK_TEMPORARY_DIRECTORY}")
set(prefix "${root}${CPACK_PACKAGING_INSTALL_PREFIX}")
if(NOT EXISTS "${prefix}/bin/twcgw")
  message(FATAL_ERROR "deb-stage: no ${prefix}/bin/twcgw in the staging tree")
endif()

function(twcgw_gzip file)
  execute_process(COMMAND gzip -9nf "${file}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "deb-stage: gzip ${file} failed")
  endif()
endfunction()

# The programs, stripped of their debug info, symbol table, .comment and .note like dh_strip.
foreach(p twcgw twc-sim)
  execute_process(COMMAND "${CPACK_TWCGW_STRIP}" --remove-section=.comment --remove-section=.note
                          --strip-unneeded "${prefix}/bin/${p}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "deb-stage: ${CPACK_TWCGW_STRIP} ${p} failed")
  endif()
endforeach()

file(COPY "${CPACK_TWCGW_SOURCE_DIR}/packaging/debian/twc-sim.1"
     DESTINATION "${prefix}/${CPACK_TWCGW_MANDIR}/man1")
file(GLOB man_pages "${prefix}/${CPACK_TWCGW_MANDIR}/man*/*")
foreach(f IN LISTS man_pages)
  if(NOT f MATCHES "\\.gz$")
    twcgw_gzip("${f}")
  endif()
endforeach()

set(doc "${prefix}/${CPACK_TWCGW_DOCDIR}")
file(GLOB docs "${doc}/*")
foreach(f IN LISTS docs)
  file(SIZE "${f}" size)
  if(size GREATER 4096 AND NOT f MATCHES "\\.gz$")
    twcgw_gzip("${f}")
  endif()
endforeach()

file(COPY "${CPACK_TWCGW_SOURCE_DIR}/packaging/debian/copyright" DESTINATION "${doc}"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
# A native package's changelog: one entry for this version.
file(WRITE "${doc}/changelog" "twcgw (${CPACK_PACKAGE_VERSION}) unstable; urgency=medium

  * twcgw ${CPACK_PACKAGE_VERSION}, built from its source tree with CPack
    (scripts/package.sh). The project's history is its git log.

 -- ${CPACK_DEBIAN_PACKAGE_MAINTAINER}  ${CPACK_TWCGW_DATE}
")
twcgw_gzip("${doc}/changelog")

# Files 0644, directories and programs 0755, whatever the umask was.
file(GLOB_RECURSE all LIST_DIRECTORIES true "${root}/*")
foreach(f IN LISTS all)
  if(IS_DIRECTORY "${f}" OR f MATCHES "/bin/[^/]+$")
    file(CHMOD "${f}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                  WORLD_READ WORLD_EXECUTE)
  else()
    file(CHMOD "${f}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
endforeach()
