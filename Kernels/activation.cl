// Activation functions, one element per work-item, as PyTorch defines them.
//
// Layout: dense float arrays of `count` elements.
// Accuracy: OpenCL C's exp, tanh and erf (not the native_ or half_ variants), so results agree with
// the CPU backend to a few ulp. The sigmoid is written so that neither branch overflows.
// M_SQRT1_2_F (1/sqrt 2) comes from OpenCL C itself.

#define SQRT_2_OVER_PI_F 0.79788456080286536f

// Some OpenCL libraries (PoCL 3.1 among them) return +-0.99999994 for large |x| and NaN for
// +-inf; tanh rounds to exactly +-1 in float32 for |x| > 9.01, so answer that directly.
inline float tanh_of(float x) {
    return fabs(x) > 9.0f ? copysign(1.0f, x) : tanh(x);
}

inline float sigmoid_of(float x) {
    // exp of a non-positive argument never overflows; the two forms are equal algebraically.
    float e = exp(-fabs(x));
    return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

__kernel void activation_sigmoid(__global const float* x, __global float* out, int count) {
    int i = get_global_id(0);
    if (i < count) out[i] = sigmoid_of(x[i]);
}

__kernel void activation_tanh(__global const float* x, __global float* out, int count) {
    int i = get_global_id(0);
    if (i < count) out[i] = tanh_of(x[i]);
}

__kernel void activation_relu(__global const float* x, __global float* out, int count) {
    int i = get_global_id(0);
    // Written as a comparison, not fmax, so that NaN propagates as in PyTorch.
    if (i < count) { float v = x[i]; out[i] = v > 0.0f ? v : (v != v ? v : 0.0f); }
}

// The normal CDF Phi(x) = 0.5 (1 + erf(x / sqrt 2)) from the same two pieces as the CPU backend's
// VectorMath (so both backends share one approximation, abs error ~1e-7): an odd polynomial
// below |z| = 0.625, and erfc(t) = exp(h(t) - t^2) above it, which for x < 0 gives Phi directly as
// 0.5 erfc(|z|) without the cancellation of 1 + erf. PoCL's own erf ran ~20x slower than exp.
inline float erf_small(float x) {
    float s = x * x;
    float p = 4.455444402992725e-3f;
    p = p * s - 2.6609322056174278e-2f;
    p = p * s + 1.1280226707458496e-1f;
    p = p * s - 3.7612465023994446e-1f;
    p = p * s + 1.2837915122509003e-1f;
    return p * x + x;
}

inline float erfc_large(float t) {
    float h = 2.1999421005602926e-4f;
    h = h * t - 3.2663638703525066e-3f;
    h = h * t + 2.306494489312172e-2f;
    h = h * t - 1.0556367039680481e-1f;
    h = h * t + 3.645578920841217e-1f;
    h = h * t - 1.128639817237854f;
    h = h * t + 2.159158611902967e-5f;
    return t >= 4.0f ? 0.0f : exp(h - t * t);
}

__kernel void activation_gelu(__global const float* x, __global float* out, int count) {
    int i = get_global_id(0);
    if (i < count) {
        float v = x[i];
        float z = v * M_SQRT1_2_F;
        float t = fabs(z);
        float halfTail = 0.5f * erfc_large(t);
        float phi = t < 0.625f ? 0.5f + 0.5f * erf_small(z) : (z < 0.0f ? halfTail : 1.0f - halfTail);
        out[i] = v * phi;
    }
}

__kernel void activation_gelu_tanh(__global const float* x, __global float* out, int count) {
    int i = get_global_id(0);
    if (i < count) {
        // 0.5 * (1 + tanh(u)) == sigmoid(2u), which does not cancel to 1 - 0.99999994 for large
        // negative inputs the way the textbook form does.
        float v = x[i];
        out[i] = v * sigmoid_of(2.0f * SQRT_2_OVER_PI_F * (v + 0.044715f * v * v * v));
    }
}
