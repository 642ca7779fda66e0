// attention.c -- flash-style scaled dot-product attention on the CPU (see tempo_cpu.h; semantics in
// Ops/Attention.swift).
//
// A work item is one block of QB = 64 queries of one (batch, head). It keeps, per thread:
//   qT [d][QB]    the block's queries, transposed and multiplied by scale * log2(e)
//   sT [RK][QB]   the scores of one step of RK keys, transposed (a row per key), then their weights
//   oT [dv][QB]   the output accumulator, transposed
//   m, l [QB]     the running maximum (base 2) and the running sum of the weights
// and streams the head's keys and values RK at a time straight from the caller's arrays (K and V
// of one head, 256 KiB at S = 512, d = 64, stay in L2 across the head's blocks). The transposed
// layout is what makes this work without packing K or V: in S^T = K Q^T a key element is
// broadcast against contiguous vectors of 16 queries of qT, and in O^T += V^T P^T a value element
// is broadcast against the same 16-query vectors of the weights, which stay in registers for the
// whole step. The online softmax runs down columns: the max over a step's keys is an elementwise
// max of its rows, and rescaling oT is one multiply per vector, folded into the value update.
//
// The shape, measured at B8 h8 S512 d64 on one Zen 4 core (min of 15): QB = 64 with RK = 6 keys
// per step (24 score accumulators, 6 broadcasts per 24 FMAs) ran full attention in ~40 ms; QB = 32
// with RK = 8 (8 broadcasts per 16 FMAs) ~47-66 ms, with RK = 12 ~68 ms; a first version with 64-key
// tiles of scores in memory, three passes over them and 64 x 64 blocks ~2x slower than the best.
//
// Scores are kept in base 2 (log2(e) is folded into the query scale and the additive mask), so the
// weights are exp2(s - m) from vector_math.h. Masked scores are -inf and exp2 gives exactly 0
// there; a column whose maximum is still -inf (every key so far masked) subtracts 0 instead, so
// nothing is NaN, and a query with l = 0 at the end (every key masked) writes zeros.
//
// Causal blocks stop at their last query's diagonal; only steps crossing the diagonal apply the
// causal mask. Blocks are handed out heaviest first (the last query blocks, which see the most
// keys) from a shared counter, so the threads finish together.
#include "tempo_cpu.h"
#include "thread_team.h"
#include "vector_math.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#ifndef ATTENTION_QV
#define ATTENTION_QV 4
#endif
#ifndef ATTENTION_RK
#define ATTENTION_RK 6
#endif

enum {
    LANES = 16,
    QV = ATTENTION_QV,  // vectors of 16 queries per block
    QB = 16 * QV,       // queries per block
    RK = ATTENTION_RK,  // keys per step, their scores in RK x QV registers
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
    return round_up((size_t)QB * a->head_dim) + (size_t)QB * RK + round_up((size_t)QB * a->value_dim) + 3 * QB
        + round_up((size_t)RK * a->head_dim) + round_up((size_t)RK * a->value_dim);
}

size_t tempo_attention_workspace_size(const tempo_attention_args *a, int threads) {
    return thread_floats(a) * (size_t)(threads < 1 ? 1 : threads);
}

// sT[jj][q] = sum_c k[jj * ldk + c] * qT[c][q] for the RK keys of a step and the block's QB
// queries: each key element broadcast against the QV query vectors, in RK x QV accumulators.
// A function of its own, with loops of constant length over a local accumulator array, so that
// the accumulators stay in registers (inlined into a longer body, clang kept them on the stack).
TEMPO_INLINE void score_step(int d, const float *restrict k, int ldk, const float *restrict qT, float *restrict sT) {
    v16 acc[RK][QV];
    for (int jj = 0; jj < RK; jj++)
        for (int w = 0; w < QV; w++) acc[jj][w] = (v16)0.0f;
    for (int c = 0; c < d; c++) {
        const v16 *q = (const v16 *)(qT + (size_t)c * QB);
        for (int jj = 0; jj < RK; jj++) {
            const v16 x = (v16)k[(size_t)jj * ldk + c];
            for (int w = 0; w < QV; w++) acc[jj][w] += x * q[w];
        }
    }
    for (int jj = 0; jj < RK; jj++)
        for (int w = 0; w < QV; w++) *(v16 *)(sT + jj * QB + w * LANES) = acc[jj][w];
}

// oT[c][q] = oT[c][q] * alpha[q] + sum_jj v[jj * ldv + c] * p[jj][q] for every value channel c
// (alpha only when RESCALE): the step's weights held in RK x QV registers, each value element
// broadcast against them.
#define DEFINE_VALUE_STEP(NAME, RESCALE)                                                             \
    TEMPO_INLINE void NAME(int dv, const float *restrict v, int ldv, const float *restrict p,       \
                           const float *restrict alpha, float *restrict oT) {                       \
        v16 weights[RK][QV];                                                                         \
        for (int jj = 0; jj < RK; jj++)                                                              \
            for (int w = 0; w < QV; w++) weights[jj][w] = *(const v16 *)(p + jj * QB + w * LANES);  \
        for (int c = 0; c < dv; c++) {                                                               \
            v16 *o = (v16 *)(oT + (size_t)c * QB);                                                   \
            v16 acc[QV];                                                                             \
            /* alpha from memory each time: 24 weights, 4 accumulators and 4 scales would not fit */ \
            /* in 32 registers. */                                                                   \
            for (int w = 0; w < QV; w++) acc[w] = RESCALE ? o[w] * *(const v16 *)(alpha + w * LANES) : o[w]; \
            for (int jj = 0; jj < RK; jj++) {                                                        \
                const v16 x = (v16)v[(size_t)jj * ldv + c];                                          \
                for (int w = 0; w < QV; w++) acc[w] += x * weights[jj][w];                           \
            }                                                                                        \
            for (int w = 0; w < QV; w++) o[w] = acc[w];                                              \
        }                                                                                            \
    }
DEFINE_VALUE_STEP(value_step, 0)
DEFINE_VALUE_STEP(value_step_rescaled, 1)

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

// How far a query's reference maximum may fall behind its true running maximum (base 2) before
// the accumulators are rescaled: weights then reach at most 2^8, harmless in float32, and the
// rescaling (a multiply per output element) happens only when the maximum jumps, a few times per
// query instead of at every step (FlashAttention-4's conditional rescaling).
static const float RESCALE_SLACK = 8.0f;

// The online softmax of one step: turns sT into weights against the reference maximum m, moving
// m up first in the lanes whose scores exceed it by more than RESCALE_SLACK (or where it is still
// -inf). alpha receives the factor that scales what came before (1 where m did not move); the
// return value says whether any lane moved, i.e. whether oT needs rescaling.
TEMPO_INLINE int softmax_step(float *restrict sT, float *restrict m, float *restrict l, float *restrict alpha) {
    vi16 moved_any = (vi16)0;
    for (int w = 0; w < QV; w++) {
        v16 s[RK];
        for (int jj = 0; jj < RK; jj++) s[jj] = *(const v16 *)(sT + jj * QB + w * LANES);
        v16 tile_max = s[0];
        for (int jj = 1; jj < RK; jj++) tile_max = __builtin_elementwise_max(tile_max, s[jj]);
        const v16 old_max = *(const v16 *)(m + w * LANES);
        const vi16 moves = tile_max > old_max + RESCALE_SLACK;
        const v16 new_max = (v16)(((vi16)tile_max & moves) | ((vi16)old_max & ~moves));
        moved_any |= moves;
        // A column still at -inf (all keys masked so far) subtracts 0, keeping -inf - -inf out.
        const v16 shift = (v16)((vi16)new_max & (new_max != (v16)-INFINITY));
        const v16 a = v16_exp2(old_max - shift);
        v16 sum = (v16)0.0f;
        for (int jj = 0; jj < RK; jj++) {
            const v16 p = v16_exp2(s[jj] - shift);
            *(v16 *)(sT + jj * QB + w * LANES) = p;
            sum += p;
        }
        *(v16 *)(m + w * LANES) = new_max;
        // Lanes that did not move keep l exactly (alpha would be 1 there, or 0 while still -inf,
        // where l is 0 anyway).
        const v16 scaled = *(const v16 *)(l + w * LANES) * (v16)(((vi16)a & moves) | ((vi16)(v16)1.0f & ~moves));
        *(v16 *)(l + w * LANES) = scaled + sum;
        *(v16 *)(alpha + w * LANES) = (v16)(((vi16)a & moves) | ((vi16)(v16)1.0f & ~moves));
    }
    for (int l = 1; l < LANES; l++) moved_any[0] |= moved_any[l];
    return moved_any[0] != 0;
}

// Inlined into each per-CPU clone of run_thread: a plain static function would be compiled once,
// for the baseline instruction set.
TEMPO_INLINE void run_block(const tempo_attention_args *a, float *scratch, int item, int blocks) {
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
    float *oT = sT + (size_t)QB * RK;
    float *m = oT + round_up((size_t)QB * dv);
    float *l = m + QB, *alpha = l + QB;
    float *kpad = alpha + QB;
    float *vpad = kpad + round_up((size_t)RK * d);

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
    for (int j0 = 0; j0 < end; j0 += RK) {
        const int nk = end - j0 < RK ? end - j0 : RK;
        const float *ks = k + (size_t)j0 * d, *vs = v + (size_t)j0 * dv;
        if (nk < RK) {
            // The last, partial step reads zero-padded copies (its extra keys are masked below).
            memset(kpad, 0, sizeof(float) * RK * d);
            memset(vpad, 0, sizeof(float) * RK * dv);
            memcpy(kpad, ks, sizeof(float) * nk * d);
            memcpy(vpad, vs, sizeof(float) * nk * dv);
            ks = kpad;
            vs = vpad;
        }
        score_step(d, ks, d, qT, sT);
        if (nk < RK)
            for (int jj = nk; jj < RK; jj++)
                for (int r = 0; r < QB; r++) sT[jj * QB + r] = -INFINITY;
        apply_masks(a, b, head, i0, nq, j0, nk, sT);
        if (softmax_step(sT, m, l, alpha)) value_step_rescaled(dv, vs, dv, sT, alpha, oT);
        else value_step(dv, vs, dv, sT, alpha, oT);
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
