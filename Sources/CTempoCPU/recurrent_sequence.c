// recurrent_sequence.c -- the CPU recurrence of one RNN/LSTM/GRU layer after its input projection.
//
// The threads of a team split the hidden units (as panels of 16-unit blocks with all their gates)
// and run the whole sequence together, meeting at a barrier after each step (two for the Cho GRU
// and the LSTM projection, whose second product needs the whole first result). Each thread packs
// its own slice of the recurrent weights once per call, contiguous along K, so a step streams it
// from that core's cache; a step of a thread is, per block of batch rows and per panel, one
// register-tiled product (6x64 or 8x48 outputs in 24 vector accumulators) followed at once by the
// gate update of those rows and units while the products are still in L1.
#include "tempo_cpu.h"
#include "thread_team.h"
#include "scalar_math.h"

#include <string.h>

typedef float v16 __attribute__((ext_vector_type(16)));
typedef float v16_unaligned __attribute__((ext_vector_type(16), aligned(4)));

enum { LANES = 16, MAX_ROWS = 8, MAX_VECTORS = 4, TILE_FLOATS = 24 * LANES, TILE_STRIDE = TILE_FLOATS + 16 };

typedef enum {
    PHASE_RNN_TANH, PHASE_RNN_RELU, PHASE_LSTM, PHASE_GRU_RESET_AFTER,
    PHASE_CHO_RESET_UPDATE,  // Cho GRU, first product: r and z from h
    PHASE_CHO_CANDIDATE,     // Cho GRU, second product: n from r*h
    PHASE_PROJECTION,        // LSTM projection h = W_hr m
} phase_kind;

// One product-and-update per step. A panel holds `unit_blocks` blocks of 16 output units with
// `gates` gate blocks each: `vectors` = gates * unit_blocks vectors of 16 columns, 3 or 4.
typedef struct {
    phase_kind kind;
    int first_gate, gates, unit_blocks, vectors, rows_per_tile;
    int units;  // output units: H, or P for the projection
    int depth;  // K of the product: R, or H for the projection
    int panels;
    size_t panel_floats;
    float *packed[2];
} phase;

typedef struct {
    const tempo_recurrent_args *a;
    int T, B, H, R, G, D;
    phase phases[2];
    int phase_count;
    float *h[2][2];     // [direction][parity]: [B, R], ping-ponged between steps
    float *c[2];        // [B, H]
    float *m[2];        // [B, H]: o*tanh(c) before the projection, or r*h for the Cho GRU
    float *z[2];        // [B, H]: the Cho GRU's update gate between its two products
    float *bias_x[2];   // [G*H]: b_ih + b_hh, except the n block of PyTorch's GRU (b_ih only)
    float *bias_hn[2];  // [H]: that n block's b_hh, applied inside r * (...)
    float *tiles;       // per thread, TILE_STRIDE floats
} sequence;

static int gate_count(const tempo_recurrent_args *a) {
    switch (a->cell) {
    case TEMPO_CELL_LSTM: return a->coupled ? 3 : 4;
    case TEMPO_CELL_GRU_RESET_AFTER: case TEMPO_CELL_GRU_RESET_BEFORE: return 3;
    default: return 1;
    }
}

static phase make_phase(phase_kind kind, int first_gate, int gates, int units, int depth) {
    phase p = {0};
    p.kind = kind;
    p.first_gate = first_gate;
    p.gates = gates;
    p.unit_blocks = gates == 3 ? 1 : 4 / gates;
    p.vectors = gates * p.unit_blocks;
    p.rows_per_tile = 24 / p.vectors;
    p.units = units;
    p.depth = depth;
    const int blocks = (units + LANES - 1) / LANES;
    p.panels = (blocks + p.unit_blocks - 1) / p.unit_blocks;
    p.panel_floats = (size_t)depth * p.vectors * LANES;
    return p;
}

static int plan_phases(const tempo_recurrent_args *a, phase *phases) {
    const int H = a->hidden, R = a->projection > 0 ? a->projection : H, G = gate_count(a);
    switch (a->cell) {
    case TEMPO_CELL_RNN_TANH: phases[0] = make_phase(PHASE_RNN_TANH, 0, 1, H, R); return 1;
    case TEMPO_CELL_RNN_RELU: phases[0] = make_phase(PHASE_RNN_RELU, 0, 1, H, R); return 1;
    case TEMPO_CELL_GRU_RESET_AFTER: phases[0] = make_phase(PHASE_GRU_RESET_AFTER, 0, 3, H, R); return 1;
    case TEMPO_CELL_GRU_RESET_BEFORE:
        phases[0] = make_phase(PHASE_CHO_RESET_UPDATE, 0, 2, H, R);
        phases[1] = make_phase(PHASE_CHO_CANDIDATE, 2, 1, H, H);
        return 2;
    case TEMPO_CELL_LSTM:
        phases[0] = make_phase(PHASE_LSTM, 0, G, H, R);
        if (a->projection <= 0) return 1;
        phases[1] = make_phase(PHASE_PROJECTION, 0, 1, a->projection, H);
        return 2;
    }
    return 0;
}

static size_t round_up(size_t floats) { return (floats + 15) & ~(size_t)15; }

// Lays out the workspace; with `base` NULL only measures it.
static size_t layout(sequence *s, const tempo_recurrent_args *a, float *base, int threads) {
    size_t used = 0;
#define TAKE(count) (used += round_up(count), base ? base + used - round_up(count) : (float *)0)
    for (int p = 0; p < s->phase_count; p++)
        for (int d = 0; d < s->D; d++)
            s->phases[p].packed[d] = TAKE((size_t)s->phases[p].panels * s->phases[p].panel_floats);
    for (int d = 0; d < s->D; d++) {
        s->h[d][0] = TAKE((size_t)s->B * s->R);
        s->h[d][1] = TAKE((size_t)s->B * s->R);
        s->c[d] = TAKE((size_t)s->B * s->H);
        s->m[d] = TAKE((size_t)s->B * s->H);
        s->z[d] = TAKE((size_t)s->B * s->H);
        s->bias_x[d] = TAKE((size_t)s->G * s->H);
        s->bias_hn[d] = TAKE((size_t)s->H);
    }
    s->tiles = TAKE((size_t)threads * TILE_STRIDE);
#undef TAKE
    (void)a;
    return used;
}

static void describe(sequence *s, const tempo_recurrent_args *a) {
    memset(s, 0, sizeof *s);
    s->a = a;
    s->T = a->steps;
    s->B = a->batch;
    s->H = a->hidden;
    s->R = a->projection > 0 ? a->projection : a->hidden;
    s->G = gate_count(a);
    s->D = a->directions;
    s->phase_count = plan_phases(a, s->phases);
}

size_t tempo_recurrent_workspace_size(const tempo_recurrent_args *args, int threads) {
    sequence s;
    describe(&s, args);
    return layout(&s, args, 0, threads < 1 ? 1 : threads) + 16;
}

// Work item i of a phase is panel i % panels of direction i / panels; thread t of n owns the
// contiguous items [t*N/n, (t+1)*N/n).
static inline void owned_items(const sequence *s, const phase *p, int thread, int threads, int *begin, int *end) {
    const int items = p->panels * s->D;
    *begin = (int)((long)items * thread / threads);
    *end = (int)((long)items * (thread + 1) / threads);
}

static inline __attribute__((always_inline)) void pack_panel(const sequence *s, const phase *p, int d, int panel) {
    const float *w = p->kind == PHASE_PROJECTION ? s->a->w_hr[d] : s->a->w_hh[d];
    float *out = p->packed[d] + (size_t)panel * p->panel_floats;
    const int K = p->depth;
    for (int u = 0; u < p->unit_blocks; u++) {
        for (int g = 0; g < p->gates; g++) {
            const int v = u * p->gates + g;
            for (int l = 0; l < LANES; l++) {
                const int unit = (panel * p->unit_blocks + u) * LANES + l;
                const float *row = unit < p->units ? w + ((size_t)(p->first_gate + g) * p->units + unit) * K : 0;
                for (int k = 0; k < K; k++) out[((size_t)k * p->vectors + v) * LANES + l] = row ? row[k] : 0.0f;
            }
        }
    }
}

// tile[(r * NV + v) * 16 + l] = sum_k rows[r][k] * packed[(k * NV + v) * 16 + l]
#define DEFINE_TILE_PRODUCT(NAME, MR, NV)                                                              \
    static inline __attribute__((always_inline)) void NAME(                                            \
        int K, const float *const *rows, const float *restrict packed, float *restrict tile) {         \
        v16 acc[MR][NV];                                                                               \
        for (int r = 0; r < MR; r++)                                                                   \
            for (int v = 0; v < NV; v++) acc[r][v] = (v16)0.0f;                                        \
        for (int k = 0; k < K; k++) {                                                                  \
            const v16 *b = (const v16 *)(packed + (size_t)k * NV * LANES);                             \
            for (int r = 0; r < MR; r++) {                                                             \
                const v16 a = (v16)rows[r][k];                                                         \
                for (int v = 0; v < NV; v++) acc[r][v] += a * b[v];                                    \
            }                                                                                          \
        }                                                                                              \
        for (int r = 0; r < MR; r++)                                                                   \
            for (int v = 0; v < NV; v++) *(v16_unaligned *)(tile + (r * NV + v) * LANES) = acc[r][v]; \
    }
DEFINE_TILE_PRODUCT(tile_product_6x4, 6, 4)
DEFINE_TILE_PRODUCT(tile_product_8x3, 8, 3)

static inline __attribute__((always_inline)) int is_active(const sequence *s, int b, int t) {
    return !s->a->lengths || t < s->a->lengths[b];
}

// The gate update of rows [r0, r0 + rows) and the panel's units, from the products in `tile`.
static inline __attribute__((always_inline)) void update(
    const sequence *s, const phase *p, int d, int step, int t, int panel, int r0, int rows, const float *tile) {
    const tempo_recurrent_args *a = s->a;
    const int H = s->H, R = s->R, G = s->G, B = s->B, D = s->D;
    const float *h_prev_all = s->h[d][step & 1];
    float *h_next_all = s->h[d][(step + 1) & 1];
    const float *peep = a->w_peephole[d];
    const int has_projection = a->projection > 0;
    for (int r = 0; r < rows; r++) {
        const int b = r0 + r;
        const float *h_prev = h_prev_all + (size_t)b * R;
        float *h_next = h_next_all + (size_t)b * R;
        float *y = a->y + ((size_t)t * B + b) * D * R + (size_t)d * R;
        const float *gx = a->gx[d] + ((size_t)t * B + b) * G * H;
        const float *bias = s->bias_x[d];
        const float *acc_row = tile + (size_t)r * p->vectors * LANES;
        const int active = is_active(s, b, t);
        for (int u = 0; u < p->unit_blocks; u++) {
            const int j0 = (panel * p->unit_blocks + u) * LANES;
            const int n = p->units - j0 < LANES ? p->units - j0 : LANES;
            if (n <= 0) break;
            const float *acc = acc_row + (size_t)u * p->gates * LANES;
            // Steps past a sequence's end keep its state and output zeros; the phase that writes
            // h also carries it over.
            const int writes_h = p->kind != PHASE_CHO_RESET_UPDATE && !(p->kind == PHASE_LSTM && has_projection);
            if (!active) {
                if (writes_h) {
                    for (int l = 0; l < n; l++) {
                        h_next[j0 + l] = h_prev[j0 + l];
                        y[j0 + l] = 0.0f;
                    }
                }
                continue;
            }
            switch (p->kind) {
            case PHASE_RNN_TANH:
            case PHASE_RNN_RELU:
                for (int l = 0; l < n; l++) {
                    const int j = j0 + l;
                    const float v = gx[j] + bias[j] + acc[l];
                    const float h = p->kind == PHASE_RNN_TANH ? tempo_tanh(v) : __builtin_fmaxf(v, 0.0f);
                    h_next[j] = h;
                    y[j] = h;
                }
                break;
            case PHASE_LSTM: {
                float *c = s->c[d] + (size_t)b * H;
                float *m = s->m[d] + (size_t)b * H;
                const int coupled = a->coupled;
                const int fb = coupled ? 0 : 1, gb = fb + 1, ob = fb + 2;
                const int pf = coupled ? 0 : 1, po = pf + 1;
                for (int l = 0; l < n; l++) {
                    const int j = j0 + l;
                    const float c_prev = c[j];
                    const float pi = peep && !coupled ? peep[j] : 0.0f;
                    const float pfw = peep ? peep[pf * H + j] : 0.0f;
                    const float pow_ = peep ? peep[po * H + j] : 0.0f;
                    const float f = tempo_sigmoid(gx[fb * H + j] + bias[fb * H + j] + acc[fb * LANES + l] + pfw * c_prev);
                    const float i = coupled ? 1.0f - f : tempo_sigmoid(gx[j] + bias[j] + acc[l] + pi * c_prev);
                    const float g = tempo_tanh(gx[gb * H + j] + bias[gb * H + j] + acc[gb * LANES + l]);
                    const float c_new = f * c_prev + i * g;
                    const float o = tempo_sigmoid(gx[ob * H + j] + bias[ob * H + j] + acc[ob * LANES + l] + pow_ * c_new);
                    const float h = o * tempo_tanh(c_new);
                    c[j] = c_new;
                    if (has_projection) {
                        m[j] = h;
                    } else {
                        h_next[j] = h;
                        y[j] = h;
                    }
                }
                break;
            }
            case PHASE_GRU_RESET_AFTER: {
                const float *bias_hn = s->bias_hn[d];
                for (int l = 0; l < n; l++) {
                    const int j = j0 + l;
                    const float rg = tempo_sigmoid(gx[j] + bias[j] + acc[l]);
                    const float zg = tempo_sigmoid(gx[H + j] + bias[H + j] + acc[LANES + l]);
                    const float ng = tempo_tanh(gx[2 * H + j] + bias[2 * H + j] + rg * (acc[2 * LANES + l] + bias_hn[j]));
                    const float h = (1.0f - zg) * ng + zg * h_prev[j];
                    h_next[j] = h;
                    y[j] = h;
                }
                break;
            }
            case PHASE_CHO_RESET_UPDATE: {
                float *rh = s->m[d] + (size_t)b * H;
                float *z = s->z[d] + (size_t)b * H;
                for (int l = 0; l < n; l++) {
                    const int j = j0 + l;
                    const float rg = tempo_sigmoid(gx[j] + bias[j] + acc[l]);
                    z[j] = tempo_sigmoid(gx[H + j] + bias[H + j] + acc[LANES + l]);
                    rh[j] = rg * h_prev[j];
                }
                break;
            }
            case PHASE_CHO_CANDIDATE: {
                const float *z = s->z[d] + (size_t)b * H;
                for (int l = 0; l < n; l++) {
                    const int j = j0 + l;
                    const float ng = tempo_tanh(gx[2 * H + j] + bias[2 * H + j] + acc[l]);
                    const float h = (1.0f - z[j]) * ng + z[j] * h_prev[j];
                    h_next[j] = h;
                    y[j] = h;
                }
                break;
            }
            case PHASE_PROJECTION:
                for (int l = 0; l < n; l++) {
                    h_next[j0 + l] = acc[l];
                    y[j0 + l] = acc[l];
                }
                break;
            }
        }
    }
}

static inline __attribute__((always_inline)) void run_phase(
    const sequence *s, const phase *p, int step, float *tile, int begin, int end) {
    for (int item = begin; item < end; item++) {
        const int d = item / p->panels, panel = item % p->panels;
        const int t = d == 0 ? step : s->T - 1 - step;
        const float *source = (p->kind == PHASE_PROJECTION || p->kind == PHASE_CHO_CANDIDATE)
            ? s->m[d] : s->h[d][step & 1];
        const float *packed = p->packed[d] + (size_t)panel * p->panel_floats;
        for (int r0 = 0; r0 < s->B; r0 += p->rows_per_tile) {
            const int rows = s->B - r0 < p->rows_per_tile ? s->B - r0 : p->rows_per_tile;
            const float *row_pointers[MAX_ROWS];
            // Rows past the batch repeat the last one; their products are not used.
            for (int r = 0; r < MAX_ROWS; r++) {
                const int b = r0 + (r < rows ? r : rows - 1);
                row_pointers[r] = source + (size_t)b * p->depth;
            }
            if (p->vectors == 4) tile_product_6x4(p->depth, row_pointers, packed, tile);
            else tile_product_8x3(p->depth, row_pointers, packed, tile);
            update(s, p, d, step, t, panel, r0, rows, tile);
        }
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void run_thread(void *context, int thread, int threads) {
    const sequence *s = context;
    int begin[2], end[2];
    for (int q = 0; q < s->phase_count; q++) {
        const phase *p = &s->phases[q];
        owned_items(s, p, thread, threads, &begin[q], &end[q]);
        for (int item = begin[q]; item < end[q]; item++) pack_panel(s, p, item / p->panels, item % p->panels);
    }
    float *tile = s->tiles + (size_t)thread * TILE_STRIDE;
    for (int step = 0; step < s->T; step++) {
        for (int q = 0; q < s->phase_count; q++) {
            run_phase(s, &s->phases[q], step, tile, begin[q], end[q]);
            tempo_team_barrier(threads);
        }
    }
}

int tempo_recurrent_sequence(const tempo_recurrent_args *a, float *workspace, int threads) {
    sequence s;
    describe(&s, a);
    if (threads < 1) threads = 1;
    // A thread per panel at most; and below ~2 MFLOP in all, waking a second thread costs more
    // than it saves.
    const int items = s.phases[0].panels * s.D;
    if (threads > items) threads = items;
    const double flops = 2.0 * s.T * s.B * s.D * (double)s.G * s.H * s.R;
    if (flops < 2e6) threads = 1;
    layout(&s, a, workspace, threads);

    const int H = s.H, R = s.R, G = s.G, B = s.B;
    for (int d = 0; d < s.D; d++) {
        if (a->h0) memcpy(s.h[d][0], a->h0 + (size_t)d * B * R, sizeof(float) * B * R);
        else memset(s.h[d][0], 0, sizeof(float) * B * R);
        if (a->c0) memcpy(s.c[d], a->c0 + (size_t)d * B * H, sizeof(float) * B * H);
        else memset(s.c[d], 0, sizeof(float) * B * H);
        for (int row = 0; row < G * H; row++) {
            const int is_reset_after_candidate = a->cell == TEMPO_CELL_GRU_RESET_AFTER && row >= 2 * H;
            const float bih = a->b_ih[d] ? a->b_ih[d][row] : 0.0f;
            const float bhh = a->b_hh[d] ? a->b_hh[d][row] : 0.0f;
            s.bias_x[d][row] = is_reset_after_candidate ? bih : bih + bhh;
            if (is_reset_after_candidate) s.bias_hn[d][row - 2 * H] = bhh;
        }
    }
    const int used = tempo_team_run(threads, run_thread, &s);
    for (int d = 0; d < s.D; d++) {
        memcpy(a->h_n + (size_t)d * B * R, s.h[d][s.T & 1], sizeof(float) * B * R);
        if (a->c_n) memcpy(a->c_n + (size_t)d * B * H, s.c[d], sizeof(float) * B * H);
    }
    return used;
}
