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

/// 2^x, relative error below 2e-7 for x in [-126, 127]; exactly 0 below -126 and for -inf, so
/// that a masked score (-inf) weighs nothing and a fully masked softmax row sums to 0. Larger x
/// saturate at 2^127 (attention only ever asks for x <= 0).
TEMPO_INLINE v16 v16_exp2(v16 x) {
    const v16 c = __builtin_elementwise_min(x, (v16)127.0f);
    // 2^x = 2^n * 2^f with n = round(x) and f in [-0.5, 0.5]. Adding 1.5 * 2^23 rounds c to an
    // integer in the low mantissa bits of t (|c| < 2^22), so n costs two adds and 2^n is
    // (bits(t) + 127) << 23 (the bits of 1.5 * 2^23 shift out). Below -126 (and for -inf, whose
    // lanes go NaN on the way) the final mask gives 0.
    const v16 t = c + 12582912.0f;
    const v16 n = t - 12582912.0f;
    const v16 f = c - n;
    // 2^f = e^(f ln 2) by its Taylor polynomial of degree 6 (truncation error (ln 2 / 2)^7 / 7! < 1.2e-7).
    v16 p = (v16)1.5403530393381609e-4f;
    p = p * f + 1.3333558146428443e-3f;
    p = p * f + 9.6181291076284772e-3f;
    p = p * f + 5.5504108664821580e-2f;
    p = p * f + 2.4022650695910071e-1f;
    p = p * f + 6.9314718055994531e-1f;
    p = p * f + 1.0f;
    // A same-size vector cast is a bit cast.
    const vi16 bits = ((vi16)t + 127) << 23;
    const vi16 result = (vi16)(p * (v16)bits);
    return (v16)(result & (x >= -126.0f));
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
