// vector_math.h -- tanh, sigmoid, exp, exp2 and GELU on 16 floats at once, branch-free. Under
// AVX-512 each vector is one register; under AVX2 or SSE, clang splits it.
#ifndef TEMPO_VECTOR_MATH_H
#define TEMPO_VECTOR_MATH_H

#include "tempo_cpu.h"

#include <stdint.h>

typedef float v16 __attribute__((ext_vector_type(16)));
typedef float v16_unaligned __attribute__((ext_vector_type(16), aligned(4)));
typedef int32_t vi16 __attribute__((ext_vector_type(16)));

// Every v16 function is inlined into the per-CPU clones of its caller, so the vector ABI that
// -Wpsabi warns about never applies.
#pragma clang diagnostic ignored "-Wpsabi"

#define TEMPO_INLINE static inline __attribute__((always_inline))

TEMPO_INLINE v16 v16_tanh(v16 x) {
    // A 13/6 rational minimax approximation on [-7.9053, 7.9053] (beyond it tanh rounds to +-1 in
    // float), as Eigen's fast tanh: one division and no exp. Error below 4e-7 everywhere.
    const v16 c = __builtin_elementwise_min(__builtin_elementwise_max(x, (v16)-7.90531110763549805f), (v16)7.90531110763549805f);
    const v16 z = c * c;
    v16 p = (v16)-2.76076847742355e-16f;
    p = p * z + 2.00018790482477e-13f;
    p = p * z - 8.60467152213735e-11f;
    p = p * z + 5.12229709037114e-08f;
    p = p * z + 1.48572235717979e-05f;
    p = p * z + 6.37261928875436e-04f;
    p = p * z + 4.89352455891786e-03f;
    v16 q = (v16)1.19825839466702e-06f;
    q = q * z + 1.18534705686654e-04f;
    q = q * z + 2.26843463243900e-03f;
    q = q * z + 4.89352518554385e-03f;
    return c * p / q;
}

/// sigmoid(x) = (1 + tanh(x/2)) / 2: absolute error below 2e-7.
TEMPO_INLINE v16 v16_sigmoid(v16 x) { return 0.5f + 0.5f * v16_tanh(0.5f * x); }

TEMPO_INLINE v16 v16_relu(v16 x) { return __builtin_elementwise_max(x, (v16)0.0f); }

/// `mask ? a : b` per lane (mask lanes all ones or all zeros, as comparisons give them).
TEMPO_INLINE v16 v16_select(vi16 mask, v16 a, v16 b) {
    return (v16)((mask & (vi16)a) | (~mask & (vi16)b));
}

/// max(x, 0) with NaN kept (as torch.relu) and relu(-0) = +0.
TEMPO_INLINE v16 v16_relu_keeping_nan(v16 x) {
    return (v16)((vi16)x & ((x > 0.0f) | (x != x)));
}

/// e^x for x in [-88, 88.7] (clamped there, NaN kept), the method of the Swift VectorMath's
/// `expFlushingExtremes`: x = k ln2 + r by Cody-Waite reduction, e^r from a degree-6 polynomial
/// (relative error ~1e-7), 2^k from its bits. Results below ~1.8e-38 flush to 0.
TEMPO_INLINE v16 v16_exp(v16 x) {
    x = v16_select(x > 88.7f, (v16)88.7f, x);
    x = v16_select(x < -88.0f, (v16)-88.0f, x);
    const v16 magic = (v16)12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    const v16 t = x * 1.44269504f + magic;
    const v16 kf = t - magic;
    const vi16 k = (vi16)t - (vi16)magic;
    const v16 r = (x - kf * 0.693145751953125f) - kf * 1.428606765330187045e-6f;
    v16 p = (v16)1.3814320554956794e-3f;
    p = p * r + 8.368851616978645e-3f;
    p = p * r + 4.1668400168418884e-2f;
    p = p * r + 1.666651964187622e-1f;
    p = p * r + 4.999999403953552e-1f;
    return (p * (r * r) + r + 1.0f) * (v16)((k + 127) << 23);
}

/// Exact GELU, x Phi(x) with Phi = 0.5 (1 + erf(x / sqrt 2)), from the Swift VectorMath's pieces:
/// an odd polynomial for erf below |z| = 0.625, erfc(t) = e^(h(t) - t^2) above (Phi taken directly
/// as 0.5 erfc for negative x, with no cancellation). Absolute error ~1e-7 max(1, |x|).
TEMPO_INLINE v16 v16_gelu(v16 x) {
    const v16 z = x * 0.70710678118654752f;
    const v16 t = (v16)((vi16)z & 0x7FFFFFFF);
    const v16 s = z * z;
    v16 small = (v16)4.455444402992725e-3f;
    small = small * s - 2.6609322056174278e-2f;
    small = small * s + 1.1280226707458496e-1f;
    small = small * s - 3.7612465023994446e-1f;
    small = small * s + 1.2837915122509003e-1f;
    small = 0.5f + 0.5f * (small * z + z);
    v16 h = (v16)2.1999421005602926e-4f;
    h = h * t - 3.2663638703525066e-3f;
    h = h * t + 2.306494489312172e-2f;
    h = h * t - 1.0556367039680481e-1f;
    h = h * t + 3.645578920841217e-1f;
    h = h * t - 1.128639817237854f;
    h = h * t + 2.159158611902967e-5f;
    const v16 half_tail = v16_select(t >= 4.0f, (v16)0.0f, 0.5f * v16_exp(h - t * t));
    const v16 large = v16_select(z < 0.0f, half_tail, 1.0f - half_tail);
    return x * v16_select(t < 0.625f, small, large);
}

/// GELU with PyTorch's tanh approximation, as x sigmoid(2u) = x / (1 + e^(-2u)).
TEMPO_INLINE v16 v16_gelu_tanh(v16 x) {
    return x / (1.0f + v16_exp(x * (-1.5957691216057307f + -0.0713548162728487f * (x * x))));
}

/// 2^x, relative error below 3e-7 for x in [-126, 127]; exactly 0 below -127 and for -inf (and
/// NaN), so that a masked score (-inf) weighs nothing and a fully masked softmax row sums to 0.
/// Larger x saturate at 2^127 (attention only ever asks for x <= 8). 12 vector operations.
TEMPO_INLINE v16 v16_exp2(v16 x) {
    const v16 c = __builtin_elementwise_min(__builtin_elementwise_max(x, (v16)-127.0f), (v16)127.0f);
    // 2^x = 2^n * 2^f with n = round(x) and f in [-0.5, 0.5]. Adding 1.5 * 2^23 rounds c to an
    // integer in the low mantissa bits of t (|c| < 2^22), so n costs two adds and 2^n is
    // (bits(t) + 127) << 23 (the bits of 1.5 * 2^23 shift out); at n = -127 that is +0.0, which
    // zeroes the result without a compare.
    const v16 t = c + 12582912.0f;
    const v16 n = t - 12582912.0f;
    const v16 f = c - n;
    // 2^f by a degree-5 polynomial fitted for relative error on [-0.5, 0.5] (2.4e-7 in float).
    v16 p = (v16)1.327647129073739e-3f;
    p = p * f + 9.675540961325169e-3f;
    p = p * f + 5.550713092088699e-2f;
    p = p * f + 2.4022120237350464e-1f;
    p = p * f + 6.931469440460205e-1f;
    p = p * f + 1.0000001192092896f;
    // A same-size vector cast is a bit cast.
    return p * (v16)(((vi16)t + 127) << 23);
}

/// The first `n` floats at `p` (n <= 16), zeros after them.
TEMPO_INLINE v16 v16_load(const float *p, int n) {
    if (n == 16) return *(const v16_unaligned *)p;
    float lanes[16] = {0};
    for (int l = 0; l < n; l++) lanes[l] = p[l];
    return *(const v16_unaligned *)lanes;
}

/// Stores the first `n` lanes of `v` at `p`.
TEMPO_INLINE void v16_store(float *p, v16 v, int n) {
    if (n == 16) {
        *(v16_unaligned *)p = v;
        return;
    }
    float lanes[16];
    *(v16_unaligned *)lanes = v;
    for (int l = 0; l < n; l++) p[l] = lanes[l];
}

/// An epilogue's activation `f` (tempo_activation) of 16 floats.
TEMPO_INLINE v16 v16_activate(v16 x, tempo_activation f) {
    switch (f) {
    case TEMPO_ACTIVATION_RELU: return v16_relu_keeping_nan(x);
    case TEMPO_ACTIVATION_TANH: return v16_tanh(x);
    case TEMPO_ACTIVATION_SIGMOID: return 1.0f / (1.0f + v16_exp(-x));
    case TEMPO_ACTIVATION_GELU: return v16_gelu(x);
    case TEMPO_ACTIVATION_GELU_TANH: return v16_gelu_tanh(x);
    case TEMPO_ACTIVATION_NONE: break;
    }
    return x;
}

/// A convolution's epilogue on 16 outputs: output_activation(activation(y) + residual), the
/// residual's first `n` floats read only when `residual` is not NULL.
TEMPO_INLINE v16 v16_epilogue(
    v16 y, tempo_activation activation, const float *residual, int n, tempo_activation output_activation) {
    y = v16_activate(y, activation);
    if (residual) y += v16_load(residual, n);
    return v16_activate(y, output_activation);
}

#endif
