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

__kernel void activation_gelu(__global const float* x, __global float* out, int count) {
    int i = get_global_id(0);
    if (i < count) { float v = x[i]; out[i] = 0.5f * v * (1.0f + erf(v * M_SQRT1_2_F)); }
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
