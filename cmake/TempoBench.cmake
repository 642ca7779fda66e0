# tempo-bench, built by CMake: the kernel benchmark runner (Benchmarks/TempoBench +
# Benchmarks/TempoBenchCore) and the one package it needs, swift-argument-parser.
#
# SwiftPM resolves swift-argument-parser from Package.swift; here FetchContent clones the same
# package at the version Package.swift allows (1.5.0 and later; 1.8.2 is the tested one) and this
# file builds its two modules itself as static libraries, linked into tempo-bench only: nothing of
# it is installed, and its own CMakeLists (examples, tests, install rules) is not used. Offline,
# point -DFETCHCONTENT_SOURCE_DIR_SWIFT_ARGUMENT_PARSER=DIR at a checkout (SwiftPM leaves one in
# .build/checkouts/swift-argument-parser).
include_guard(GLOBAL)
include(FetchContent)

set(TEMPO_ARGUMENT_PARSER_REPOSITORY "https://github.com/apple/swift-argument-parser.git"
  CACHE STRING "Git repository of swift-argument-parser, needed by tempo-bench")
set(TEMPO_ARGUMENT_PARSER_TAG "1.8.2" CACHE STRING "swift-argument-parser version to build tempo-bench with")

FetchContent_Declare(swift_argument_parser
  GIT_REPOSITORY "${TEMPO_ARGUMENT_PARSER_REPOSITORY}"
  GIT_TAG "${TEMPO_ARGUMENT_PARSER_TAG}"
  GIT_SHALLOW TRUE)
FetchContent_GetProperties(swift_argument_parser)
if(NOT swift_argument_parser_POPULATED)
  FetchContent_Populate(swift_argument_parser)
endif()

# Modules that are linked into tempo-bench and never installed get a directory of their own, so
# that the installed swift/ directory holds Tempo's modules only.
set(TEMPO_BENCH_SWIFTMODULE_DIR "${PROJECT_BINARY_DIR}/swift-bench")

# A static Swift library from every *.swift under `directory`, in SwiftPM package `package`.
function(_tempo_add_static_swift_module name directory package)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS "${directory}/*.swift")
  add_library(${name} STATIC ${sources})
  set_target_properties(${name} PROPERTIES
    Swift_MODULE_NAME ${name}
    Swift_MODULE_DIRECTORY "${TEMPO_BENCH_SWIFTMODULE_DIR}"
    ARCHIVE_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/bench-lib"
    POSITION_INDEPENDENT_CODE ON)
  target_compile_options(${name} PRIVATE "SHELL:-package-name ${package}")
  target_include_directories(${name} PUBLIC "${TEMPO_BENCH_SWIFTMODULE_DIR}")
  _tempo_touch_outputs_after_link(${name})
endfunction()

_tempo_add_static_swift_module(ArgumentParserToolInfo
  "${swift_argument_parser_SOURCE_DIR}/Sources/ArgumentParserToolInfo" swift_argument_parser)
_tempo_add_static_swift_module(ArgumentParser
  "${swift_argument_parser_SOURCE_DIR}/Sources/ArgumentParser" swift_argument_parser)
target_link_libraries(ArgumentParser PUBLIC ArgumentParserToolInfo)
# A dependency's warnings are its maintainers' to fix; SwiftPM hides them the same way.
target_compile_options(ArgumentParserToolInfo PRIVATE -suppress-warnings)
target_compile_options(ArgumentParser PRIVATE -suppress-warnings)

_tempo_add_static_swift_module(TempoBenchCore "${TEMPO_ROOT}/Benchmarks/TempoBenchCore" Tempo)
target_link_libraries(TempoBenchCore PUBLIC Tempo ArgumentParser)

add_executable(tempo-bench "${TEMPO_ROOT}/Benchmarks/TempoBench/main.swift")
set_target_properties(tempo-bench PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/bin"
  # Installed as PREFIX/bin/tempo-bench beside PREFIX/lib/libTempo*.so.
  INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
target_compile_options(tempo-bench PRIVATE "SHELL:-package-name Tempo")
target_link_libraries(tempo-bench PRIVATE TempoBenchCore)
if(CMAKE_VERSION VERSION_LESS 3.26)
  # As for TempoKernelEmbedder in CMakeLists.txt: CMake 3.25 expects a module it never asks for.
  target_compile_options(tempo-bench PRIVATE
    "SHELL:-emit-module -emit-module-path ${CMAKE_CURRENT_BINARY_DIR}/tempo-bench.swiftmodule")
endif()
_tempo_touch_outputs_after_link(tempo-bench)

install(TARGETS tempo-bench RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
