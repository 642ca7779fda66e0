// causal_conv1d.c -- the dilated causal convolution with K = 3 on the CPU, by Winograd's F(2,3).
//
// Two outputs of one channel, y(t) and y(t+d), need the inputs d = x(t-2d), x(t-d), x(t), x(t+d)
// and the taps g = w[..., 0..2]; F(2,3) gets them from 4 products instead of 6:
//
//   V = Bᵀd = (d0 - d2, d1 + d2, d2 - d1, d1 - d3)      (per input channel and output pair)
//   U = G g = (g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2)       (per weight row, once per weight)
//   M_i[o] = sum_c U_i[o, c] V_i[c]                      (4 products over the channels)
//   y(t) = M0 + M1 + M2,  y(t+d) = M1 - M2 - M3          (Aᵀ M)
//
// so the channel sums, the whole cost, are 4*Cin*Cout per pair against 6 directly: 2/3 of the
// FLOPs of the GEMM formulation ONNX Runtime and PyTorch run. The transforms are exact in float
// (only halves) and the products are the same float sums, so the results match the direct sum to
// rounding.
//
// The pairs (t, t+d) tile the sequence in blocks of 2d steps: pair j is t = 2d*(j/d) + j%d. With d
// a power of two up to 64, 64 consecutive pairs are 128 consecutive steps. A work item is (batch
// element, 128 steps): it transforms its inputs into V (4 x Cin rows of 64, gathered from a
// zero-padded copy of the steps with vector shuffles), then for each block of 6 output channels runs the 4 products as register tiles (6 channels
// x 64 pairs, 24 accumulators of 16 floats, the weights broadcast from U packed
// [i][channel block][c][6]) and writes the outputs through Aᵀ. Items come from a shared counter,
// so a thread slowed down by other processes takes fewer.
#include "tempo_cpu.h"
#include "thread_team.h"
#include "vector_math.h"

#include <string.h>

enum {
    WINO_LANES = 16,
    WINO_ROWS = 6,                          // output channels per tile
    WINO_VECTORS = 4,
    WINO_PAIRS = WINO_VECTORS * WINO_LANES,  // output pairs per item
    WINO_STRIDE = WINO_PAIRS + 16,          // floats between rows of V: not a multiple of 4 KiB
};

typedef struct {
    const tempo_causal_conv_args *a;
    const float *packed;   // U: [4][blocks][Cin][6]
    float *workspace;      // per thread: V (4*Cin rows) and the product tiles
    int blocks;            // of WINO_ROWS output channels
    int items_per_sequence;
    int items;
    int next;              // the next item to take (atomic)
} wino_plan;

TEMPO_INLINE int blocks_of(const tempo_causal_conv_args *a) { return (a->output + WINO_ROWS - 1) / WINO_ROWS; }

int tempo_causal_conv_supported(const tempo_causal_conv_args *a) {
    const int d = a->dilation;
    return a->taps == 3 && d >= 1 && d <= TEMPO_CAUSAL_CONV_MAX_DILATION && (d & (d - 1)) == 0;
}

size_t tempo_causal_conv_packed_size(const tempo_causal_conv_args *a) {
    return (size_t)4 * blocks_of(a) * a->input * WINO_ROWS;
}

void tempo_causal_conv_pack(const tempo_causal_conv_args *a, const float *w, float *packed) {
    const int C = a->input, O = a->output, blocks = blocks_of(a);
    memset(packed, 0, sizeof(float) * tempo_causal_conv_packed_size(a));
    for (int o = 0; o < O; o++)
        for (int c = 0; c < C; c++) {
            const float *g = w + ((size_t)o * C + c) * 3;
            const float u[4] = {g[0], 0.5f * (g[0] + g[1] + g[2]), 0.5f * (g[0] - g[1] + g[2]), g[2]};
            for (int i = 0; i < 4; i++)
                packed[(((size_t)i * blocks + o / WINO_ROWS) * C + c) * WINO_ROWS + o % WINO_ROWS] = u[i];
        }
}

// V (4*Cin rows of WINO_STRIDE floats), 4 tiles of 6 x 64 products, one channel's 128 output
// steps, and one channel's input window (128 + 3d steps).
TEMPO_INLINE size_t thread_floats(const tempo_causal_conv_args *a) {
    return (size_t)4 * a->input * WINO_STRIDE + (size_t)4 * WINO_ROWS * WINO_PAIRS + 4 * WINO_PAIRS
        + 3 * TEMPO_CAUSAL_CONV_MAX_DILATION;
}

size_t tempo_causal_conv_workspace_size(const tempo_causal_conv_args *a, int threads) {
    return (size_t)(threads < 1 ? 1 : threads) * thread_floats(a);
}

// tile[r][j] = sum_c u[c][r] * v[c][j] for MR channels (MR <= 6) and NV*16 pairs (NV <= 4).
#define DEFINE_WINO_TILE(MR, NV)                                                                       \
    TEMPO_INLINE void wino_tile_##MR##x##NV(int C, const float *v, const float *u, float *tile) {      \
        v16 acc[MR][NV];                                                                               \
        for (int r = 0; r < MR; r++)                                                                   \
            for (int q = 0; q < NV; q++) acc[r][q] = (v16)0.0f;                                        \
        for (int c = 0; c < C; c++, v += WINO_STRIDE, u += WINO_ROWS) {                                \
            v16 in[NV];                                                                                \
            for (int q = 0; q < NV; q++) in[q] = *(const v16 *)(v + q * WINO_LANES);                   \
            for (int r = 0; r < MR; r++) {                                                             \
                const v16 weight = (v16)u[r];                                                          \
                for (int q = 0; q < NV; q++) acc[r][q] += weight * in[q];                              \
            }                                                                                          \
        }                                                                                              \
        for (int r = 0; r < MR; r++)                                                                   \
            for (int q = 0; q < NV; q++) *(v16 *)(tile + r * WINO_PAIRS + q * WINO_LANES) = acc[r][q]; \
    }
#define DEFINE_WINO_TILES(MR) DEFINE_WINO_TILE(MR, 1) DEFINE_WINO_TILE(MR, 2) DEFINE_WINO_TILE(MR, 3) DEFINE_WINO_TILE(MR, 4)
DEFINE_WINO_TILES(1)
DEFINE_WINO_TILES(2)
DEFINE_WINO_TILES(3)
DEFINE_WINO_TILES(4)
DEFINE_WINO_TILES(5)
DEFINE_WINO_TILES(6)

// A sequence's last item may need fewer than 64 pairs: a kernel per vector count, so that its
// tail costs what it computes (L = 61 needs 31 pairs, 2 vectors, not 4).
#define WINO_TILE_CASE(MR)                                                                             \
    case MR:                                                                                           \
        switch (vectors) {                                                                             \
        case 1: wino_tile_##MR##x1(C, v, u, tile); return;                                             \
        case 2: wino_tile_##MR##x2(C, v, u, tile); return;                                             \
        case 3: wino_tile_##MR##x3(C, v, u, tile); return;                                             \
        default: wino_tile_##MR##x4(C, v, u, tile); return;                                            \
        }
TEMPO_INLINE void wino_tile(int rows, int vectors, int C, const float *v, const float *u, float *tile) {
    switch (rows) {
    WINO_TILE_CASE(1)
    WINO_TILE_CASE(2)
    WINO_TILE_CASE(3)
    WINO_TILE_CASE(4)
    WINO_TILE_CASE(5)
    default:
    WINO_TILE_CASE(6)
    }
}

// With d a power of two up to 64, an item's 64 pairs are 64/d whole blocks of 2d steps: the
// 128 steps [T0, T0 + 128), T0 = 2*j0. Pair p of the item starts at step T0 + 2d*(p/d) + p%d.
//
// lanes(lo, hi): the 16 values at the pairs' starts from the 32 consecutive steps lo|hi that 16
// pairs span (d < 16): the first d of every 2d.
TEMPO_INLINE v16 starts_of(v16 lo, v16 hi, int d) {
    switch (d) {
    case 1: return __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    case 2: return __builtin_shufflevector(lo, hi, 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29);
    case 4: return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
    default: return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    }
}

// The inverse for outputs: 32 consecutive steps from the 16 first outputs y0 (at the pairs'
// starts) and the 16 second ones y1 (d later), as *lo and *hi (d < 16).
TEMPO_INLINE void interleave(v16 y0, v16 y1, int d, v16 *lo, v16 *hi) {
    switch (d) {
    case 1:
        *lo = __builtin_shufflevector(y0, y1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        *hi = __builtin_shufflevector(y0, y1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        return;
    case 2:
        *lo = __builtin_shufflevector(y0, y1, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
        *hi = __builtin_shufflevector(y0, y1, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
        return;
    case 4:
        *lo = __builtin_shufflevector(y0, y1, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
        *hi = __builtin_shufflevector(y0, y1, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
        return;
    default:
        *lo = __builtin_shufflevector(y0, y1, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        *hi = __builtin_shufflevector(y0, y1, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
        return;
    }
}

// The pairs' starts, 16 at a time, from `w`, where w[s] is step T0 + s: vector `q` covers pairs
// 16q.. of the item.
TEMPO_INLINE v16 pair_starts(const float *w, int q, int d) {
    if (d >= WINO_LANES) {
        // 16 pairs within one block of 2d steps: consecutive steps.
        const int p = q * WINO_LANES;
        return *(const v16_unaligned *)(w + 2 * d * (p / d) + p % d);
    }
    const float *span = w + 2 * q * WINO_LANES;
    return starts_of(*(const v16_unaligned *)span, *(const v16_unaligned *)(span + WINO_LANES), d);
}

// V for the item starting at step T0 of batch element b. `window` holds 128 + 3d floats.
TEMPO_INLINE void transform_inputs(const tempo_causal_conv_args *a, int b, long T0, int vectors, float *v, float *window) {
    const int C = a->input, L = a->length, d = a->dilation;
    const long first = T0 - 2L * d, count = 2L * WINO_PAIRS + 3L * d;
    for (int c = 0; c < C; c++) {
        // The steps [T0 - 2d, T0 + 128 + d), zeros outside the sequence (the causal padding
        // before it; past its end only outputs that are not stored read them).
        const float *x = a->x + ((size_t)b * C + c) * L;
        long i = 0;
        for (; i < count && first + i < 0; i++) window[i] = 0.0f;
        const long inside = (L - first < count ? L - first : count) - i;
        if (inside > 0) {
            memcpy(window + i, x + first + i, sizeof(float) * (size_t)inside);
            i += inside;
        }
        for (; i < count; i++) window[i] = 0.0f;
        float *v0 = v + (size_t)c * WINO_STRIDE, *v1 = v0 + (size_t)C * WINO_STRIDE;
        float *v2 = v1 + (size_t)C * WINO_STRIDE, *v3 = v2 + (size_t)C * WINO_STRIDE;
        for (int q = 0; q < vectors; q++) {
            // d0..d3: steps t - 2d, t - d, t, t + d of each pair's start t.
            const v16 d0 = pair_starts(window, q, d), d1 = pair_starts(window + d, q, d);
            const v16 d2 = pair_starts(window + 2 * d, q, d), d3 = pair_starts(window + 3 * d, q, d);
            *(v16 *)(v0 + q * WINO_LANES) = d0 - d2;
            *(v16 *)(v1 + q * WINO_LANES) = d1 + d2;
            *(v16 *)(v2 + q * WINO_LANES) = d2 - d1;
            *(v16 *)(v3 + q * WINO_LANES) = d1 - d3;
        }
    }
}

// The epilogue on 16 outputs, residual NULL for none.
TEMPO_INLINE v16 finish(const tempo_causal_conv_args *a, v16 y, const float *residual) {
    return v16_epilogue(y, a->activation, residual, 16, a->output_activation);
}

// Aᵀ M for one output channel, then the epilogue: the 128 steps from T0 into `out`, from its 64
// pairs' products (`residual`: the channel's residual from T0, or NULL).
TEMPO_INLINE void transform_outputs(
    const tempo_causal_conv_args *a, const float *m0, const float *m1, const float *m2, const float *m3, float bias,
    int vectors, const float *residual, float *out) {
    const int d = a->dilation;
    for (int q = 0; q < vectors; q++) {
        const int p = q * WINO_LANES;
        const v16 a0 = *(const v16 *)(m0 + p), a1 = *(const v16 *)(m1 + p);
        const v16 a2 = *(const v16 *)(m2 + p), a3 = *(const v16 *)(m3 + p);
        const v16 y0 = bias + a0 + a1 + a2, y1 = bias + a1 - a2 - a3;
        if (d >= WINO_LANES) {
            const int start = 2 * d * (p / d) + p % d;
            *(v16_unaligned *)(out + start) = finish(a, y0, residual ? residual + start : 0);
            *(v16_unaligned *)(out + start + d) = finish(a, y1, residual ? residual + start + d : 0);
        } else {
            v16 lo, hi;
            interleave(y0, y1, d, &lo, &hi);
            *(v16_unaligned *)(out + 2 * p) = finish(a, lo, residual ? residual + 2 * p : 0);
            *(v16_unaligned *)(out + 2 * p + WINO_LANES) = finish(a, hi, residual ? residual + 2 * p + WINO_LANES : 0);
        }
    }
}

TEMPO_INLINE void run_item(const wino_plan *p, int item, float *v) {
    const tempo_causal_conv_args *a = p->a;
    const int C = a->input, L = a->length, d = a->dilation, blocks = p->blocks;
    const int b = item / p->items_per_sequence;
    const long T0 = 2L * WINO_PAIRS * (item % p->items_per_sequence);
    const int steps = L - T0 < 2 * WINO_PAIRS ? (int)(L - T0) : 2 * WINO_PAIRS;
    // The pairs that start before L: a prefix, as starts grow with the pair's index.
    int needed = 0;
    while (needed < WINO_PAIRS && 2 * d * (needed / d) + needed % d < steps) needed++;
    const int vectors = (needed + WINO_LANES - 1) / WINO_LANES;
    float *tiles = v + (size_t)4 * C * WINO_STRIDE;
    float *out = tiles + (size_t)4 * WINO_ROWS * WINO_PAIRS;  // 128 steps, then the input window
    transform_inputs(a, b, T0, vectors, v, out + 2 * WINO_PAIRS);
    for (int block = 0; block < blocks; block++) {
        const int o0 = block * WINO_ROWS;
        const int rows = a->output - o0 < WINO_ROWS ? a->output - o0 : WINO_ROWS;
        for (int i = 0; i < 4; i++)
            wino_tile(
                rows, vectors, C, v + (size_t)i * C * WINO_STRIDE, p->packed + (((size_t)i * blocks + block) * C) * WINO_ROWS,
                tiles + (size_t)i * WINO_ROWS * WINO_PAIRS);
        for (int r = 0; r < rows; r++) {
            const float *m0 = tiles + (size_t)r * WINO_PAIRS, *m1 = m0 + WINO_ROWS * WINO_PAIRS;
            const float *m2 = m1 + WINO_ROWS * WINO_PAIRS, *m3 = m2 + WINO_ROWS * WINO_PAIRS;
            const size_t row = ((size_t)b * a->output + o0 + r) * L + T0;
            const float bias = a->bias ? a->bias[o0 + r] : 0.0f;
            if (steps == 2 * WINO_PAIRS) {
                transform_outputs(a, m0, m1, m2, m3, bias, vectors, a->residual ? a->residual + row : 0, a->y + row);
            } else {
                // The sequence's last, partial item: only its steps before L are stored (and its
                // residual read), through `out` and a copy of the residual's steps.
                float *residual = 0;
                if (a->residual) {
                    residual = out + 2 * WINO_PAIRS;
                    memset(residual, 0, sizeof(float) * 2 * WINO_PAIRS);
                    memcpy(residual, a->residual + row, sizeof(float) * (size_t)steps);
                }
                transform_outputs(a, m0, m1, m2, m3, bias, vectors, residual, out);
                memcpy(a->y + row, out, sizeof(float) * (size_t)steps);
            }
        }
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void run_thread(void *context, int thread, int threads) {
    (void)threads;
    wino_plan *p = context;
    float *v = p->workspace + (size_t)thread * thread_floats(p->a);
    for (;;) {
        const int item = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
        if (item >= p->items) break;
        run_item(p, item, v);
    }
}

int tempo_causal_conv(const tempo_causal_conv_args *a, const float *packed, float *workspace, int threads) {
    wino_plan p = {0};
    p.a = a;
    p.packed = packed;
    p.workspace = workspace;
    p.blocks = blocks_of(a);
    // An item covers 128 steps (64 pairs; d divides 64).
    p.items_per_sequence = (a->length + 2 * WINO_PAIRS - 1) / (2 * WINO_PAIRS);
    p.items = a->batch * p.items_per_sequence;
    // A second thread pays for itself from a few MFLOP of work.
    const double flops = 2.0 * a->batch * a->output * a->length * (double)a->input * a->taps;
    if (flops < 4e6 || threads < 1) threads = 1;
    if (threads > p.items) threads = p.items;
    return tempo_team_run(threads, run_thread, &p);
}

typedef struct {
    float *y;
    const float *residual;
    size_t count;
    tempo_activation activation, output_activation;
} epilogue_job;

// Elements [begin, end) of the job. (Its v16 values stay inside inlined code: a clone passing
// them to a call would change the vector ABI.)
TEMPO_INLINE void epilogue_range(const epilogue_job *job, size_t begin, size_t end) {
    for (size_t i = begin; i < end && i < job->count; i += 16) {
        const int n = job->count - i < 16 ? (int)(job->count - i) : 16;
        const float *residual = job->residual ? job->residual + i : 0;
        const v16 y = v16_epilogue(v16_load(job->y + i, n), job->activation, residual, n, job->output_activation);
        v16_store(job->y + i, y, n);
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void run_epilogue(void *context, int thread, int threads) {
    const epilogue_job *job = context;
    // Thread t's share, in whole vectors but for the last.
    const size_t vectors = (job->count + 15) / 16;
    epilogue_range(job, vectors * thread / threads * 16, vectors * (thread + 1) / threads * 16);
}

void tempo_conv_epilogue(float *y, const float *residual, size_t count, tempo_activation activation,
                         tempo_activation output_activation, int threads) {
    epilogue_job job = {y, residual, count, activation, output_activation};
    // Memory-bound: a second thread helps from about a megabyte on.
    tempo_team_run(count < (1u << 18) ? 1 : threads, run_epilogue, &job);
}
