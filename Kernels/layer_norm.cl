// Layer normalisation over the last axis, as PyTorch's LayerNorm:
// out[r, c] = (x[r, c] - mean_r) / sqrt(var_r + epsilon) * gamma[c] + beta[c], var biased (divide by columns).
//
// Layout: x and out are [rows, columns] row-major; gamma and beta are [columns]. HAS_GAMMA / HAS_BETA
// are passed as kernel arguments (0 or 1) so that one program serves layers with and without them.
// Mean and variance are computed in two passes (mean first, then squared deviations), which keeps
// precision for rows with a large mean, where the one-pass E[x^2] - E[x]^2 cancels badly; and the
// mean is summed relative to the row's first element, so a large common offset (values ~100
// with spread ~1) does not cost the sum its low digits either.
// Two shapes, as softmax.cl: layer_norm_rows (one work-item per row; global (rows)) for CPU devices,
// layer_norm_workgroup (LAYER_NORM_WORKGROUP work-items per row; global rows*LAYER_NORM_WORKGROUP,
// local LAYER_NORM_WORKGROUP) for GPUs.

#ifndef LAYER_NORM_WORKGROUP
#define LAYER_NORM_WORKGROUP 256   // work-items per row in the GPU shape; a power of two
#endif

inline float sum_of16(float16 v) {
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.x + c.y;
}

// The CPU shape walks its row in float16 vectors (see softmax.cl for why).
__kernel void layer_norm_rows(__global const float* x, __global const float* gamma, __global const float* beta,
                              __global float* out, int rows, int columns, float epsilon,
                              int hasGamma, int hasBeta) {
    int row = get_global_id(0);
    if (row >= rows) return;
    __global const float* in = x + (size_t)row * columns;
    __global float* o = out + (size_t)row * columns;
    int full = columns & ~15;

    float shift = in[0];
    float16 sums = (float16)(0.0f);
    for (int c = 0; c < full; c += 16) sums += vload16(0, in + c) - shift;
    float sum = sum_of16(sums);
    for (int c = full; c < columns; ++c) sum += in[c] - shift;
    float mean = shift + sum / columns;

    float16 squares16 = (float16)(0.0f);
    for (int c = 0; c < full; c += 16) { float16 d = vload16(0, in + c) - mean; squares16 += d * d; }
    float squares = sum_of16(squares16);
    for (int c = full; c < columns; ++c) { float d = in[c] - mean; squares += d * d; }
    float inverseDeviation = rsqrt(squares / columns + epsilon);

    for (int c = 0; c < full; c += 16) {
        float16 y = (vload16(0, in + c) - mean) * inverseDeviation;
        if (hasGamma) y *= vload16(0, gamma + c);
        if (hasBeta) y += vload16(0, beta + c);
        vstore16(y, 0, o + c);
    }
    for (int c = full; c < columns; ++c) {
        float y = (in[c] - mean) * inverseDeviation;
        if (hasGamma) y *= gamma[c];
        if (hasBeta) y += beta[c];
        o[c] = y;
    }
}

inline float workgroup_sum(__local float* partial, float value, int lane) {
    partial[lane] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = LAYER_NORM_WORKGROUP / 2; stride > 0; stride >>= 1) {
        if (lane < stride) partial[lane] += partial[lane + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = partial[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

__kernel __attribute__((reqd_work_group_size(LAYER_NORM_WORKGROUP, 1, 1)))
void layer_norm_workgroup(__global const float* x, __global const float* gamma, __global const float* beta,
                          __global float* out, int rows, int columns, float epsilon,
                          int hasGamma, int hasBeta) {
    __local float partial[LAYER_NORM_WORKGROUP];
    int row = get_group_id(0);
    int lane = get_local_id(0);
    __global const float* in = x + (size_t)row * columns;
    __global float* o = out + (size_t)row * columns;

    float shift = in[0];
    float sum = 0.0f;
    for (int c = lane; c < columns; c += LAYER_NORM_WORKGROUP) sum += in[c] - shift;
    float mean = shift + workgroup_sum(partial, sum, lane) / columns;
    float squares = 0.0f;
    for (int c = lane; c < columns; c += LAYER_NORM_WORKGROUP) { float d = in[c] - mean; squares += d * d; }
    float inverseDeviation = rsqrt(workgroup_sum(partial, squares, lane) / columns + epsilon);
    for (int c = lane; c < columns; c += LAYER_NORM_WORKGROUP) {
        float y = (in[c] - mean) * inverseDeviation;
        if (hasGamma) y *= gamma[c];
        if (hasBeta) y += beta[c];
        o[c] = y;
    }
}
