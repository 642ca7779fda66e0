# ctest: the checks a CMake build can run without the Swift test targets (`swift test` runs those).
#
#   kernel-syntax/<file>   each Kernels/*.cl through clang's OpenCL C 1.2 front end (-Werror), as the
#                          build's embedding step does, so a failing kernel is named by ctest too
#   tempo-bench/devices    the devices Tempo sees; with TEMPO_REQUIRE_OPENCL=1 in ctest's
#                          environment, an OpenCL device must be among them (TempoCheckDevices.cmake)
#   tempo-bench/quick      the quick suite on every device: each case is verified across devices
#                          (a mismatch exits 1), then timed
#   configure/missing-opencl  configuring without OpenCL stops with a message naming the packages
include_guard(GLOBAL)
enable_testing()

foreach(kernel IN LISTS TEMPO_KERNEL_FILES)
  cmake_path(GET kernel FILENAME kernel_name)
  add_test(NAME "kernel-syntax/${kernel_name}"
    COMMAND "${TEMPO_KERNEL_CLANG}" -x cl -cl-std=CL1.2 -fsyntax-only -Werror "${kernel}")
endforeach()

if(TARGET tempo-bench)
  add_test(NAME tempo-bench/devices
    COMMAND "${CMAKE_COMMAND}" "-DTEMPO_BENCH=$<TARGET_FILE:tempo-bench>"
            -P "${CMAKE_CURRENT_LIST_DIR}/TempoCheckDevices.cmake")
  add_test(NAME tempo-bench/quick COMMAND tempo-bench run --suite quick)
  # PoCL compiles each kernel once per machine (~0.5 s each) before its cache is warm.
  set_tests_properties(tempo-bench/quick PROPERTIES TIMEOUT 900)
endif()

# A configure of this same project with FindOpenCL disabled must fail with the apt package names.
add_test(NAME configure/missing-opencl
  COMMAND "${CMAKE_COMMAND}" -G "${CMAKE_GENERATOR}" -S "${CMAKE_CURRENT_SOURCE_DIR}"
          -B "${CMAKE_CURRENT_BINARY_DIR}/missing-opencl-check"
          "-DCMAKE_Swift_COMPILER=${CMAKE_Swift_COMPILER}"
          -DCMAKE_DISABLE_FIND_PACKAGE_OpenCL=ON -DTEMPO_BUILD_BENCH=OFF)
set_tests_properties(configure/missing-opencl PROPERTIES
  PASS_REGULAR_EXPRESSION "apt-get install ocl-icd-opencl-dev opencl-headers")
