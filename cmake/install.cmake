# What `cmake --install` and the .deb put under the prefix:
#   bin/             kiln, kilnd, kiln-agent (and kiln-dash when built)
#   share/kiln/skus, share/kiln/labs, share/kiln/testplans   the shipped data
#   share/kiln/lifecycle-policy.yaml   kilnd's default chip lifecycle policy
#                    (device/sku_search.hpp and kiln lab look there)
#   lib/systemd/system/kilnd.service, kiln-agent@.service
#   share/bash-completion/completions/kiln
#   share/doc/kiln/  README and docs
install(TARGETS kiln kilnd kiln-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET kiln-dash)
  install(TARGETS kiln-dash RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/device/skus/ DESTINATION ${CMAKE_INSTALL_DATADIR}/kiln/skus
        FILES_MATCHING PATTERN "*.yaml")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/device/labs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/kiln/labs
        FILES_MATCHING PATTERN "*.yaml")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/testplans/ DESTINATION ${CMAKE_INSTALL_DATADIR}/kiln/testplans
        FILES_MATCHING PATTERN "*.yaml")
install(FILES ${PROJECT_SOURCE_DIR}/lifecycle/default-policy.yaml DESTINATION ${CMAKE_INSTALL_DATADIR}/kiln
        RENAME lifecycle-policy.yaml)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/bash-completion/kiln DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")

# The units name the installed binaries by absolute path, so they are
# written at install time, for the prefix being installed to (cpack installs
# to /usr, `cmake --install --prefix P` to P).
foreach(unit kilnd.service kiln-agent@.service)
  install(CODE "
    set(CMAKE_INSTALL_FULL_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
    set(CMAKE_INSTALL_FULL_DATADIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}\")
    configure_file(\"${PROJECT_SOURCE_DIR}/deploy/systemd/${unit}.in\" \"${PROJECT_BINARY_DIR}/deploy/systemd/${unit}\" @ONLY)
    file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\" TYPE FILE
         FILES \"${PROJECT_BINARY_DIR}/deploy/systemd/${unit}\")")
endforeach()

# `cpack -G DEB` in the build directory: kiln_<version>_<arch>.deb.
set(CPACK_PACKAGE_NAME kiln)
set(CPACK_PACKAGE_VENDOR "Kiln")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "lab harness that validates and burns in AI accelerator chips")
set(CPACK_PACKAGE_CONTACT "Kiln maintainers <kiln@localhost>")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_STRIP_FILES ON)  # debug info stays in the build tree
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # runtime libraries from the binaries, by dpkg-shlibdeps
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/deploy/debian/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
