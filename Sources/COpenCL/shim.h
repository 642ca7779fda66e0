#ifndef TEMPO_COPENCL_SHIM_H
#define TEMPO_COPENCL_SHIM_H
// Tempo targets the OpenCL 1.2 host API: every OpenCL driver in use implements it, and the
// 2.x/3.x additions (SVM, pipes) are not needed by the kernels.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#endif
