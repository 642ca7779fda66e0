# Finds the two system libraries Tempo's device layer is built on: the OpenCL ICD loader and headers
# through CMake's FindOpenCL (find_package(OpenCL)), and OpenBLAS through pkg-config (`openblas`, as
# the `CBLAS` system-library target of Package.swift does). It defines two imported targets:
#
#   TempoSystem::OpenCL    libOpenCL + the directory of <CL/cl.h>
#   TempoSystem::OpenBLAS  libopenblas + the directory of <cblas.h>
#
# This file is used twice: by cmake/CMakeLists.txt when Tempo is built, and by the installed
# TempoConfig.cmake when a consumer calls find_package(Tempo), because the exported COpenCL/CBLAS
# targets name these imported targets and a consumer's machine must resolve them itself.
#
# Why imported targets rather than raw -I/-l flags: CMake passes a target's include directories to
# swiftc as `-I DIR`, and swiftc hands every `-I` to its Clang importer as a header search path too,
# so `#include <cblas.h>` in Sources/CBLAS/shim.h finds OpenBLAS's header (Debian keeps it in
# /usr/include/x86_64-linux-gnu/openblas-pthread) without any -Xcc.

include_guard(GLOBAL)

# CMake drops a compiler's implicit include directories for C, but knows none for Swift, and an
# explicit `-I /usr/include` would put the system headers ahead of Clang's own in the Swift Clang
# importer's search order. They are searched anyway: leave them out.
function(_tempo_without_system_includes output)
  set(kept "")
  foreach(dir IN LISTS ARGN)
    cmake_path(NORMAL_PATH dir)
    string(REGEX REPLACE "(.)/$" "\\1" dir "${dir}")
    if(NOT dir MATCHES "^/usr(/local)?/include$")
      list(APPEND kept "${dir}")
    endif()
  endforeach()
  set(${output} "${kept}" PARENT_SCOPE)
endfunction()

function(_tempo_make_opencl_target)
  if(TARGET TempoSystem::OpenCL)
    return()
  endif()
  _tempo_without_system_includes(include_dirs ${OpenCL_INCLUDE_DIRS})
  add_library(TempoSystem::OpenCL INTERFACE IMPORTED)
  set_target_properties(TempoSystem::OpenCL PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${include_dirs}"
    INTERFACE_LINK_LIBRARIES "${OpenCL_LIBRARIES}")
endfunction()

function(_tempo_make_openblas_target)
  if(TARGET TempoSystem::OpenBLAS)
    return()
  endif()
  _tempo_without_system_includes(include_dirs ${TEMPO_OPENBLAS_INCLUDE_DIRS})
  # Other CFLAGS (defines, say) mean nothing to swiftc itself: give them to Clang with -Xcc.
  set(options "")
  foreach(flag IN LISTS TEMPO_OPENBLAS_CFLAGS_OTHER)
    list(APPEND options
      "$<$<COMPILE_LANGUAGE:Swift>:SHELL:-Xcc ${flag}>"
      "$<$<NOT:$<COMPILE_LANGUAGE:Swift>>:${flag}>")
  endforeach()
  add_library(TempoSystem::OpenBLAS INTERFACE IMPORTED)
  set_target_properties(TempoSystem::OpenBLAS PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${include_dirs}"
    INTERFACE_COMPILE_OPTIONS "${options}"
    INTERFACE_LINK_LIBRARIES "${TEMPO_OPENBLAS_LINK_LIBRARIES}")
endfunction()

# `mode` is REQUIRED (Tempo's own build: stop with a message naming the Debian packages) or QUIET
# (TempoConfig.cmake: report "not found" through Tempo_NOT_FOUND_MESSAGE instead).
# FindOpenCL checks the header's version with a C compile, so it needs C or C++ enabled. Tempo's own
# build has C; a Swift-only consumer of the installed package may not, and without C CMake does not
# know the multiarch library directory either (/usr/lib/x86_64-linux-gnu), so there the ICD loader's
# pkg-config module (`OpenCL`, shipped by ocl-icd-opencl-dev) answers instead.
macro(_tempo_find_opencl)
  get_property(_tempo_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if("C" IN_LIST _tempo_languages OR "CXX" IN_LIST _tempo_languages)
    find_package(OpenCL QUIET)
  elseif(PKG_CONFIG_FOUND)
    pkg_check_modules(TEMPO_OPENCL_PC QUIET OpenCL)
    if(TEMPO_OPENCL_PC_FOUND)
      set(OpenCL_FOUND TRUE)
      set(OpenCL_INCLUDE_DIRS "${TEMPO_OPENCL_PC_INCLUDE_DIRS}")
      set(OpenCL_LIBRARIES "${TEMPO_OPENCL_PC_LINK_LIBRARIES}")
    endif()
  endif()
endmacro()

macro(tempo_find_system_libraries mode)
  find_package(PkgConfig QUIET)
  _tempo_find_opencl()
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(TEMPO_OPENBLAS QUIET openblas)
  endif()

  set(TEMPO_SYSTEM_LIBRARIES_MISSING "")
  if(OpenCL_FOUND)
    _tempo_make_opencl_target()
  else()
    list(APPEND TEMPO_SYSTEM_LIBRARIES_MISSING
      "OpenCL (headers and ICD loader): apt-get install ocl-icd-opencl-dev opencl-headers")
  endif()
  if(NOT PKG_CONFIG_FOUND)
    list(APPEND TEMPO_SYSTEM_LIBRARIES_MISSING "pkg-config, which finds OpenBLAS: apt-get install pkg-config")
  elseif(TEMPO_OPENBLAS_FOUND)
    _tempo_make_openblas_target()
  else()
    list(APPEND TEMPO_SYSTEM_LIBRARIES_MISSING
      "OpenBLAS (pkg-config module openblas): apt-get install libopenblas-dev")
  endif()

  if(TEMPO_SYSTEM_LIBRARIES_MISSING AND "${mode}" STREQUAL "REQUIRED")
    list(JOIN TEMPO_SYSTEM_LIBRARIES_MISSING "\n  " _tempo_missing_lines)
    message(FATAL_ERROR
      "Tempo needs libraries this machine does not have:\n  ${_tempo_missing_lines}\n"
      "On Debian or Ubuntu, scripts/setup installs all of them.")
  endif()
endmacro()
