// attention.cl -- flash-style scaled dot-product attention for Tempo's OpenCL backend (OpenCL C 1.2).
// Semantics: Ops/Attention.swift.
//
//   y[b, i, q, :] = sum_k softmax_k(q·k * scale + additive, over the keys causal and mask allow) v[k, :]
//
// Layouts (row-major float32, every integer argument an int counted in elements):
//   q     [B, H, Sq, d]       queries
//   k     [B, Hkv, Sk, d]     keys; query head i reads key/value head i / (H / Hkv)
//   v     [B, Hkv, Sk, dv]    values
//   mask  0/1 floats (nonzero = attend), element (b, i, q, k) at b*ms0 + i*ms1 + q*ms2 + k*ms3;
//         a stride is 0 along an axis the mask broadcasts over. Read only when hasMask.
//   add   floats added to the scaled scores, laid out as the mask (as0..as3). Read when hasAdd.
//   y     [B, H, Sq, dv]      output
//   p     [B, H, Sq, Sk]      probabilities (attention_probabilities only)
// `qscale` is scale * log2(e): scores are kept in base 2 and weighted with exp2 (the additive mask
// is multiplied by log2(e) too). causal: query q sees keys k <= q (top-left aligned).
//
// Both flash shapes keep, per query, a running maximum m and sum l and rescale the accumulated
// output when m grows (the online softmax), so memory is O(S*d) and the [Sq, Sk] scores never
// exist. A masked score is -inf and exp2 gives exactly 0 for it; while a query's maximum is still
// -inf (every key so far masked) the shift is 0 rather than -inf, so nothing becomes NaN, and a
// query with l = 0 at the end writes zeros. Causal blocks stop at their last query's diagonal.
//
// 1. CPU shape (attention_cpu), for OpenCL CPU devices such as PoCL: barrier-free, one work-item
//    per block of QB = 16*ATT_CPU_QV queries of one (batch, head), looping over `items` blocks in
//    steps of the global size (heaviest, i.e. latest, blocks first). Transposed, as the C kernel
//    (Sources/CTempoCPU/attention.c): the scores of ATT_CPU_KT keys against the block are KT*QV
//    float16 accumulators (a key element broadcast against 16 queries), and the output update
//    broadcasts a value element against the same 16-query vectors. The block's queries (scaled,
//    transposed: qT [d][QB]) and its output accumulator (oT [dv][QB]) live in `scratch`, a
//    region of (d + dv) * QB floats per work-item; keys and values are read where they are.
//      global (min(items, host's cap)), local (1)
//
// 2. GPU shape (attention_gpu): a work-group of ATT_GPU_QB work-items, one query each, with q and
//    its output accumulator in private arrays of ATT_GPU_MAXD / ATT_GPU_MAXDV floats (the host
//    runs the CPU shape for larger heads). Tiles of ATT_GPU_KT keys and values are staged in
//    __local memory between two barriers and read by the whole group.
//      local (ATT_GPU_QB)   (required: reqd_work_group_size)
//      global (ceil(Sq / QB) * QB, B * H), kvtile: __local float[ATT_GPU_KT * (d + dv)]
//    Correct on PoCL when forced, but slow there (barriers; see notes/opencl-on-pocl.md).
//
// 3. attention_probabilities: one work-item per (query, batch * head) writes its row of
//    probabilities: scores, masks and a plain softmax in three passes over the row. O(S^2) by
//    design, only when the caller asks for the probabilities.
//      global (Sq, B * H)

// ---------------------------------------------------------------------------------------------
// Tunables (override with -D)
// ---------------------------------------------------------------------------------------------

#ifndef ATT_CPU_QV
#define ATT_CPU_QV 2      // CPU shape: float16 vectors of queries per work-item (QB = 16*QV)
#endif
#ifndef ATT_CPU_KT
#define ATT_CPU_KT 8      // CPU shape: keys per tile; KT*QV float16 score accumulators
#endif
#ifndef ATT_GPU_QB
#define ATT_GPU_QB 64     // GPU shape: queries (work-items) per work-group
#endif
#ifndef ATT_GPU_KT
#define ATT_GPU_KT 32     // GPU shape: keys (and values) per tile staged in local memory
#endif
#ifndef ATT_GPU_MAXD
#define ATT_GPU_MAXD 128  // GPU shape: largest d held in a work-item's private array
#endif
#ifndef ATT_GPU_MAXDV
#define ATT_GPU_MAXDV 128 // GPU shape: largest dv held in a work-item's private array
#endif

#if ATT_CPU_QV < 1 || ATT_CPU_KT < 1 || ATT_GPU_QB < 1 || ATT_GPU_KT < 1 || ATT_GPU_MAXD < 1 || ATT_GPU_MAXDV < 1
#error "attention.cl tunables must be positive"
#endif

#define ATT_QB (16 * ATT_CPU_QV)
#define ATT_LOG2E 1.4426950408889634f

// The masks of one score: -inf when the boolean mask excludes it, else plus the additive mask.
#define ATT_MASK_ARGS                                                                               \
    __global const float* mask, const int hasMask, const int ms0, const int ms1, const int ms2,     \
    const int ms3, __global const float* add, const int hasAdd, const int as0, const int as1,       \
    const int as2, const int as3
#define ATT_MASK_PASS mask, hasMask, ms0, ms1, ms2, ms3, add, hasAdd, as0, as1, as2, as3

static inline float att_masked(const float s, const int b, const int h, const int i, const int j, ATT_MASK_ARGS)
{
    if (hasMask && mask[(long)b * ms0 + (long)h * ms1 + (long)i * ms2 + (long)j * ms3] == 0.0f)
        return -INFINITY;
    if (hasAdd)
        return s + ATT_LOG2E * add[(long)b * as0 + (long)h * as1 + (long)i * as2 + (long)j * as3];
    return s;
}

// ---------------------------------------------------------------------------------------------
// CPU shape
// ---------------------------------------------------------------------------------------------

__kernel void attention_cpu(__global const float* q, __global const float* k, __global const float* v,
                            ATT_MASK_ARGS, __global float* y, __global float* scratch,
                            const int B, const int H, const int Hkv, const int Sq, const int Sk,
                            const int d, const int dv, const int causal, const float qscale,
                            const int items)
{
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __global float* qT = scratch + (long)get_global_id(0) * (d + dv) * ATT_QB;
    __global float* oT = qT + (long)d * ATT_QB;
    const int blocks = (Sq + ATT_QB - 1) / ATT_QB;

    for (int item = get_global_id(0); item < items; item += get_global_size(0)) {
        const int block = blocks - 1 - item / (B * H), bh = item % (B * H);
        const int b = bh / H, h = bh % H;
        const int i0 = block * ATT_QB, nq = min(ATT_QB, Sq - i0);
        __global const float* qb = q + ((long)bh * Sq + i0) * d;
        __global const float* kh = k + ((long)b * Hkv + h / (H / Hkv)) * Sk * d;
        __global const float* vh = v + ((long)b * Hkv + h / (H / Hkv)) * Sk * dv;

        for (int c = 0; c < d; ++c)
            for (int r = 0; r < ATT_QB; ++r)
                qT[c * ATT_QB + r] = r < nq ? qscale * qb[(long)r * d + c] : 0.0f;
        for (int e = 0; e < dv * ATT_QB; ++e)
            oT[e] = 0.0f;
        float16 m[ATT_CPU_QV], l[ATT_CPU_QV];
        #pragma unroll
        for (int w = 0; w < ATT_CPU_QV; ++w) {
            m[w] = (float16)(-INFINITY);
            l[w] = (float16)(0.0f);
        }

        const int end = causal ? min(Sk, i0 + nq) : Sk;
        for (int j0 = 0; j0 < end; j0 += ATT_CPU_KT) {
            const int nk = min(ATT_CPU_KT, end - j0);
            // Rows past the end read the last key again (always in bounds) and are masked below.
            long row[ATT_CPU_KT];
            #pragma unroll
            for (int jj = 0; jj < ATT_CPU_KT; ++jj)
                row[jj] = (long)min(j0 + jj, end - 1);
            float16 s[ATT_CPU_KT][ATT_CPU_QV];
            #pragma unroll
            for (int jj = 0; jj < ATT_CPU_KT; ++jj)
                #pragma unroll
                for (int w = 0; w < ATT_CPU_QV; ++w)
                    s[jj][w] = (float16)(0.0f);
            for (int c = 0; c < d; ++c) {
                float16 qv[ATT_CPU_QV];
                #pragma unroll
                for (int w = 0; w < ATT_CPU_QV; ++w)
                    qv[w] = vload16(0, qT + c * ATT_QB + 16 * w);
                #pragma unroll
                for (int jj = 0; jj < ATT_CPU_KT; ++jj) {
                    const float kv = kh[row[jj] * d + c];
                    #pragma unroll
                    for (int w = 0; w < ATT_CPU_QV; ++w)
                        s[jj][w] = kv * qv[w] + s[jj][w];
                }
            }

            // Masks: keys past the tile's end, the causal triangle, then the mask tensors.
            #pragma unroll
            for (int jj = 0; jj < ATT_CPU_KT; ++jj) {
                #pragma unroll
                for (int w = 0; w < ATT_CPU_QV; ++w) {
                    const int16 query = (int16)(i0 + 16 * w) + lane;
                    const int16 hidden = (int16)(jj >= nk ? -1 : 0) | (causal ? query < (int16)(j0 + jj) : (int16)(0));
                    s[jj][w] = select(s[jj][w], (float16)(-INFINITY), hidden);
                    if ((hasMask || hasAdd) && jj < nk) {
                        float t[16];
                        vstore16(s[jj][w], 0, t);
                        for (int e = 0; e < 16 && 16 * w + e < nq; ++e)
                            t[e] = att_masked(t[e], b, h, i0 + 16 * w + e, j0 + jj, ATT_MASK_PASS);
                        s[jj][w] = vload16(0, t);
                    }
                }
            }

            // Online softmax: weights against the new maximum; alpha rescales what came before.
            float16 alpha[ATT_CPU_QV];
            #pragma unroll
            for (int w = 0; w < ATT_CPU_QV; ++w) {
                float16 tmax = s[0][w];
                #pragma unroll
                for (int jj = 1; jj < ATT_CPU_KT; ++jj)
                    tmax = fmax(tmax, s[jj][w]);
                const float16 mnew = fmax(m[w], tmax);
                const float16 shift = select(mnew, (float16)(0.0f), mnew == (float16)(-INFINITY));
                alpha[w] = exp2(m[w] - shift);
                float16 sum = (float16)(0.0f);
                #pragma unroll
                for (int jj = 0; jj < ATT_CPU_KT; ++jj) {
                    s[jj][w] = exp2(s[jj][w] - shift);
                    sum += s[jj][w];
                }
                l[w] = l[w] * alpha[w] + sum;
                m[w] = mnew;
            }
            for (int c = 0; c < dv; ++c) {
                float16 o[ATT_CPU_QV];
                #pragma unroll
                for (int w = 0; w < ATT_CPU_QV; ++w)
                    o[w] = vload16(0, oT + c * ATT_QB + 16 * w) * alpha[w];
                #pragma unroll
                for (int jj = 0; jj < ATT_CPU_KT; ++jj) {
                    const float vv = vh[row[jj] * dv + c];
                    #pragma unroll
                    for (int w = 0; w < ATT_CPU_QV; ++w)
                        o[w] = vv * s[jj][w] + o[w];
                }
                #pragma unroll
                for (int w = 0; w < ATT_CPU_QV; ++w)
                    vstore16(o[w], 0, oT + c * ATT_QB + 16 * w);
            }
        }

        float inverse[ATT_QB];
        #pragma unroll
        for (int w = 0; w < ATT_CPU_QV; ++w)
            vstore16(select((float16)(0.0f), (float16)(1.0f) / l[w], l[w] > 0.0f), 0, inverse + 16 * w);
        __global float* yb = y + ((long)bh * Sq + i0) * dv;
        for (int r = 0; r < nq; ++r)
            for (int c = 0; c < dv; ++c)
                yb[(long)r * dv + c] = oT[c * ATT_QB + r] * inverse[r];
    }
}

// ---------------------------------------------------------------------------------------------
// GPU shape
// ---------------------------------------------------------------------------------------------

__kernel __attribute__((reqd_work_group_size(ATT_GPU_QB, 1, 1)))
void attention_gpu(__global const float* q, __global const float* k, __global const float* v,
                   ATT_MASK_ARGS, __global float* y, const int B, const int H, const int Hkv,
                   const int Sq, const int Sk, const int d, const int dv, const int causal,
                   const float qscale, __local float* kvtile)
{
    const int lid = get_local_id(0), i0 = get_group_id(0) * ATT_GPU_QB, i = i0 + lid;
    const int bh = get_global_id(1), b = bh / H, h = bh % H;
    const int valid = i < Sq;
    __global const float* kh = k + ((long)b * Hkv + h / (H / Hkv)) * Sk * d;
    __global const float* vh = v + ((long)b * Hkv + h / (H / Hkv)) * Sk * dv;
    __local float* ktile = kvtile;
    __local float* vtile = kvtile + ATT_GPU_KT * d;

    float qp[ATT_GPU_MAXD], o[ATT_GPU_MAXDV], s[ATT_GPU_KT];
    for (int c = 0; c < ATT_GPU_MAXD; ++c)
        qp[c] = valid && c < d ? qscale * q[((long)bh * Sq + i) * d + c] : 0.0f;
    for (int c = 0; c < ATT_GPU_MAXDV; ++c)
        o[c] = 0.0f;
    float m = -INFINITY, l = 0.0f;

    // Uniform over the group: its last query's diagonal bounds the keys when causal.
    const int end = causal ? min(Sk, min(Sq, i0 + ATT_GPU_QB)) : Sk;
    for (int j0 = 0; j0 < end; j0 += ATT_GPU_KT) {
        const int nk = min(ATT_GPU_KT, end - j0);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int e = lid; e < nk * d; e += ATT_GPU_QB)
            ktile[e] = kh[(long)j0 * d + e];
        for (int e = lid; e < nk * dv; e += ATT_GPU_QB)
            vtile[e] = vh[(long)j0 * dv + e];
        barrier(CLK_LOCAL_MEM_FENCE);

        float tmax = -INFINITY;
        for (int jj = 0; jj < ATT_GPU_KT; ++jj) {
            float score = -INFINITY;
            if (valid && jj < nk && !(causal && j0 + jj > i)) {
                float dot = 0.0f;
                for (int c = 0; c < ATT_GPU_MAXD && c < d; ++c)
                    dot = qp[c] * ktile[jj * d + c] + dot;
                score = att_masked(dot, b, h, i, j0 + jj, ATT_MASK_PASS);
            }
            s[jj] = score;
            tmax = fmax(tmax, score);
        }
        const float mnew = fmax(m, tmax);
        const float shift = mnew == -INFINITY ? 0.0f : mnew;
        const float alpha = exp2(m - shift);
        l *= alpha;
        for (int c = 0; c < ATT_GPU_MAXDV; ++c)
            o[c] *= alpha;
        for (int jj = 0; jj < nk; ++jj) {
            const float p = exp2(s[jj] - shift);
            l += p;
            for (int c = 0; c < ATT_GPU_MAXDV && c < dv; ++c)
                o[c] = p * vtile[jj * dv + c] + o[c];
        }
        m = mnew;
    }
    if (valid) {
        const float inverse = l > 0.0f ? 1.0f / l : 0.0f;
        for (int c = 0; c < ATT_GPU_MAXDV && c < dv; ++c)
            y[((long)bh * Sq + i) * dv + c] = o[c] * inverse;
    }
}

// ---------------------------------------------------------------------------------------------
// Probabilities
// ---------------------------------------------------------------------------------------------

__kernel void attention_probabilities(__global const float* q, __global const float* k, ATT_MASK_ARGS,
                                      __global float* p, const int H, const int Hkv, const int Sq,
                                      const int Sk, const int d, const int causal, const float qscale)
{
    const int i = get_global_id(0), bh = get_global_id(1), b = bh / H, h = bh % H;
    if (i >= Sq)
        return;
    __global const float* qi = q + ((long)bh * Sq + i) * d;
    __global const float* kh = k + ((long)b * Hkv + h / (H / Hkv)) * Sk * d;
    __global float* row = p + ((long)bh * Sq + i) * Sk;
    float m = -INFINITY;
    for (int j = 0; j < Sk; ++j) {
        float score = -INFINITY;
        if (!(causal && j > i)) {
            float dot = 0.0f;
            for (int c = 0; c < d; ++c)
                dot = qi[c] * kh[(long)j * d + c] + dot;
            score = att_masked(qscale * dot, b, h, i, j, ATT_MASK_PASS);
        }
        row[j] = score;
        m = fmax(m, score);
    }
    const float shift = m == -INFINITY ? 0.0f : m;
    float sum = 0.0f;
    for (int j = 0; j < Sk; ++j) {
        row[j] = exp2(row[j] - shift);
        sum += row[j];
    }
    const float inverse = sum > 0.0f ? 1.0f / sum : 0.0f;
    for (int j = 0; j < Sk; ++j)
        row[j] *= inverse;
}
