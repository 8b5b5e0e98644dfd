# make package: three Debian packages built by CPack, one per program.
#   cordond      /usr/sbin/cordond, /etc/cordon/cordond.yaml, cordond.service
#   cordon-gate  /usr/bin/cordon-gate, /etc/cordon/gate.env, cordon-gate@.service
#   cordonctl    /usr/bin/cordonctl
include(GNUInstallDirs)

install(TARGETS cordond RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT cordond)
install(TARGETS cordon-gate RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cordon-gate)
install(TARGETS cordonctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cordonctl)

# Absolute /etc and /lib paths: Debian's layout, whatever the install prefix.
install(FILES deploy/etc/cordond.yaml DESTINATION /etc/cordon COMPONENT cordond)
# The campus CA script (needs the openssl command).
install(PROGRAMS deploy/pki/cordon-pki DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT cordond)
install(FILES deploy/systemd/cordond.service DESTINATION /lib/systemd/system COMPONENT cordond)
install(FILES deploy/etc/gate.env DESTINATION /etc/cordon COMPONENT cordon-gate)
install(FILES "deploy/systemd/cordon-gate@.service" DESTINATION /lib/systemd/system
        COMPONENT cordon-gate)
foreach(component cordond cordon-gate cordonctl)
  install(FILES README.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${component}
          COMPONENT ${component})
endforeach()

# Files under /etc are the administrator's: dpkg keeps their edits.
set(DEB_EXTRA ${CMAKE_BINARY_DIR}/deb-control)
file(WRITE ${DEB_EXTRA}/cordond/conffiles "/etc/cordon/cordond.yaml\n")
file(WRITE ${DEB_EXTRA}/cordon-gate/conffiles "/etc/cordon/gate.env\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cordon)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Cordon")
set(CPACK_PACKAGE_CONTACT "Cordon maintainers <cordon@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Campus access control and movement tracking")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL cordond cordon-gate cordonctl)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Library dependencies are read off the binaries (dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_CORDOND_PACKAGE_DEPENDS "openssl")
set(CPACK_DEBIAN_CORDOND_PACKAGE_NAME cordond)
set(CPACK_DEBIAN_CORDON-GATE_PACKAGE_NAME cordon-gate)
set(CPACK_DEBIAN_CORDONCTL_PACKAGE_NAME cordonctl)
set(CPACK_COMPONENT_CORDOND_DESCRIPTION
    "Cordon daemon: decides gate scans, records every movement, answers the security office")
set(CPACK_COMPONENT_CORDON-GATE_DESCRIPTION
    "Cordon gate agent: reads scans, keeps an outbox, drives the turnstile")
set(CPACK_COMPONENT_CORDONCTL_DESCRIPTION
    "Cordon command line for administrators and the security office")
set(CPACK_DEBIAN_CORDOND_PACKAGE_CONTROL_EXTRA ${DEB_EXTRA}/cordond/conffiles)
set(CPACK_DEBIAN_CORDON-GATE_PACKAGE_CONTROL_EXTRA ${DEB_EXTRA}/cordon-gate/conffiles)
include(CPack)
