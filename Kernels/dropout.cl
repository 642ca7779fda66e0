// Dropout with a counter-based random stream: out[i] = x[i] * scale where the element is kept, else 0.
//
// Element i is kept when a uniform draw u_i >= probability. u_i comes from Philox-2x32-10 (Salmon
// et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011; the Random123 constants) with
// counter (i, offset) and key `key`: the mask is a pure function of (key, offset, i), so every
// device (and the CPU backend, which implements the same function) draws the same mask, and a
// caller that advances `offset` per call gets a fresh one. u_i = (r >> 8) * 2^-24 is uniform on
// [0, 1) in steps of 2^-24.
// Layout: dense arrays of `count` floats, one element per work-item.

#define PHILOX_M 0xD256D193u
#define PHILOX_W 0x9E3779B9u

inline uint philox2x32_10(uint counter0, uint counter1, uint key) {
    for (int round = 0; round < 10; ++round) {
        uint hi = mul_hi(PHILOX_M, counter0);
        uint lo = PHILOX_M * counter0;
        counter0 = hi ^ key ^ counter1;
        counter1 = lo;
        key += PHILOX_W;
    }
    return counter0;
}

__kernel void dropout(__global const float* x, __global float* out, int count,
                      float probability, float scale, uint key, uint offset) {
    int i = get_global_id(0);
    if (i < count) {
        float u = (float)(philox2x32_10((uint)i, offset, key) >> 8) * 0x1.0p-24f;
        out[i] = u >= probability ? x[i] * scale : 0.0f;
    }
}
