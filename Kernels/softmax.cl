// Softmax over the last axis: out[r, :] = exp(x[r, :] - max) / sum(exp(x[r, :] - max)).
//
// Layout: x and out are [rows, columns] row-major.
// Two shapes, chosen by device kind (see Sources/TempoCompute/OpenCL/OpenCLTunables.swift):
//  - softmax_rows: one work-item per row, three passes over the row in float16 vectors.
//    Barrier-free, the shape an OpenCL CPU device (PoCL) runs well. Global size: (rows).
//  - softmax_workgroup: one work-group of SOFTMAX_WORKGROUP work-items per row, reductions through
//    local memory. The GPU shape. Global size: (rows * SOFTMAX_WORKGROUP), local (SOFTMAX_WORKGROUP).
// A row of -inf gives NaN, as in PyTorch.

#ifndef SOFTMAX_WORKGROUP
#define SOFTMAX_WORKGROUP 256   // work-items per row in the GPU shape; a power of two
#endif

inline float max_of16(float16 v) {
    float8 a = fmax(v.lo, v.hi);
    float4 b = fmax(a.lo, a.hi);
    float2 c = fmax(b.lo, b.hi);
    return fmax(c.x, c.y);
}

inline float sum_of16(float16 v) {
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.x + c.y;
}

// The CPU shape walks its row in float16 vectors: PoCL vectorises across work-items otherwise,
// which here would mean one row per lane and gathers at a stride of `columns`.
__kernel void softmax_rows(__global const float* x, __global float* out, int rows, int columns) {
    int row = get_global_id(0);
    if (row >= rows) return;
    __global const float* in = x + (size_t)row * columns;
    __global float* o = out + (size_t)row * columns;
    int full = columns & ~15;

    float16 maxima = (float16)(-INFINITY);
    for (int c = 0; c < full; c += 16) maxima = fmax(maxima, vload16(0, in + c));
    float maximum = max_of16(maxima);
    for (int c = full; c < columns; ++c) maximum = fmax(maximum, in[c]);

    float16 sums = (float16)(0.0f);
    for (int c = 0; c < full; c += 16) {
        float16 e = exp(vload16(0, in + c) - maximum);
        vstore16(e, 0, o + c);
        sums += e;
    }
    float sum = sum_of16(sums);
    for (int c = full; c < columns; ++c) { float e = exp(in[c] - maximum); o[c] = e; sum += e; }

    float inverse = 1.0f / sum;
    for (int c = 0; c < full; c += 16) vstore16(vload16(0, o + c) * inverse, 0, o + c);
    for (int c = full; c < columns; ++c) o[c] *= inverse;
}

__kernel __attribute__((reqd_work_group_size(SOFTMAX_WORKGROUP, 1, 1)))
void softmax_workgroup(__global const float* x, __global float* out, int rows, int columns) {
    __local float partial[SOFTMAX_WORKGROUP];
    int row = get_group_id(0);
    int lane = get_local_id(0);
    __global const float* in = x + (size_t)row * columns;
    __global float* o = out + (size_t)row * columns;

    float maximum = -INFINITY;
    for (int c = lane; c < columns; c += SOFTMAX_WORKGROUP) maximum = fmax(maximum, in[c]);
    partial[lane] = maximum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = SOFTMAX_WORKGROUP / 2; stride > 0; stride >>= 1) {
        if (lane < stride) partial[lane] = fmax(partial[lane], partial[lane + stride]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    maximum = partial[0];
    barrier(CLK_LOCAL_MEM_FENCE);

    float sum = 0.0f;
    for (int c = lane; c < columns; c += SOFTMAX_WORKGROUP) { float e = exp(in[c] - maximum); o[c] = e; sum += e; }
    partial[lane] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = SOFTMAX_WORKGROUP / 2; stride > 0; stride >>= 1) {
        if (lane < stride) partial[lane] += partial[lane + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float inverse = 1.0f / partial[0];
    // Each work-item rescales exactly the elements it wrote, so no barrier is needed on `o`.
    for (int c = lane; c < columns; c += SOFTMAX_WORKGROUP) o[c] *= inverse;
}
