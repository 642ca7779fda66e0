# ctest script: runs `tempo-bench devices` and, when TEMPO_REQUIRE_OPENCL=1 is set for the test run
# (CI sets it), fails unless an OpenCL device is listed, so the quick suite cannot silently run on
# the CPU alone.
#   cmake -DTEMPO_BENCH=/path/to/tempo-bench -P TempoCheckDevices.cmake
execute_process(COMMAND "${TEMPO_BENCH}" devices OUTPUT_VARIABLE listing RESULT_VARIABLE status)
message("${listing}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "tempo-bench devices exited with ${status}")
endif()
if("$ENV{TEMPO_REQUIRE_OPENCL}" STREQUAL "1" AND NOT listing MATCHES "\nopencl:0 ")
  message(FATAL_ERROR "TEMPO_REQUIRE_OPENCL=1 but tempo-bench lists no OpenCL device (install pocl-opencl-icd)")
endif()
