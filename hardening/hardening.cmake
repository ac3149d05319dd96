# Compiler and linker hardening that every OrbitNest target gets, plus
# warnings-as-errors for our own code. tests/hardening checks the result
# in the built ELF files, so a flag dropped here turns a test red.

set(CMAKE_POSITION_INDEPENDENT_CODE ON)
include(CheckPIESupported)
check_pie_supported()

set(ORBITNEST_HARDEN_COMPILE
  -fstack-protector-strong
  -fstack-clash-protection
  -fcf-protection
  -fPIE)
set(ORBITNEST_HARDEN_LINK
  -pie
  -Wl,-z,relro,-z,now,-z,noexecstack)
set(ORBITNEST_WARNINGS
  -Wall -Wextra -Wpedantic -Wformat=2 -Wformat-security -Wshadow
  -Wnon-virtual-dtor -Wcast-qual -Werror)

if(ORBITNEST_SANITIZE)
  # ASan replaces the fortified libc wrappers, so FORTIFY is off in this build.
  list(APPEND ORBITNEST_HARDEN_COMPILE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  list(APPEND ORBITNEST_HARDEN_LINK -fsanitize=address,undefined)
else()
  list(APPEND ORBITNEST_HARDEN_COMPILE -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3)
endif()

if(ORBITNEST_FUZZ)
  # Coverage instrumentation for libFuzzer in every library the fuzzers link.
  list(APPEND ORBITNEST_HARDEN_COMPILE -fsanitize=fuzzer-no-link)
endif()

# orbitnest_harden(target): hardening + our warnings. Use on every target we build.
function(orbitnest_harden target)
  target_compile_options(${target} PRIVATE ${ORBITNEST_HARDEN_COMPILE} ${ORBITNEST_WARNINGS})
  target_link_options(${target} PRIVATE ${ORBITNEST_HARDEN_LINK})
endfunction()

# orbitnest_library(name SOURCES... [LINK ...]): one static library per concern.
function(orbitnest_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_LINK})
  orbitnest_harden(${name})
endfunction()
