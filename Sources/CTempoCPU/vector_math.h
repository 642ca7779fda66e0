// vector_math.h -- tanh, sigmoid and exp2 on 16 floats at once, branch-free. Under AVX-512 each
// vector is one register; under AVX2 or SSE, clang splits it.
#ifndef TEMPO_VECTOR_MATH_H
#define TEMPO_VECTOR_MATH_H

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

#endif
