// causal_conv1d_step.c -- one streaming step of a dilated causal convolution on the CPU.
//
// A step is a small GEMM, y[B, Cout] = [tap_0 | ... | tap_{K-1}] [K*Cin, Cout], whose K blocks
// of A lie in different buffers (the input and K-1 slots of the history ring). Each block of up to
// 6 batch rows and each panel of 64 outputs runs as K register-tiled products (tile_product.h)
// into one tile, one per tap, reading the taps in place, then the epilogue (bias, activation,
// residual, output activation) while the tile is in L1. The weight is packed once into panels
// contiguous along (tap, channel), so each product streams its panel in order.
//
// Work items are (panel, block of rows), shared with the team's ready workers when the step is
// big enough to pay for a hand-off (see useful_threads): the caller takes them from the front,
// workers from the back. With several blocks of rows they go block by block, so each thread keeps
// its rows; with one, panel by panel, so each thread keeps its panels' weights in its core's
// cache from one step to the next (see make_plan). A chain of steps, each reading outputs of the
// ones before (a TCN's convolutions), runs as one job whose phases are the steps: one hand-off
// per sample instead of one per convolution.
//
// K = 3 (the TCN's usual kernel) pairs steps d apart, Winograd's F(2,3) unrolled in time: with
// x0, x1, x2, x3 the samples t-2d, t-d, t, t+d and g0, g1, g2 the taps' weights,
//
//   y_t    = m1 + m2 + m3,  m1 = (x0 - x2) g0,  m2 = (x1 + x2)(g0 + g1 + g2)/2,  m3 = (x2 - x1)(g0 - g1 + g2)/2
//   y_{t+d} = (m2 - m3) - m4,  m4 = (x1 - x3) g2
//
// so step t (the first of its pair) costs three products, as the direct sum does, and keeps
// m2 - m3 in a stash of d slots; step t+d (the second) costs one product. A stream's steps are
// firsts and seconds alike (t mod 2d < d or not), so a sample costs 2/3 of the direct products on
// average and never more, the saving the whole-sequence convolution gets from the same F(2,3).
// The weight is packed as the four matrices g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2.
//
// Grouped convolutions (depthwise and the like) read the weight in place in a direct loop: their
// products are too thin for panels of 64 outputs, and they are a sliver of a TCN's work.
#include "tempo_cpu.h"
#include "thread_team.h"
#include "tile_product.h"
#include "vector_math.h"

#include <string.h>

enum { STEP_VECTORS = 4, STEP_ROWS = 6, STEP_PANEL = STEP_VECTORS * LANES };

typedef struct {
    const tempo_conv_step_args *a;
    const float *packed;
    int panels;        // of STEP_PANEL outputs
    int blocks;        // of at most STEP_ROWS batch rows
    int by_rows;       // items block by block (each thread its own rows), else panel by panel
    int items;         // (panel, block) pairs, or (batch row, 16 outputs) pairs without panels
} step_plan;

int tempo_conv_step_pairs(const tempo_conv_step_args *a) { return a->taps == 3 && a->groups == 1; }

// Matrices of [Cin, 64] per panel: one per tap, or the four of a paired step.
static int panel_matrices(const tempo_conv_step_args *a) { return tempo_conv_step_pairs(a) ? 4 : a->taps; }

size_t tempo_conv_step_packed_size(const tempo_conv_step_args *a) {
    if (a->groups != 1) return 0;
    const size_t panels = (size_t)(a->output + STEP_PANEL - 1) / STEP_PANEL;
    return panels * (size_t)panel_matrices(a) * (size_t)a->input * STEP_PANEL;
}

// packed[((panel * M + m) * Cin + c) * 64 + j] = matrix m's [c, panel * 64 + j], zero past Cout:
// the panel's M matrices one after the other, each the [Cin, 64] slice a product streams. The
// matrices are the taps' w[., c, k], or for a paired step g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2.
void tempo_conv_step_pack(const tempo_conv_step_args *a, float *packed) {
    const int K = a->taps, C = a->input, O = a->output, M = panel_matrices(a);
    memset(packed, 0, sizeof(float) * tempo_conv_step_packed_size(a));
    for (int o = 0; o < O; o++) {
        float *column = packed + (size_t)(o / STEP_PANEL) * M * C * STEP_PANEL + o % STEP_PANEL;
        // Each weight row read once, in order; the writes stride through a panel that stays in L2.
        const float *row = a->w + (size_t)o * C * K;
        for (int c = 0; c < C; c++) {
            const float *g = row + (size_t)c * K;
            if (M == 4) {
                const float matrices[4] = {g[0], (g[0] + g[1] + g[2]) * 0.5f, (g[0] - g[1] + g[2]) * 0.5f, g[2]};
                for (int m = 0; m < 4; m++) column[((size_t)m * C + c) * STEP_PANEL] = matrices[m];
            } else {
                for (int k = 0; k < K; k++) column[((size_t)k * C + c) * STEP_PANEL] = g[k];
            }
        }
    }
}

// Tap k's [B, Cin] samples: the input for the last tap, else the ring slot (K-1-k)*d steps back.
TEMPO_INLINE const float *tap(const tempo_conv_step_args *a, int k) {
    if (k == a->taps - 1) return a->x;
    const int slot = (a->position - (a->taps - 1 - k) * a->dilation + a->slots) % a->slots;
    return a->history + (size_t)slot * a->batch * a->input;
}

// The epilogue of outputs [o, o + n) of batch row b (n <= 16) from their sums `acc`. Called with
// a literal 16 for whole vectors, so that their loads and stores are plain vector moves.
TEMPO_INLINE void finish(const tempo_conv_step_args *a, int b, int o, int n, v16 acc) {
    if (a->bias) acc += v16_load(a->bias + o, n);
    const float *residual = a->residual ? a->residual + (size_t)b * a->output + o : 0;
    v16_store(a->y + (size_t)b * a->output + o, v16_epilogue(acc, a->activation, residual, n, a->output_activation), n);
}

TEMPO_INLINE void finish_any(const tempo_conv_step_args *a, int b, int o, int n, v16 acc) {
    if (n == LANES) finish(a, b, o, LANES, acc);
    else finish(a, b, o, n, acc);
}

// Appends rows [r0, r0 + rows) of x to the history: the slot of x held the sample S steps back,
// which no tap of this step reads, so it may be written while other items read the taps. Done
// by the items, spread over the threads, rather than after the step: the slots are cold (a TCN's
// rings hold ~0.5 MB at B16), and one thread writing them all cost ~8 % of a step.
TEMPO_INLINE void append_rows(const tempo_conv_step_args *a, int r0, int rows) {
    if (a->slots == 0) return;
    const size_t offset = ((size_t)a->position * a->batch + r0) * a->input;
    memcpy(a->history + offset, a->x + (size_t)r0 * a->input, sizeof(float) * rows * a->input);
}

enum { TILE_FLOATS = STEP_ROWS * STEP_PANEL, PAIR_CHANNELS = 256 };

// The direct sum: one product per tap into `tile`, reading the taps in place.
TEMPO_INLINE void tap_products(const tempo_conv_step_args *a, const float *panel, int r0, int rows, float *tile) {
    for (int k = 0; k < a->taps; k++) {
        const float *source = tap(a, k), *row_pointers[MAX_ROWS];
        for (int r = 0; r < rows; r++) row_pointers[r] = source + (size_t)(r0 + r) * a->input;
        tile_product_adding(
            STEP_VECTORS, rows, a->input, row_pointers, panel + (size_t)k * a->input * STEP_PANEL, tile, k > 0);
    }
}

// The first of a pair: m1, m2, m3 into `tiles` (three tiles), their inputs x0 - x2, x1 + x2 and
// x2 - x1 formed PAIR_CHANNELS channels at a time (the products take whole rows of A).
TEMPO_INLINE void first_of_pair(const tempo_conv_step_args *a, const float *panel, int r0, int rows, float *tiles) {
    float inputs[3][STEP_ROWS][PAIR_CHANNELS] __attribute__((aligned(64)));
    const float *x0 = tap(a, 0), *x1 = tap(a, 1), *x2 = a->x;
    for (int c0 = 0; c0 < a->input; c0 += PAIR_CHANNELS) {
        const int n = a->input - c0 < PAIR_CHANNELS ? a->input - c0 : PAIR_CHANNELS;
        for (int r = 0; r < rows; r++) {
            const size_t at = (size_t)(r0 + r) * a->input + c0;
            for (int c = 0; c < n; c++) {
                inputs[0][r][c] = x0[at + c] - x2[at + c];
                inputs[1][r][c] = x1[at + c] + x2[at + c];
                inputs[2][r][c] = x2[at + c] - x1[at + c];
            }
        }
        for (int m = 0; m < 3; m++) {
            const float *row_pointers[MAX_ROWS];
            for (int r = 0; r < rows; r++) row_pointers[r] = inputs[m][r];
            const float *matrix = panel + ((size_t)m * a->input + c0) * STEP_PANEL;
            tile_product_adding(STEP_VECTORS, rows, n, row_pointers, matrix, tiles + m * TILE_FLOATS, c0 > 0);
        }
    }
}

// The second of a pair: m4 = (x1 - x3) g2 into `tile` (x1 is tap 0 now, x3 the input).
TEMPO_INLINE void second_of_pair(const tempo_conv_step_args *a, const float *panel, int r0, int rows, float *tile) {
    float inputs[STEP_ROWS][PAIR_CHANNELS] __attribute__((aligned(64)));
    const float *x1 = tap(a, 0), *x3 = a->x;
    for (int c0 = 0; c0 < a->input; c0 += PAIR_CHANNELS) {
        const int n = a->input - c0 < PAIR_CHANNELS ? a->input - c0 : PAIR_CHANNELS;
        const float *row_pointers[MAX_ROWS];
        for (int r = 0; r < rows; r++) {
            const size_t at = (size_t)(r0 + r) * a->input + c0;
            for (int c = 0; c < n; c++) inputs[r][c] = x1[at + c] - x3[at + c];
            row_pointers[r] = inputs[r];
        }
        tile_product_adding(STEP_VECTORS, rows, n, row_pointers, panel + ((size_t)3 * a->input + c0) * STEP_PANEL, tile, c0 > 0);
    }
}

// Item `item` of the packed path: a panel and a block of rows (even_block: 16 rows as 4 blocks of
// 4, 32 as 6 + 6 + 5 + 5 + 5 + 5). One panel of each block appends the block's rows to the history.
TEMPO_INLINE void run_item(const step_plan *s, int item, float *tiles) {
    const tempo_conv_step_args *a = s->a;
    const int panel = s->by_rows ? item % s->panels : item / s->blocks;
    const int block = s->by_rows ? item / s->panels : item % s->blocks;
    int r0, rows;
    even_block(a->batch, s->blocks, block, &r0, &rows);
    const float *packed = s->packed + (size_t)panel * panel_matrices(a) * a->input * STEP_PANEL;
    const int pairs = tempo_conv_step_pairs(a), second = pairs && a->stash && a->paired;
    if (!pairs) tap_products(a, packed, r0, rows, tiles);
    else if (second) second_of_pair(a, packed, r0, rows, tiles);
    else first_of_pair(a, packed, r0, rows, tiles);
    for (int r = 0; r < rows; r++) {
        float *stash = a->stash ? a->stash + ((size_t)a->stash_slot * a->batch + r0 + r) * a->output : 0;
        for (int v = 0; v < STEP_VECTORS; v++) {
            const int o = panel * STEP_PANEL + v * LANES;
            if (o >= a->output) break;
            const int n = a->output - o < LANES ? a->output - o : LANES;
            const int at = (r * STEP_VECTORS + v) * LANES;
            v16 sum = *(const v16_unaligned *)(tiles + at);
            if (pairs) {
                const v16 m2 = *(const v16_unaligned *)(tiles + TILE_FLOATS + at);
                const v16 m3 = *(const v16_unaligned *)(tiles + 2 * TILE_FLOATS + at);
                if (second) sum = v16_load(stash + o, n) - sum;  // (m2 - m3) - m4
                else {
                    if (stash) v16_store(stash + o, m2 - m3, n);
                    sum += m2 + m3;
                }
            }
            finish_any(a, r0 + r, o, n, sum);
        }
    }
    // Block by block, the thread of the block's rows appends them; panel by panel (one block),
    // panel 0's thread.
    if (panel == block % s->panels) append_rows(a, r0, rows);
}

// Item `item` of the direct path: outputs [16 (item % chunks), ...) of batch row item / chunks.
TEMPO_INLINE void run_direct_item(const tempo_conv_step_args *a, int item) {
    const int chunks = (a->output + LANES - 1) / LANES;
    const int b = item / chunks, o0 = (item % chunks) * LANES;
    const int n = a->output - o0 < LANES ? a->output - o0 : LANES;
    const int per_group = a->input / a->groups, outputs_per_group = a->output / a->groups, K = a->taps;
    float sums[LANES] = {0};
    for (int k = 0; k < K; k++) {
        const float *x = tap(a, k) + (size_t)b * a->input;
        for (int j = 0; j < n; j++) {
            const int o = o0 + j;
            const float *in = x + (size_t)(o / outputs_per_group) * per_group, *w = a->w + (size_t)o * per_group * K + k;
            float sum = 0.0f;
            for (int c = 0; c < per_group; c++) sum += w[(size_t)c * K] * in[c];
            sums[j] += sum;
        }
    }
    finish_any(a, b, o0, n, *(const v16_unaligned *)sums);
    if (o0 == 0) append_rows(a, b, 1);
}

static step_plan make_plan(const tempo_conv_step_args *a, const float *packed) {
    step_plan s = {a, packed, (a->output + STEP_PANEL - 1) / STEP_PANEL, (a->batch + STEP_ROWS - 1) / STEP_ROWS, 0, 0};
    // Several blocks: an even number of them, block by block, so that the caller (from the front)
    // and a worker (from the back) each keep their own rows from step to step and from one link
    // of a chain to the next, which then reads only rows its own thread wrote (panel by panel,
    // each link read the other core's half of its input: a B16 TCN step took 52-73 us against
    // 47-52). One block (B <= 6): panel by panel, so that each core keeps half the weights in its
    // L2.
    if (s.blocks > 1) {
        s.blocks += s.blocks % 2;
        s.by_rows = 1;
    }
    s.items = packed ? s.panels * s.blocks : a->batch * ((a->output + LANES - 1) / LANES);
    return s;
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void run_one_item(void *context, int phase, int item) {
    const step_plan *s = (const step_plan *)context + phase;
    float tiles[3 * TILE_FLOATS] __attribute__((aligned(64)));
    if (s->packed) run_item(s, item, tiles);
    else run_direct_item(s->a, item);
}

// Threads worth offering the items to: one alone below ~64 KFLOP in all (half a microsecond on
// one core), where even a spinning worker's hand-off costs more than it saves. Above that, the
// items are shared (tempo_team_share): the caller never waits for a worker that the machine has
// not scheduled, which a fixed split did (a step of B16 C128 K3 took 70-97 us instead of 11.5-14
// on one thread when the other core was busy), and each thread keeps taking the same panels, so
// at B1 the two cores each hold half of a TCN's weights in their L2 instead of one core all.
static int useful_threads(const tempo_conv_step_args *steps, int count, int threads) {
    double flops = 0;
    for (int i = 0; i < count; i++) {
        const tempo_conv_step_args *a = steps + i;
        flops += 2.0 * a->batch * a->output * (double)(a->input / a->groups) * a->taps;
    }
    return flops < 65536 || threads < 1 ? 1 : threads;
}

// Steps run in phases of one shared job, up to this many at a time (a longer chain runs as
// several jobs): the plans and item counts live on the stack.
enum { STEPS_PER_JOB = 64 };

int tempo_conv_steps(const tempo_conv_step_args *steps, const float *const *packed, int count, int threads) {
    int caller_items = 0;
    for (int start = 0; start < count; start += STEPS_PER_JOB) {
        const int n = count - start < STEPS_PER_JOB ? count - start : STEPS_PER_JOB;
        step_plan plans[STEPS_PER_JOB];
        int items[STEPS_PER_JOB];
        for (int i = 0; i < n; i++) {
            plans[i] = make_plan(steps + start + i, packed[start + i]);
            items[i] = plans[i].items;
        }
        caller_items += tempo_team_share(useful_threads(steps + start, n, threads), n, items, run_one_item, plans);
    }
    return caller_items;
}
