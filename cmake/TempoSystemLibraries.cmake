# Finds the two system libraries Tempo's device layer is built on, the OpenCL ICD loader and
# OpenBLAS, through pkg-config, exactly as SwiftPM does for the `COpenCL` and `CBLAS` system-library
# targets (`pkgConfig: "OpenCL"` and `pkgConfig: "openblas"` in Package.swift).
#
# It defines the imported targets PkgConfig::TEMPO_OPENCL and PkgConfig::TEMPO_OPENBLAS. This file
# is used twice: by cmake/CMakeLists.txt when Tempo is built, and by the installed TempoConfig.cmake
# when a consumer calls find_package(Tempo), because the exported COpenCL/CBLAS targets name these
# imported targets and a consumer's machine must resolve them against its own pkg-config.
#
# Why imported targets rather than raw -I/-l flags: CMake passes a target's include directories to
# swiftc as `-I DIR`, and swiftc hands every `-I` to its Clang importer as a header search path too,
# so `#include <cblas.h>` in Sources/CBLAS/shim.h finds OpenBLAS's header (Debian keeps it in
# /usr/include/x86_64-linux-gnu/openblas-pthread) without any -Xcc. Anything else pkg-config
# reports as CFLAGS (defines, say) means nothing to swiftc itself, so it is rewritten below into
# `-Xcc FLAG` for Swift compiles.

include_guard(GLOBAL)

# Turns pkg-config's answer into flags swiftc understands, on the imported target that
# pkg_check_modules made. Always rebuilt from pkg-config's variables, so it is idempotent (a second
# find_package(Tempo) does not wrap the flags twice).
function(_tempo_adapt_for_swift prefix)
  # Newer CMake asks pkg-config to keep system directories (PKG_CONFIG_ALLOW_SYSTEM_CFLAGS), so
  # ocl-icd's `-I/usr/include` comes back. CMake drops a compiler's implicit include directories
  # for C, but knows none for Swift, and an explicit `-I /usr/include` would put the system headers
  # ahead of Clang's own in the Swift Clang importer's search order. It is searched anyway: drop it.
  set(include_dirs "")
  foreach(dir IN LISTS ${prefix}_INCLUDE_DIRS)
    cmake_path(NORMAL_PATH dir)
    string(REGEX REPLACE "(.)/$" "\\1" dir "${dir}")
    if(NOT dir MATCHES "^/usr(/local)?/include$")
      list(APPEND include_dirs "${dir}")
    endif()
  endforeach()
  set_property(TARGET PkgConfig::${prefix} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${include_dirs}")

  # Other CFLAGS (defines, say) mean nothing to swiftc itself: give them to Clang with -Xcc.
  set(options "")
  foreach(flag IN LISTS ${prefix}_CFLAGS_OTHER)
    list(APPEND options
      "$<$<COMPILE_LANGUAGE:Swift>:SHELL:-Xcc ${flag}>"
      "$<$<NOT:$<COMPILE_LANGUAGE:Swift>>:${flag}>")
  endforeach()
  set_property(TARGET PkgConfig::${prefix} PROPERTY INTERFACE_COMPILE_OPTIONS "${options}")
endfunction()

# `required` is REQUIRED or QUIET, so that TempoConfig.cmake can report "not found" politely.
macro(tempo_find_system_libraries required)
  find_package(PkgConfig ${required})
  if(PKG_CONFIG_FOUND)
    # Package names as in Package.swift; apt packages: ocl-icd-opencl-dev opencl-headers libopenblas-dev.
    pkg_check_modules(TEMPO_OPENCL ${required} IMPORTED_TARGET OpenCL)
    pkg_check_modules(TEMPO_OPENBLAS ${required} IMPORTED_TARGET openblas)
    foreach(_tempo_pc IN ITEMS TEMPO_OPENCL TEMPO_OPENBLAS)
      if(TARGET PkgConfig::${_tempo_pc})
        _tempo_adapt_for_swift(${_tempo_pc})
      endif()
    endforeach()
  endif()
endmacro()
