// Activation functions, one element per work-item, as PyTorch defines them.
//
// Layout: dense float arrays of `count` elements.
// Accuracy: OpenCL C's exp, tanh and erf (not the native_ or half_ variants), so results agree with
// the CPU backend to a few ulp. The sigmoid is written so that neither branch overflows.
// M_SQRT1_2_F (1/sqrt 2) comes from OpenCL C itself.

#define SQRT_2_OVER_PI_F 0.79788456080286536f

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
    if (i < count) out[i] = tanh(x[i]);
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
        float v = x[i];
        out[i] = 0.5f * v * (1.0f + tanh(SQRT_2_OVER_PI_F * (v + 0.044715f * v * v * v)));
    }
}
