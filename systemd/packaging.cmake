# The Debian package (issue #14 item 1), built by CPack from this CMake:
#   cmake -S . -B build-pkg -DCMAKE_BUILD_TYPE=Release -DORBITNEST_TESTS=OFF
#   cmake --build build-pkg && (cd build-pkg && cpack -G DEB)
# What it installs, the maintainer scripts and the lintian tags that remain:
# systemd/README.md, "Debian package". tests/package checks the result in a
# clean Debian 12 root.

set(ORBITNEST_PACKAGE_RELEASE "1" CACHE STRING "Debian revision of the package: version ${PROJECT_VERSION}-<this>")
set(ORBITNEST_PACKAGE_MAINTAINER "OrbitNest maintainers <maintainers@users.noreply.r-seed-715a0aaf.example>"
    CACHE STRING "Maintainer field of the package")
option(ORBITNEST_PACKAGE_TEST
       "Register the package test (ctest -L package: root, mmdebstrap, lintian, the Debian mirror)" OFF)

# The units name /usr/libexec/orbitnest and /etc/orbitnest: the package's
# prefix is /usr (CPack's default for DEB), and a plain `cmake --install`
# installs to the same places unless told otherwise.
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "install prefix" FORCE)
endif()
include(GNUInstallDirs)

# Where Debian 12's systemd looks (its systemd.pc), with Debian 12's values
# when that is not installed.
pkg_get_variable(_unitdir systemd systemdsystemunitdir)
pkg_get_variable(_sysusersdir systemd sysusersdir)
pkg_get_variable(_tmpfilesdir systemd tmpfilesdir)
if(NOT _unitdir)
  set(_unitdir /lib/systemd/system)
endif()
if(NOT _sysusersdir)
  set(_sysusersdir /usr/lib/sysusers.d)
endif()
if(NOT _tmpfilesdir)
  set(_tmpfilesdir /usr/lib/tmpfiles.d)
endif()
set(ORBITNEST_SYSTEMD_UNITDIR "${_unitdir}" CACHE PATH "systemd system unit folder")
set(ORBITNEST_SYSUSERSDIR "${_sysusersdir}" CACHE PATH "sysusers.d folder")
set(ORBITNEST_TMPFILESDIR "${_tmpfilesdir}" CACHE PATH "tmpfiles.d folder")

set(ORBITNEST_DEB_VERSION "${PROJECT_VERSION}-${ORBITNEST_PACKAGE_RELEASE}")
set(_docdir "${CMAKE_INSTALL_DATADIR}/doc/orbitnest")
set(_pkg "${PROJECT_BINARY_DIR}/package")

# Programs: the daemons where the units run them, keydctl on the PATH.
install(TARGETS keyd authd RUNTIME DESTINATION "${CMAKE_INSTALL_LIBEXECDIR}/orbitnest")
install(TARGETS keydctl RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
# CPack strips them (CPACK_STRIP_FILES); like dh_strip, also drop the
# compilers' .comment notes, which nothing reads.
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    foreach(_f \"${CMAKE_INSTALL_LIBEXECDIR}/orbitnest/keyd\" \"${CMAKE_INSTALL_LIBEXECDIR}/orbitnest/authd\"
               \"${CMAKE_INSTALL_BINDIR}/keydctl\")
      execute_process(COMMAND \"${CMAKE_OBJCOPY}\" --remove-section=.comment \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/\${_f}\"
                      COMMAND_ERROR_IS_FATAL ANY)
    endforeach()
  endif()")

# Units, users, folders.
install(FILES "${PROJECT_SOURCE_DIR}/systemd/keyd.socket" "${PROJECT_SOURCE_DIR}/systemd/keyd.service"
              "${PROJECT_SOURCE_DIR}/systemd/authd.service"
        DESTINATION "${ORBITNEST_SYSTEMD_UNITDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/systemd/sysusers.d/orbitnest.conf" DESTINATION "${ORBITNEST_SYSUSERSDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/systemd/tmpfiles.d/orbitnest.conf" DESTINATION "${ORBITNEST_TMPFILESDIR}")

# Default configs: conffiles (systemd/debian/conffiles names them). No
# secret is in them; the PIN and the TLS key are files of their own.
install(FILES "${PROJECT_SOURCE_DIR}/config/keyd.yaml" "${PROJECT_SOURCE_DIR}/config/authd.yaml"
              "${PROJECT_SOURCE_DIR}/config/softhsm2.conf"
        DESTINATION /etc/orbitnest)

# The policy SQL (authd applies the same migrations from its own copy;
# this one is for reading and for operators' own tooling).
file(GLOB _policy_sql CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/policy/*.sql")
install(FILES ${_policy_sql} DESTINATION "${CMAKE_INSTALL_DATADIR}/orbitnest/policy")

# Manual pages and documentation, compressed as Debian policy asks
# (gzip -9n: no name or time stamp, so the package is reproducible).
set(_gz_outputs)
function(_orbitnest_gzip src dst)
  add_custom_command(OUTPUT "${dst}"
    COMMAND sh -c "gzip -9nc \"$1\" > \"$2\"" gzip "${src}" "${dst}"
    DEPENDS "${src}" VERBATIM)
  set(_gz_outputs ${_gz_outputs} "${dst}" PARENT_SCOPE)
endfunction()
file(MAKE_DIRECTORY "${_pkg}/man" "${_pkg}/doc")
foreach(_man keyd/keyd.8 keyd/keydctl.8 authd/authd.8)
  get_filename_component(_name "${_man}" NAME)
  _orbitnest_gzip("${PROJECT_SOURCE_DIR}/${_man}" "${_pkg}/man/${_name}.gz")
  install(FILES "${_pkg}/man/${_name}.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man8")
endforeach()
# source file -> name in /usr/share/doc/orbitnest (the READMEs would collide)
set(_docs
  README.md=README.md authd/API.md=API.md authd/SECURITY.md=SECURITY.md keyd/README.md=keyd.md
  keyd/PROTOCOL.md=PROTOCOL.md config/README.md=configuration.md systemd/README.md=systemd.md
  policy/README.md=policy.md)
foreach(_pair ${_docs})
  string(REPLACE "=" ";" _pair "${_pair}")
  list(GET _pair 0 _src)
  list(GET _pair 1 _dst)
  _orbitnest_gzip("${PROJECT_SOURCE_DIR}/${_src}" "${_pkg}/doc/${_dst}.gz")
  install(FILES "${_pkg}/doc/${_dst}.gz" DESTINATION "${_docdir}")
endforeach()
configure_file("${PROJECT_SOURCE_DIR}/systemd/debian/changelog.in" "${_pkg}/changelog.Debian" @ONLY)
_orbitnest_gzip("${_pkg}/changelog.Debian" "${_pkg}/doc/changelog.Debian.gz")
install(FILES "${_pkg}/doc/changelog.Debian.gz" "${PROJECT_SOURCE_DIR}/systemd/debian/copyright"
        DESTINATION "${_docdir}")
install(FILES "${PROJECT_SOURCE_DIR}/config/postgrest.conf.example" DESTINATION "${_docdir}/examples")
# The lintian tags this package accepts, each with its reason.
install(FILES "${PROJECT_SOURCE_DIR}/systemd/debian/lintian-overrides"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/lintian/overrides" RENAME orbitnest)
add_custom_target(orbitnest_package_files ALL DEPENDS ${_gz_outputs})

# CPack: one binary package, orbitnest_<version>_<arch>.deb.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME orbitnest)
set(CPACK_PACKAGE_VENDOR "OrbitNest")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${ORBITNEST_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_PACKAGE_RELEASE "${ORBITNEST_PACKAGE_RELEASE}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${ORBITNEST_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "authentication appliance with keys kept in an HSM
OrbitNest Auth serves sign-up, sign-in, sessions and multi-factor
authentication over HTTPS in the Supabase Auth (GoTrue) wire format, and
issues JWTs that PostgreSQL Row-Level Security understands (auth.uid()).
.
No signing key, pepper or MFA secret is ever in the memory of the process
that faces the internet: they stay in an HSM (PKCS#11; SoftHSM2 by
default) behind keyd, a small daemon with no network access that authd
asks over a Unix socket.
.
This package ships keyd, authd, the operators' tool keydctl, their
systemd units (keyd.socket, keyd.service, authd.service), the service
users and folders, default configurations in /etc/orbitnest and the
policy SQL.")
# Libraries from dpkg-shlibdeps; the maintainer scripts need systemd
# (systemd-sysusers, systemd-tmpfiles) and init-system-helpers
# (deb-systemd-helper, deb-systemd-invoke); procps gives /bin/kill for
# authd.service's ExecReload.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd, init-system-helpers (>= 1.54), procps")
# keyd.yaml's default module is SoftHSM2's; authd needs a PostgreSQL server,
# here or on another machine.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "softhsm2, postgresql")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${PROJECT_SOURCE_DIR}/systemd/debian/conffiles"
  "${PROJECT_SOURCE_DIR}/systemd/debian/postinst"
  "${PROJECT_SOURCE_DIR}/systemd/debian/prerm"
  "${PROJECT_SOURCE_DIR}/systemd/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_SOURCE_GENERATOR "")
include(CPack)
