// attention.c -- flash-style scaled dot-product attention on the CPU (see tempo_cpu.h; semantics in
// Ops/Attention.swift).
//
// A work item is one block of QB = 64 queries of one (batch, head). It keeps, per thread:
//   qT [d][64]    the block's queries, transposed and multiplied by scale * log2(e)
//   sT [KT][64]   the scores of one tile of KT keys, transposed (a row per key), then their weights
//   oT [dv][64]   the output accumulator, transposed
//   m, l [64]     the running maximum (base 2) and the running sum of the weights
// and streams the head's keys and values in tiles of KT straight from the caller's arrays. The
// transposed layout is what makes this work without packing K or V: in S^T = K Q^T a key row of K
// is broadcast against contiguous vectors of 16 queries of qT (tile_product.h's register tile with
// K as the rows), and in O^T += V^T P^T a value element is broadcast against the same 16-query
// vectors of the weights. The online softmax then runs down columns: the max over a tile's keys is
// an elementwise max of its rows, and the rescaling of oT is one multiply per vector.
//
// Scores are kept in base 2 (log2(e) is folded into the query scale and the additive mask), so the
// weights are exp2(s - m) from vector_math.h. Masked scores are -inf and exp2 gives exactly 0
// there; a column whose maximum is still -inf (every key so far masked) subtracts 0 instead, so
// nothing is NaN, and a query with l = 0 at the end (every key masked) writes zeros.
//
// Causal blocks stop at the tile holding their last query's diagonal; only tiles crossing the
// diagonal apply the causal mask. Blocks are handed out heaviest first (the last query blocks,
// which see the most keys) from a shared counter, so the threads finish together.
#include "tempo_cpu.h"
#include "thread_team.h"
#include "tile_product.h"
#include "vector_math.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

enum {
    QB = 64,        // queries per block: 4 vectors of 16, tile_product's 4-vector panel width
    QV = QB / 16,
    KT = 64,        // keys per tile: sT is 16 KiB and the tile's K and V rows stay in L1/L2
    VALUE_ROWS = 6  // value channels per O^T register tile: 6 x 4 = 24 accumulators
};

static const float LOG2E = 1.4426950408889634f;

typedef struct {
    const tempo_attention_args *a;
    float *workspace;
    size_t thread_floats;
    int blocks;  // query blocks per head
    int items;
    _Atomic int next;
} attention_run;

static size_t round_up(size_t floats) { return (floats + 15) & ~(size_t)15; }

static size_t thread_floats(const tempo_attention_args *a) {
    return round_up((size_t)QB * a->head_dim) + (size_t)QB * KT + round_up((size_t)QB * a->value_dim) + 2 * QB;
}

size_t tempo_attention_workspace_size(const tempo_attention_args *a, int threads) {
    return thread_floats(a) * (size_t)(threads < 1 ? 1 : threads);
}

// oT[c0 + r][q] += sum_j v[j * ldv + r] * p[j][q] for r < MR, j < n, all 64 queries: MR value
// channels of n keys against the tile's weights, in MR x 4 accumulators.
#define DEFINE_VALUE_PRODUCT(MR)                                                                     \
    TEMPO_INLINE void value_product_##MR(int n, const float *v, int ldv, const float *restrict p,   \
                                         float *restrict o) {                                       \
        v16 acc[MR][QV];                                                                             \
        for (int r = 0; r < MR; r++)                                                                 \
            for (int w = 0; w < QV; w++) acc[r][w] = *(const v16 *)(o + (r * QV + w) * LANES);      \
        for (int j = 0; j < n; j++) {                                                                \
            const v16 *pj = (const v16 *)(p + (size_t)j * QB);                                       \
            const float *vj = v + (size_t)j * ldv;                                                   \
            for (int r = 0; r < MR; r++) {                                                           \
                const v16 a = (v16)vj[r];                                                            \
                for (int w = 0; w < QV; w++) acc[r][w] += a * pj[w];                                 \
            }                                                                                        \
        }                                                                                            \
        for (int r = 0; r < MR; r++)                                                                 \
            for (int w = 0; w < QV; w++) *(v16 *)(o + (r * QV + w) * LANES) = acc[r][w];            \
    }
DEFINE_VALUE_PRODUCT(1)
DEFINE_VALUE_PRODUCT(2)
DEFINE_VALUE_PRODUCT(3)
DEFINE_VALUE_PRODUCT(4)
DEFINE_VALUE_PRODUCT(5)
DEFINE_VALUE_PRODUCT(6)

TEMPO_INLINE void value_product(int rows, int n, const float *v, int ldv, const float *p, float *o) {
    switch (rows) {
    case 1: value_product_1(n, v, ldv, p, o); return;
    case 2: value_product_2(n, v, ldv, p, o); return;
    case 3: value_product_3(n, v, ldv, p, o); return;
    case 4: value_product_4(n, v, ldv, p, o); return;
    case 5: value_product_5(n, v, ldv, p, o); return;
    default: value_product_6(n, v, ldv, p, o); return;
    }
}

// The masks of one tile: sT[jj][r] for key j0 + jj and query i0 + r (r < nq; the padding queries
// past the end are never written out, so their scores may stay as they are).
TEMPO_INLINE void apply_masks(const tempo_attention_args *a, int b, int head, int i0, int nq, int j0, int nk,
                              float *sT) {
    const int crosses_diagonal = a->causal && j0 + nk - 1 > i0;
    if (crosses_diagonal) {
        for (int jj = 0; jj < nk; jj++)
            for (int r = 0; r < nq && i0 + r < j0 + jj; r++) sT[jj * QB + r] = -INFINITY;
    }
    if (a->mask) {
        const int64_t *s = a->mask_strides;
        const float *base = a->mask + b * s[0] + head * s[1] + i0 * s[2] + j0 * s[3];
        for (int jj = 0; jj < nk; jj++)
            for (int r = 0; r < nq; r++)
                if (base[r * s[2] + jj * s[3]] == 0.0f) sT[jj * QB + r] = -INFINITY;
    }
    if (a->additive) {
        const int64_t *s = a->additive_strides;
        const float *base = a->additive + b * s[0] + head * s[1] + i0 * s[2] + j0 * s[3];
        for (int jj = 0; jj < nk; jj++)
            for (int r = 0; r < nq; r++) sT[jj * QB + r] += LOG2E * base[r * s[2] + jj * s[3]];
    }
}

// The online softmax over one tile of nk keys: turns sT into weights against the updated running
// maximum, and rescales l and oT by how much the maximum grew.
TEMPO_INLINE void online_softmax(int nk, int dv, float *sT, float *m, float *l, float *oT) {
    for (int w = 0; w < QV; w++) {
        v16 tile_max = (v16)-INFINITY;
        for (int jj = 0; jj < nk; jj++) tile_max = __builtin_elementwise_max(tile_max, *(v16 *)(sT + jj * QB + w * LANES));
        const v16 old_max = *(v16 *)(m + w * LANES);
        const v16 new_max = __builtin_elementwise_max(old_max, tile_max);
        // A column still at -inf (all keys masked so far) subtracts 0, keeping -inf - -inf out.
        const v16 shift = (v16)((vi16)new_max & (new_max != (v16)-INFINITY));
        const v16 alpha = v16_exp2(old_max - shift);
        v16 sum = (v16)0.0f;
        for (int jj = 0; jj < nk; jj++) {
            v16 *s = (v16 *)(sT + jj * QB + w * LANES);
            const v16 p = v16_exp2(*s - shift);
            *s = p;
            sum += p;
        }
        *(v16 *)(m + w * LANES) = new_max;
        *(v16 *)(l + w * LANES) = *(v16 *)(l + w * LANES) * alpha + sum;
        for (int c = 0; c < dv; c++) {
            v16 *o = (v16 *)(oT + c * QB + w * LANES);
            *o *= alpha;
        }
    }
}

static void run_block(const tempo_attention_args *a, float *scratch, int item, int blocks) {
    const int d = a->head_dim, dv = a->value_dim;
    // Heaviest first: the last query block of every head, then the one before, ...
    const int block = blocks - 1 - item / (a->batch * a->heads);
    const int bh = item % (a->batch * a->heads), b = bh / a->heads, head = bh % a->heads;
    const int kv_head = head / (a->heads / a->kv_heads);
    const int i0 = block * QB, nq = a->queries - i0 < QB ? a->queries - i0 : QB;
    const float *q = a->q + ((size_t)bh * a->queries + i0) * d;
    const float *k = a->k + ((size_t)b * a->kv_heads + kv_head) * a->keys * d;
    const float *v = a->v + ((size_t)b * a->kv_heads + kv_head) * a->keys * dv;

    float *qT = scratch;
    float *sT = qT + round_up((size_t)QB * d);
    float *oT = sT + (size_t)QB * KT;
    float *m = oT + round_up((size_t)QB * dv);
    float *l = m + QB;

    const float qscale = a->scale * LOG2E;
    for (int c = 0; c < d; c++) {
        for (int r = 0; r < nq; r++) qT[c * QB + r] = qscale * q[(size_t)r * d + c];
        for (int r = nq; r < QB; r++) qT[c * QB + r] = 0.0f;
    }
    memset(oT, 0, sizeof(float) * QB * dv);
    for (int r = 0; r < QB; r++) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
    }

    // Keys this block sees: up to its last query's diagonal when causal.
    const int end = a->causal && i0 + nq < a->keys ? i0 + nq : a->keys;
    for (int j0 = 0; j0 < end; j0 += KT) {
        const int nk = end - j0 < KT ? end - j0 : KT;
        for (int jj = 0; jj < nk; jj += 6) {
            const int rows = nk - jj < 6 ? nk - jj : 6;
            const float *key_rows[6];
            for (int r = 0; r < rows; r++) key_rows[r] = k + (size_t)(j0 + jj + r) * d;
            tile_product(4, rows, d, key_rows, qT, sT + (size_t)jj * QB);
        }
        apply_masks(a, b, head, i0, nq, j0, nk, sT);
        online_softmax(nk, dv, sT, m, l, oT);
        for (int c0 = 0; c0 < dv; c0 += VALUE_ROWS) {
            const int rows = dv - c0 < VALUE_ROWS ? dv - c0 : VALUE_ROWS;
            value_product(rows, nk, v + (size_t)j0 * dv + c0, dv, sT, oT + (size_t)c0 * QB);
        }
    }

    float *out = a->out + ((size_t)bh * a->queries + i0) * dv;
    for (int r = 0; r < nq; r++) {
        const float inverse = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
        for (int c = 0; c < dv; c++) out[(size_t)r * dv + c] = oT[c * QB + r] * inverse;
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void run_thread(void *context, int thread, int threads) {
    (void)threads;
    attention_run *run = context;
#if defined(__x86_64__) || defined(__i386__)
    // Flush denormals while the blocks run: weights of scores far below the maximum would
    // otherwise cost a microcode assist per product. The caller's mode is restored.
    const unsigned saved_mxcsr = __builtin_ia32_stmxcsr();
    __builtin_ia32_ldmxcsr(saved_mxcsr | 0x8040);
#endif
    float *scratch = run->workspace + (size_t)thread * run->thread_floats;
    for (int item; (item = atomic_fetch_add_explicit(&run->next, 1, memory_order_relaxed)) < run->items;)
        run_block(run->a, scratch, item, run->blocks);
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_ldmxcsr(saved_mxcsr);
#endif
}

int tempo_attention(const tempo_attention_args *a, float *workspace, int threads) {
    attention_run run = {.a = a, .workspace = workspace, .thread_floats = thread_floats(a)};
    run.blocks = (a->queries + QB - 1) / QB;
    run.items = run.blocks * a->batch * a->heads;
    atomic_init(&run.next, 0);
    // One thread below ~2 MFLOP, where waking a second costs more than it saves.
    const double flops = 2.0 * a->batch * a->heads * (double)a->queries * a->keys * (a->head_dim + a->value_dim);
    if (threads > run.items) threads = run.items;
    if (flops < 2e6 || threads < 1) threads = 1;
    return tempo_team_run(threads, run_thread, &run);
}
