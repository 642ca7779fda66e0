// weight_norm.cl -- the weight of a weight-normalised layer, as PyTorch's
// torch.nn.utils.weight_norm(dim=0), for Tempo's OpenCL backend (OpenCL C 1.2).
// Semantics: Ops/WeightNorm.swift.
//
//   w[r, c] = v[r, c] * (g[r] / sqrt(sum_c v[r, c]^2))
//
// Layouts (row-major float32, every integer argument an int counted in elements):
//   v     [rows, columns]    the direction: a weight [Cout, ...] seen as Cout rows
//   g     [rows]             the length of each row (PyTorch's [Cout, 1, 1] has the same layout)
//   w     [rows, columns]    output
// The scale is g / norm, then the product, in PyTorch's order, so a row of zeros gives NaN
// (0 * (g / 0)) as PyTorch's does; sqrt and division stay IEEE (no relaxed-math build options).
//
// Two shapes, as layer_norm.cl, chosen by the host per device kind:
//   weight_norm_rows       CPU shape: one work-item per row, walking it in float16 vectors with no
//                          barrier; global (rows)
//   weight_norm_workgroup  GPU shape: one work-group per row, WEIGHT_NORM_WORKGROUP work-items
//                          striding along it, the sum of squares reduced in local memory;
//                          global (rows * WEIGHT_NORM_WORKGROUP), local (WEIGHT_NORM_WORKGROUP)
// The op runs once per weight load, not per inference step: these are simple, not tuned.

// ---------------------------------------------------------------------------------------------
// Tunables (override with -D)
// ---------------------------------------------------------------------------------------------

#ifndef WEIGHT_NORM_WORKGROUP
#define WEIGHT_NORM_WORKGROUP 256   // GPU shape: work-items per row; a power of two
#endif

#if (WEIGHT_NORM_WORKGROUP & (WEIGHT_NORM_WORKGROUP - 1)) != 0
#error "WEIGHT_NORM_WORKGROUP must be a power of two (the local reduction halves it)"
#endif

__kernel void weight_norm_rows(__global const float* v, __global const float* g, __global float* w,
                               int rows, int columns) {
    int row = get_global_id(0);
    if (row >= rows) return;
    size_t base = (size_t)row * columns;
    int vectors = columns / 16;

    float16 squares16 = (float16)(0.0f);
    for (int i = 0; i < vectors; ++i) { float16 x = vload16(i, v + base); squares16 += x * x; }
    float8 squares8 = squares16.lo + squares16.hi;
    float squares = dot(squares8.lo + squares8.hi, (float4)(1.0f));
    for (int c = 16 * vectors; c < columns; ++c) squares += v[base + c] * v[base + c];
    float scale = g[row] / sqrt(squares);

    for (int i = 0; i < vectors; ++i) vstore16(vload16(i, v + base) * scale, i, w + base);
    for (int c = 16 * vectors; c < columns; ++c) w[base + c] = v[base + c] * scale;
}

__kernel __attribute__((reqd_work_group_size(WEIGHT_NORM_WORKGROUP, 1, 1)))
void weight_norm_workgroup(__global const float* v, __global const float* g, __global float* w,
                           int rows, int columns) {
    __local float partial[WEIGHT_NORM_WORKGROUP];
    int row = get_group_id(0), lane = get_local_id(0);
    size_t base = (size_t)row * columns;

    float squares = 0.0f;
    for (int c = lane; c < columns; c += WEIGHT_NORM_WORKGROUP) squares += v[base + c] * v[base + c];
    partial[lane] = squares;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = WEIGHT_NORM_WORKGROUP / 2; stride > 0; stride >>= 1) {
        if (lane < stride) partial[lane] += partial[lane + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float scale = g[row] / sqrt(partial[0]);
    for (int c = lane; c < columns; c += WEIGHT_NORM_WORKGROUP) w[base + c] = v[base + c] * scale;
}
