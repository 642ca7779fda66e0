// causal_conv1d.cl -- the dilated causal 1-D convolution of a temporal convolutional network, for
// Tempo's OpenCL backend (OpenCL C 1.2). Semantics: Ops/CausalConv1d.swift.
//
//   y[b, o, t] = bias[o] + sum_c sum_k w[o, c, k] * x[b, g*Cpg + c, t - (K-1-k)*d],   g = o / Opg
//
// Layouts (row-major float32, every integer argument an int counted in elements):
//   x     [B, Cin, L]           input
//   w     [Cout, Cpg, K]        PyTorch's Conv1d.weight; Cpg = Cin/groups input channels per group
//   bias  [Cout]                read only when hasBias (any valid buffer otherwise)
//   y     [B, Cout, L]          output; Opg = Cout/groups output channels per group
//   residual [B, Cout, L]       read only when hasResidual (any valid buffer otherwise)
// Both sequence kernels end in the epilogue y = outAct(act(sum + bias) + residual) (act, outAct as
// conv_activate below; 0 = none), so a TCN block's ReLUs and residual sum cost no extra pass.
// The left padding of H = (K-1)*d zeros is implicit: inputs before t = 0 read as zero and are never
// materialised, and nothing past L is computed (no padded copy of x, no chomp). Row bases are
// computed in 64 bits, so only L, Cpg*K and H themselves must fit in an int.
//
// One launch per call, in one of two shapes chosen by the host per device kind:
//
// 1. CPU shape (conv_cpu), for OpenCL CPU devices such as PoCL, barrier-free as gemm.cl's gemm_cpu:
//    one work-item owns CO output channels (of one group) x TT = 16*TV time steps in CO*TV float16
//    accumulators and runs the whole (c, k) reduction: per (c, k) it loads TV vectors of the input
//    row along time at offset t0 - (K-1-k)*d (vload16 at any alignment, straight from x) and
//    broadcasts CO weights against them. The weights of a tile are CO rows of Cpg*K floats, read
//    in place: they stay in L1 across the tile, so a packing launch would buy nothing.
//    Tiles whose window reaches before t = 0 or past L take the same loop with edge-aware loads
//    (and skip the taps that see only t < 0); every other tile runs it without a bounds test. Output channels that do not fill a
//    CO tile at the end of a group run in tiles of 4, 2 and 1 channels, not as a clamped CO tile,
//    so depthwise convolutions (Opg = 1) do not compute CO times over.
//    A work-item runs `span` consecutive time tiles (1 for dense layers; more when a tile is
//    little work, e.g. depthwise, as PoCL's cost per work-item would otherwise dominate).
//      global (groups * ceil(Opg/CO), ceil(ceil(L/TT) / span), B), local (1, 1, 1)
//
// 2. GPU shape (conv_gpu): a work-group computes GCO output channels x GTT time steps. The input
//    channels advance in slices of `slice` (<= CONV_GPU_CS, lowered by the host when local memory
//    is short); per slice the group stages the weight tile [GCO][slice][K] and the input window
//    [slice][GTT + H] (the time tile and its dilated halo, zero before t = 0 and past L) in
//    __local memory between two barriers. Work-item (lt, lo) computes time step t0 + lt for the
//    output channels lo, lo + GCO/GWPT, ... (GWPT of them), so a wavefront reads consecutive
//    window elements and one broadcast weight.
//      local (GTT, GCO/GWPT, 1)   (required: reqd_work_group_size)
//      global (ceil(L/GTT) * GTT, groups * ceil(Opg/GCO) * GCO/GWPT, B)
//      wtile: __local float[GCO * slice * K], window: __local float[slice * (GTT + H)]
//    When not even slice = 1 fits the device's local memory (a history H of about a quarter of
//    its bytes), the host runs conv_cpu instead, which any device runs correctly.
//    Correct on PoCL when forced, but slow there: ~4 GFLOP/s at B16 C128 L1024 K3 against
//    ~230 for conv_cpu (barriers; see notes/opencl-on-pocl.md).

// ---------------------------------------------------------------------------------------------
// Tunables (override with -D)
// ---------------------------------------------------------------------------------------------

#ifndef CONV_CPU_CO
#define CONV_CPU_CO 8     // CPU shape: output channels per work-item; CO*TV accumulators
#endif
#ifndef CONV_CPU_TV
#define CONV_CPU_TV 2     // CPU shape: float16 vectors along time per work-item (TT = 16*TV steps)
#endif
#ifndef CONV_GPU_CO
#define CONV_GPU_CO 16    // GPU shape: output channels per work-group (GCO)
#endif
#ifndef CONV_GPU_TT
#define CONV_GPU_TT 64    // GPU shape: time steps per work-group (GTT), one per work-item along dim 0
#endif
#ifndef CONV_GPU_WPT
#define CONV_GPU_WPT 4    // GPU shape: output channels per work-item (GWPT); divides GCO
#endif
#ifndef CONV_GPU_CS
#define CONV_GPU_CS 8     // GPU shape: input channels staged per barrier pair, at most
#endif

#if CONV_CPU_CO < 1 || CONV_CPU_CO > 8 || CONV_CPU_TV < 1 || (CONV_GPU_CO % CONV_GPU_WPT) != 0 || CONV_GPU_CS < 1
#error "CONV_CPU_CO, CONV_CPU_TV, CONV_GPU_CS must be positive (CO at most 8: the remainder tiles are 4, 2, 1 rows) and CONV_GPU_WPT must divide CONV_GPU_CO"
#endif

#define CONV_TT (16 * CONV_CPU_TV)
#define CONV_GPU_LO (CONV_GPU_CO / CONV_GPU_WPT)
// a*b + c, which the compiler contracts into one FMA (PoCL lowers mad() to a multiply and an add).
#define CONV_MAD(a, b, c) ((a) * (b) + (c))

// The epilogues' activations (act, outAct: 0 none, 1 relu, 2 tanh, 3 sigmoid, 4 gelu, 5 gelu with
// the tanh approximation, as tempo_activation in the CPU backend), for float and float16 alike (select, isnan and the comparisons
// give per-lane masks for vectors and 0/1 for scalars, which select reads correctly in both).
// tanh is answered directly beyond |x| = 9, where it rounds to +-1 (PoCL 3.1's tanh returns
// +-0.99999994 there and NaN at +-inf); the sigmoid takes exp of a non-positive argument only.
#define CONV_DEFINE_ACTIVATE(T)                                                                  \
    static inline T conv_sigmoid_##T(const T v)                                                 \
    {                                                                                                 \
        const T e = exp(-fabs(v));                                                                    \
        return select(e / (1.0f + e), 1.0f / (1.0f + e), v >= (T)(0.0f));                             \
    }                                                                                                 \
    static inline T conv_activate_##T(const T v, const int f)                                   \
    {                                                                                                 \
        switch (f) {                                                                                  \
        case 1: return select((T)(0.0f), v, (v > (T)(0.0f)) | isnan(v));                             \
        case 2: return select(tanh(v), copysign((T)(1.0f), v), fabs(v) > (T)(9.0f));                  \
        case 3: return conv_sigmoid_##T(v);                                                      \
        case 4: return 0.5f * v * (1.0f + erf(v * M_SQRT1_2_F));                                      \
        case 5: return v * conv_sigmoid_##T(1.5957691216057308f * (v + 0.044715f * v * v * v));  \
        default: return v;                                                                            \
        }                                                                                             \
    }
CONV_DEFINE_ACTIVATE(float)
CONV_DEFINE_ACTIVATE(float16)

// The sequence kernels' epilogue, on one vector of outputs: outAct(act(sum) + residual), with the
// residual (`[B, Cout, L]`, as y) read only when hasResidual.
static inline float16 conv_epilogue(float16 value, const int act, const float16 residual, const int outAct)
{
    return conv_activate_float16(conv_activate_float16(value, act) + residual, outAct);
}

// ---------------------------------------------------------------------------------------------
// CPU shape
// ---------------------------------------------------------------------------------------------

// x[idx .. idx+15] of one input row of length L, zero outside [0, L), for a window that crosses an
// edge. With L >= 16 it is one in-bounds vector load and a lane shift (a variable shuffle, one
// permute on AVX-512) under a mask, so a head tile costs little more than an inner one; shorter
// rows gather.
static inline float16 conv_load_edge(__global const float* row, const int idx, const int L)
{
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int16 position = (int16)(idx) + lane;
    const int16 inside = (position >= 0) & (position < (int16)(L));
    if (L >= 16) {
        const int start = clamp(idx, 0, L - 16);
        const float16 v = vload16(0, row + start);
        const float16 shifted = shuffle(v, as_uint16((int16)(idx - start) + lane) & (uint16)(15));
        return select((float16)(0.0f), shifted, inside);
    }
    float tmp[16];
    for (int e = 0; e < 16; ++e)
        tmp[e] = (idx + e >= 0 && idx + e < L) ? row[idx + e] : 0.0f;
    return vload16(0, tmp);
}

// One tile: `rows` (<= CO) output channels x TT steps from t0. `rows` and `edge` are literals at
// every call site, so after inlining the branches on them fold away and the inner tile's loop has
// no bounds test. The row loops run to the compile-time CO and test `r < rows` (see gemm.cl: a loop
// bounded by `rows` itself is only partly unrolled, which spills the accumulators).
//   xg: channel 0 of the group's input rows of this batch element; w: the first row's weights,
//   rows `wStride` = Cpg*K apart; yo: the first output row, rows L apart.
static inline __attribute__((always_inline))
void conv_cpu_tile(const int rows, const int edge,
                   __global const float* xg, __global const float* w, const int wStride,
                   __global const float* bias, const int hasBias, __global float* yo,
                   __global const float* ro, const int hasResidual, const int act, const int outAct,
                   const int Cpg, const int L, const int K, const int d, const int t0)
{
    const int H = (K - 1) * d;
    // Row offsets fixed while one pointer walks (c, k), so each weight is one broadcast load with
    // [base + index] addressing (as gemm.cl's aRow).
    long wRow[CONV_CPU_CO];
    float16 acc[CONV_CPU_CO][CONV_CPU_TV];
    #pragma unroll
    for (int r = 0; r < CONV_CPU_CO; ++r) {
        wRow[r] = (long)r * wStride;
        const float b0 = (r < rows && hasBias) ? bias[r] : 0.0f;
        #pragma unroll
        for (int v = 0; v < CONV_CPU_TV; ++v)
            acc[r][v] = (float16)(b0);
    }

    // Taps whose whole window lies before t = 0 add nothing: a head tile starts at the first tap
    // that reaches t >= 0 (with a long history, e.g. d = 256, most head tiles skip most taps).
    const int kFirst = edge && H - t0 - CONV_TT >= 0 ? (H - t0 - CONV_TT) / d + 1 : 0;
    for (int c = 0; c < Cpg; ++c, xg += L, w += K) {
        for (int k = kFirst; k < K; ++k) {
            // Tap k reads x[t - (K-1-k)*d]: the window of this tile starts at t0 - H + k*d.
            const int start = t0 - H + k * d;
            float16 xv[CONV_CPU_TV];
            #pragma unroll
            for (int v = 0; v < CONV_CPU_TV; ++v) {
                const int idx = start + 16 * v;
                if (!edge || (idx >= 0 && idx + 16 <= L))
                    xv[v] = vload16(0, xg + idx);
                else if (idx + 16 <= 0 || idx >= L)
                    xv[v] = (float16)(0.0f);
                else
                    xv[v] = conv_load_edge(xg, idx, L);
            }
            #pragma unroll
            for (int r = 0; r < CONV_CPU_CO; ++r) {
                if (r < rows) {
                    const float wv = w[wRow[r] + k];
                    #pragma unroll
                    for (int v = 0; v < CONV_CPU_TV; ++v)
                        acc[r][v] = CONV_MAD(wv, xv[v], acc[r][v]);
                }
            }
        }
    }

    #pragma unroll
    for (int r = 0; r < CONV_CPU_CO; ++r, yo += L, ro += L) {
        if (r >= rows)
            break;
        #pragma unroll
        for (int v = 0; v < CONV_CPU_TV; ++v) {
            const int t = t0 + 16 * v;
            if (!edge || t + 16 <= L) {
                const float16 residual = hasResidual ? vload16(0, ro + t) : (float16)(0.0f);
                vstore16(conv_epilogue(acc[r][v], act, residual, outAct), 0, yo + t);
            } else if (t < L) {
                // The last partial vector of a row; no dynamic component index in OpenCL C.
                float tmp[16];
                for (int e = 0; e < 16; ++e)
                    tmp[e] = hasResidual && t + e < L ? ro[t + e] : 0.0f;
                vstore16(conv_epilogue(acc[r][v], act, vload16(0, tmp), outAct), 0, tmp);
                for (int e = 0; t + e < L; ++e)
                    yo[t + e] = tmp[e];
            }
        }
    }
}

// All rows of one time tile: a CO tile, or the group's last channels when fewer than CO remain.
static inline __attribute__((always_inline))
void conv_cpu_rows(const int rows, __global const float* xg, __global const float* wo, const int wStride,
                   __global const float* bias, const int hasBias, __global float* yo,
                   __global const float* ro, const int hasResidual, const int act, const int outAct,
                   const int Cpg, const int L, const int K, const int d, const int t0)
{
    // The window of taps reaches back H = (K-1)*d steps; only tiles that start within it, or end
    // past L, need edge-aware loads.
    const int edge = t0 < (K - 1) * d || t0 + CONV_TT > L;
    if (rows == CONV_CPU_CO) {
        if (edge)
            conv_cpu_tile(CONV_CPU_CO, 1, xg, wo, wStride, bias, hasBias, yo, ro, hasResidual, act, outAct, Cpg, L, K, d, t0);
        else
            conv_cpu_tile(CONV_CPU_CO, 0, xg, wo, wStride, bias, hasBias, yo, ro, hasResidual, act, outAct, Cpg, L, K, d, t0);
        return;
    }
    // Fewer than CO: in tiles of 4, 2 and 1 rows, so that a remainder still broadcasts each input
    // vector against several weights (12 channels with CO = 8 run as 8 + 4, not 8 + 1 + 1 + 1 + 1).
    int r = 0;
#define CONV_REMAINDER_TILE(N)                                                                          \
    if (rows - r >= N) {                                                                                \
        const long wr = (long)r * wStride, yr = (long)r * L;                                            \
        if (edge)                                                                                       \
            conv_cpu_tile(N, 1, xg, wo + wr, wStride, bias + r, hasBias, yo + yr, ro + yr, hasResidual, act,    \
                          outAct, Cpg, L, K, d, t0);                                                    \
        else                                                                                            \
            conv_cpu_tile(N, 0, xg, wo + wr, wStride, bias + r, hasBias, yo + yr, ro + yr, hasResidual, act,    \
                          outAct, Cpg, L, K, d, t0);                                                    \
        r += N;                                                                                         \
    }
    CONV_REMAINDER_TILE(4)
    CONV_REMAINDER_TILE(2)
    CONV_REMAINDER_TILE(1)
#undef CONV_REMAINDER_TILE
}

// A work-item runs `span` consecutive time tiles: the host raises it above 1 when a tile is little
// work (depthwise and other thin groups), where PoCL's per-work-item cost would otherwise dominate.
__kernel void conv_cpu(__global const float* x, __global const float* w, __global const float* bias, int hasBias,
                       __global float* y, int Cin, int Cout, int L, int K, int d, int groups,
                       __global const float* residual, int hasResidual, int act, int outAct, int span)
{
    const int Cpg = Cin / groups, Opg = Cout / groups;
    const int rowTiles = (Opg + CONV_CPU_CO - 1) / CONV_CPU_CO;
    const int g = get_global_id(0) / rowTiles;
    const int o0 = (get_global_id(0) % rowTiles) * CONV_CPU_CO;
    const int tile0 = get_global_id(1) * span;
    const int b = get_global_id(2);
    if (g >= groups)
        return;

    const int o = g * Opg + o0;
    const int wStride = Cpg * K;
    __global const float* xg = x + ((long)b * Cin + (long)g * Cpg) * L;
    __global const float* wo = w + (long)o * wStride;
    __global float* yo = y + ((long)b * Cout + o) * L;
    __global const float* ro = residual + ((long)b * Cout + o) * L;
    const int rows = min(CONV_CPU_CO, Opg - o0);
    for (int s = 0; s < span && (tile0 + s) * CONV_TT < L; ++s)
        conv_cpu_rows(rows, xg, wo, wStride, bias + o, hasBias, yo, ro, hasResidual, act, outAct, Cpg, L, K, d,
                      (tile0 + s) * CONV_TT);
}

// ---------------------------------------------------------------------------------------------
// GPU shape
// ---------------------------------------------------------------------------------------------

__kernel __attribute__((reqd_work_group_size(CONV_GPU_TT, CONV_GPU_LO, 1)))
void conv_gpu(__global const float* x, __global const float* w, __global const float* bias, int hasBias,
              __global float* y, int Cin, int Cout, int L, int K, int d, int groups,
              __global const float* residual, int hasResidual, int act, int outAct, int slice,
              __local float* wtile, __local float* window)
{
    const int Cpg = Cin / groups, Opg = Cout / groups;
    const int H = (K - 1) * d;
    const int W = CONV_GPU_TT + H;   // window row: the time tile and its halo
    const int rowTiles = (Opg + CONV_GPU_CO - 1) / CONV_GPU_CO;
    const int lt = get_local_id(0), lo = get_local_id(1);
    const int tid = lo * CONV_GPU_TT + lt;
    const int g = get_group_id(1) / rowTiles;
    const int oTile = (get_group_id(1) % rowTiles) * CONV_GPU_CO;   // within the group
    const int t0 = get_group_id(0) * CONV_GPU_TT;
    const int b = get_global_id(2);
    // No early return: every work-item of the group must reach the barriers.

    __global const float* xg = x + ((long)b * Cin + (long)g * Cpg) * L;
    __global const float* wg = w + (long)(g * Opg + oTile) * Cpg * K;
    const int wSlice = slice * K;

    float acc[CONV_GPU_WPT];
    #pragma unroll
    for (int j = 0; j < CONV_GPU_WPT; ++j)
        acc[j] = 0.0f;

    for (int c0 = 0; c0 < Cpg; c0 += slice) {
        const int nc = min(slice, Cpg - c0);
        // wtile[(j*slice + c)*K + k] = w[oTile + j, c0 + c, k], zero past the group's channels.
        for (int l = tid; l < CONV_GPU_CO * wSlice; l += CONV_GPU_TT * CONV_GPU_LO) {
            const int j = l / wSlice, c = (l % wSlice) / K, k = l % K;
            wtile[l] = (oTile + j < Opg && c < nc) ? wg[((long)j * Cpg + c0 + c) * K + k] : 0.0f;
        }
        // window[c*W + i] = x[c0 + c, t0 - H + i], zero before t = 0 and past L.
        for (int l = tid; l < slice * W; l += CONV_GPU_TT * CONV_GPU_LO) {
            const int c = l / W, t = t0 - H + l % W;
            window[l] = (c < nc && t >= 0 && t < L) ? xg[(long)(c0 + c) * L + t] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        for (int c = 0; c < nc; ++c) {
            for (int k = 0; k < K; ++k) {
                const float xv = window[c * W + lt + k * d];
                #pragma unroll
                for (int j = 0; j < CONV_GPU_WPT; ++j)
                    acc[j] = CONV_MAD(wtile[((lo + j * CONV_GPU_LO) * slice + c) * K + k], xv, acc[j]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const int t = t0 + lt;
    if (g >= groups || t >= L)
        return;
    #pragma unroll
    for (int j = 0; j < CONV_GPU_WPT; ++j) {
        const int oLocal = oTile + lo + j * CONV_GPU_LO;
        if (oLocal < Opg) {
            const int o = g * Opg + oLocal;
            const long index = ((long)b * Cout + o) * L + t;
            const float value = conv_activate_float(acc[j] + (hasBias ? bias[o] : 0.0f), act);
            y[index] = conv_activate_float(value + (hasResidual ? residual[index] : 0.0f), outAct);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Streaming step: the output column of the newest sample (Ops/CausalConv1dStep.swift)
// ---------------------------------------------------------------------------------------------
//
//   y[b, o] = outAct(act(bias[o] + sum_k sum_c w[o, c, k] * tap_k[b, g*Cpg + c]) + residual[b, o])
//
// Layouts (row-major float32):
//   x         [B, Cin]       the new sample; it is tap K-1
//   hist      [S, B, Cin]    the history ring, S = (K-1)*d + 1 slots (a dummy buffer when K = 1):
//                            tap k < K-1 is slot (position - (K-1-k)*d + S) % S
//   residual  [B, Cout]      read only when hasResidual
//   y         [B, Cout]
//   act, outAct: 0 none, 1 relu, 2 tanh, 3 sigmoid, 4 gelu, 5 gelu (tanh approximation), as
//   tempo_activation in the CPU backend.
// Each kernel also copies x into slot `position`. That slot held the sample S steps back, which no
// tap reads (taps reach (K-1)*d = S-1 steps back at most), so the copy cannot race with the reads
// and the step is one launch.
//
// CPU shape (conv_step_cpu), groups = 1: one work-item owns a panel of 16*SV outputs for a block
// of at most SR batch rows, in SR*SV float16 accumulators, and runs the whole (k, c) reduction
// over the weight packed by conv_step_pack (panels contiguous along (k, c), as gemm.cl's packed B):
//   packed[((panel*K + k)*Cin + c)*16*SV + j] = w[panel*16*SV + j, c, k], zero past Cout
//   global (ceil(Cout / (16*SV)), ceil(B / SR), 1), local (1, 1, 1)
// Direct shape (conv_step_direct), for groups > 1 on any device and for every step on GPUs: one
// work-item per output, reading w in place.
//   global (Cout, B, 1)

#ifndef CONV_STEP_SR
#define CONV_STEP_SR 6    // CPU shape: batch rows per work-item
#endif
#ifndef CONV_STEP_SV
#define CONV_STEP_SV 4    // CPU shape: float16 vectors of outputs per work-item (panel = 16*SV)
#endif
#define CONV_STEP_PW (16 * CONV_STEP_SV)


// Tap k's [B, Cin] samples.
static inline __global const float* conv_step_tap(__global const float* x, __global const float* hist,
                                                  const int B, const int Cin, const int K, const int d,
                                                  const int S, const int position, const int k)
{
    if (k == K - 1)
        return x;
    return hist + (long)((position - (K - 1 - k) * d + S) % S) * B * Cin;
}

// One work-item per (output, input channel): the K weights of w[o, c, :] into their panel rows.
__kernel void conv_step_pack(__global const float* w, __global float* packed, int Cin, int Cout, int K)
{
    const int o = get_global_id(0), c = get_global_id(1);
    if (c >= Cin)
        return;
    const int panel = o / CONV_STEP_PW, j = o % CONV_STEP_PW;
    for (int k = 0; k < K; ++k)
        packed[(((long)panel * K + k) * Cin + c) * CONV_STEP_PW + j] = o < Cout ? w[((long)o * Cin + c) * K + k] : 0.0f;
}

// The epilogue of outputs [o, o + 16) (fewer at the end of Cout) of the output row starting at
// `row`, from their sums.
static inline void conv_step_finish(float16 value, __global const float* bias, const int hasBias,
                                    __global const float* residual, const int hasResidual, __global float* y,
                                    const long row, const int o, const int Cout, const int act, const int outAct)
{
    // A partial vector goes through private memory (OpenCL C has no dynamic lane index).
    const int n = min(16, Cout - o);
    float tmp[16];
    if (hasBias) {
        for (int e = 0; e < 16; ++e)
            tmp[e] = e < n ? bias[o + e] : 0.0f;
        value += vload16(0, tmp);
    }
    value = conv_activate_float16(value, act);
    if (hasResidual) {
        for (int e = 0; e < 16; ++e)
            tmp[e] = e < n ? residual[row + o + e] : 0.0f;
        value += vload16(0, tmp);
    }
    value = conv_activate_float16(value, outAct);
    if (n == 16) {
        vstore16(value, 0, y + row + o);
    } else {
        vstore16(value, 0, tmp);
        for (int e = 0; e < n; ++e)
            y[row + o + e] = tmp[e];
    }
}

__kernel void conv_step_cpu(__global const float* x, __global float* hist, __global const float* packed,
                            __global const float* bias, int hasBias, __global const float* residual, int hasResidual,
                            __global float* y, int B, int Cin, int Cout, int K, int d, int S, int position,
                            int act, int outAct)
{
    const int panel = get_global_id(0), block = get_global_id(1), blocks = (B + CONV_STEP_SR - 1) / CONV_STEP_SR;
    if (block >= blocks)
        return;
    // Blocks as even as possible (16 rows as 6 + 5 + 5).
    const int base = B / blocks, extra = B % blocks;
    const int r0 = block * base + min(block, extra), rows = base + (block < extra ? 1 : 0);

    float16 acc[CONV_STEP_SR][CONV_STEP_SV];
    #pragma unroll
    for (int r = 0; r < CONV_STEP_SR; ++r) {
        #pragma unroll
        for (int v = 0; v < CONV_STEP_SV; ++v)
            acc[r][v] = (float16)(0.0f);
    }
    for (int k = 0; k < K; ++k) {
        __global const float* a = conv_step_tap(x, hist, B, Cin, K, d, S, position, k) + (long)r0 * Cin;
        __global const float* p = packed + ((long)panel * K + k) * Cin * CONV_STEP_PW;
        for (int c = 0; c < Cin; ++c, p += CONV_STEP_PW) {
            float16 wv[CONV_STEP_SV];
            #pragma unroll
            for (int v = 0; v < CONV_STEP_SV; ++v)
                wv[v] = vload16(v, p);
            #pragma unroll
            for (int r = 0; r < CONV_STEP_SR; ++r) {
                if (r < rows) {
                    const float av = a[(long)r * Cin + c];
                    #pragma unroll
                    for (int v = 0; v < CONV_STEP_SV; ++v)
                        acc[r][v] = CONV_MAD(av, wv[v], acc[r][v]);
                }
            }
        }
    }

    // Guards rather than breaks, so that both loops unroll and acc stays in registers.
    #pragma unroll
    for (int r = 0; r < CONV_STEP_SR; ++r) {
        #pragma unroll
        for (int v = 0; v < CONV_STEP_SV; ++v) {
            const int o = panel * CONV_STEP_PW + 16 * v;
            if (r < rows && o < Cout)
                conv_step_finish(acc[r][v], bias, hasBias, residual, hasResidual, y, (long)(r0 + r) * Cout, o, Cout,
                                 act, outAct);
        }
    }

    if (panel == 0 && S > 0) {
        __global float* slot = hist + ((long)position * B + r0) * Cin;
        for (int i = 0; i < rows * Cin; ++i)
            slot[i] = x[(long)r0 * Cin + i];
    }
}

__kernel void conv_step_direct(__global const float* x, __global float* hist, __global const float* w,
                               __global const float* bias, int hasBias, __global const float* residual, int hasResidual,
                               __global float* y, int B, int Cin, int Cout, int K, int d, int groups, int S, int position,
                               int act, int outAct)
{
    const int o = get_global_id(0), b = get_global_id(1);
    if (o >= Cout || b >= B)
        return;
    const int Cpg = Cin / groups, g = o / (Cout / groups);
    __global const float* wo = w + (long)o * Cpg * K;
    float sum = hasBias ? bias[o] : 0.0f;
    for (int k = 0; k < K; ++k) {
        __global const float* a = conv_step_tap(x, hist, B, Cin, K, d, S, position, k) + (long)b * Cin + g * Cpg;
        for (int c = 0; c < Cpg; ++c)
            sum = CONV_MAD(wo[c * K + k], a[c], sum);
    }
    float value = conv_activate_float(sum, act);
    if (hasResidual)
        value += residual[(long)b * Cout + o];
    y[(long)b * Cout + o] = conv_activate_float(value, outAct);

    // Work-item (o, b) copies channels o, o + Cout, ... of row b into the new sample's slot.
    if (S > 0) {
        for (int c = o; c < Cin; c += Cout)
            hist[((long)position * B + b) * Cin + c] = x[(long)b * Cin + c];
    }
}
