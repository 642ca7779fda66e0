// vector_math.h -- exp, sigmoid and tanh on 16 floats at once, branch-free. Under AVX-512 each
// vector is one register; under AVX2 or SSE, clang splits it. Relative error about 1e-7
// (Cephes' single-precision polynomials).
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

TEMPO_INLINE v16 v16_exp(v16 x) {
    // exp(x) = 2^k e^r with k = round(x / ln 2), |r| <= ln(2)/2; the clamp keeps 2^k a normal float.
    x = __builtin_elementwise_min(__builtin_elementwise_max(x, (v16)-87.0f), (v16)88.0f);
    v16 k = x * 1.44269504088896341f + 12582912.0f;  // adding 1.5 * 2^23 rounds to an integer
    k -= 12582912.0f;
    const v16 r = x - k * 0.693359375f + k * 2.12194440e-4f;
    v16 p = (v16)1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const v16 e = p * r * r + r + 1.0f;
    const vi16 bits = (__builtin_convertvector(k, vi16) + 127) << 23;
    return e * (v16)bits;
}

TEMPO_INLINE v16 v16_sigmoid(v16 x) { return 1.0f / (1.0f + v16_exp(-x)); }

TEMPO_INLINE v16 v16_tanh(v16 x) {
    // Near 0, 1 - 2/(e^2|x| + 1) cancels; an odd polynomial is exact there.
    const vi16 sign = (vi16)x & (vi16)(int32_t)0x80000000;
    const v16 a = (v16)((vi16)x ^ sign);
    const v16 z = x * x;
    v16 p = (v16)-5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const v16 small = x + x * z * p;
    const v16 large = (v16)((vi16)(1.0f - 2.0f / (v16_exp(2.0f * a) + 1.0f)) | sign);
    const vi16 use_small = a < 0.625f;
    return (v16)((use_small & (vi16)small) | (~use_small & (vi16)large));
}

TEMPO_INLINE v16 v16_relu(v16 x) { return __builtin_elementwise_max(x, (v16)0.0f); }

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
