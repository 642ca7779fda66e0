// scalar_math.h -- exp, sigmoid and tanh as straight-line float code with no calls and no
// branches, so that loops over them vectorise (16 lanes under AVX-512). Relative error about
// 1e-7 (Cephes' single-precision polynomials).
#ifndef TEMPO_SCALAR_MATH_H
#define TEMPO_SCALAR_MATH_H

#include <stdint.h>

static inline __attribute__((always_inline)) float tempo_exp(float x) {
    // exp(x) = 2^k e^r with k = round(x / ln 2), |r| <= ln(2)/2; the clamp keeps 2^k a normal float.
    x = __builtin_fminf(__builtin_fmaxf(x, -87.0f), 88.0f);
    float k = x * 1.44269504088896341f + 12582912.0f;  // adding 1.5 * 2^23 rounds to an integer
    k -= 12582912.0f;
    const float r = x - k * 0.693359375f + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float e = p * r * r + r + 1.0f;
    const int32_t bits = ((int32_t)k + 127) << 23;
    return e * __builtin_bit_cast(float, bits);
}

static inline __attribute__((always_inline)) float tempo_sigmoid(float x) {
    return 1.0f / (1.0f + tempo_exp(-x));
}

static inline __attribute__((always_inline)) float tempo_tanh(float x) {
    // Near 0, 1 - 2/(e^2x + 1) cancels; an odd polynomial is exact there.
    const float a = __builtin_fabsf(x);
    const float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const float small = x + x * z * p;
    const float large = 1.0f - 2.0f / (tempo_exp(2.0f * a) + 1.0f);
    return a < 0.625f ? small : __builtin_copysignf(large, x);
}

#endif
