// recurrent_sequence.c -- one RNN/LSTM/GRU layer on the CPU: input projection and recurrence.
//
// The threads of a team split the hidden units (as panels of 16-unit blocks with all their gates)
// and run the whole layer together, meeting at a barrier after each step (two for the Cho GRU and
// the LSTM projection, whose second product needs the whole first result). The inputs are
// projected a chunk of steps at a time (x W_ih^T + biases, kept in L2), double-buffered: while the
// team runs the steps of one chunk, a thread that reaches a barrier before the others projects
// pieces of the next chunk instead of spinning, and whatever is left is shared out at the chunk's
// last step. A thread projects the pieces of its own units first (the steps read them from its
// cache), then takes the others' that are left, so a thread that the machine slowed (another
// process, a busy hypervisor) does less of the projection and the team waits less.
//
// A step of a thread is, per block of batch rows and per panel, one
// register-tiled product (tile_product.h) followed at once by the gate update of those rows and
// units while the products are still in L1. The weights are packed once into panels contiguous
// along K (tempo_recurrent_pack; the caller keeps them while the weights live), each thread
// packing the panels it will read, so they sit in that core's cache.
#include "tempo_cpu.h"
#include "thread_team.h"
#include "tile_product.h"
#include "vector_math.h"

#include <stdatomic.h>
#include <string.h>

// A thread's tile: up to 24 vectors of products, padded so threads' tiles share no cache line.
enum { TILE_STRIDE = 24 * LANES + 16 };

typedef enum {
    PHASE_INPUT,             // the input projection x W_ih^T of every step, before the sequence
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

// Claims of a thread's projection pieces, counted over the whole sequence, one cache line each.
struct piece_cursor {
    _Atomic long claimed;
    char padding[64 - sizeof(long)];
};

typedef struct {
    const tempo_recurrent_args *a;
    int T, B, H, R, G, D;
    phase input;        // the input projection, in panels of all G gates
    phase phases[2];    // the products of each step
    int phase_count;
    int chunk;          // steps whose input projection is computed at a time
    struct piece_cursor *cursors;  // per thread: how many of its pieces have been claimed
    float *gx[2];       // [2][chunk*B, G*H]: x_t W_ih^T + bias_x, for a chunk of steps and the next
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

// Lays out the packed weights (`packed`) and the scratch of one call (`scratch`); with NULL
// bases only measures them. Returns the scratch size; `packed_floats` receives the other.
static size_t layout(sequence *s, float *packed, float *scratch, int threads, size_t *packed_floats) {
    size_t used = 0;
    float *base = packed;
#define TAKE(count) (used += round_up(count), base ? base + used - round_up(count) : (float *)0)
    for (int d = 0; d < s->D; d++) s->input.packed[d] = TAKE((size_t)s->input.panels * s->input.panel_floats);
    for (int p = 0; p < s->phase_count; p++)
        for (int d = 0; d < s->D; d++)
            s->phases[p].packed[d] = TAKE((size_t)s->phases[p].panels * s->phases[p].panel_floats);
    if (packed_floats) *packed_floats = used;
    used = 0;
    base = scratch;
    for (int d = 0; d < s->D; d++) {
        s->gx[d] = TAKE((size_t)(s->T > s->chunk ? 2 : 1) * s->chunk * s->B * s->G * s->H);
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
    s->input = make_phase(PHASE_INPUT, 0, s->G, s->H, a->input);
    // Project the inputs a chunk of steps at a time, about 512 KiB of gx per direction (1 MiB
    // with the next chunk's), so gx stays in L2 between its projection and its steps instead of
    // going through memory (16 MiB each way for B = 32, T = 128, H = 256). With one buffer,
    // 256 KiB chunks were 2% slower than 1 MiB, 64 KiB 4%; with two, 512 KiB chunks ran LSTM
    // B64 T64 H512 in 82.8 ms (median of 6 alternating runs) against 89.2 for 1 MiB chunks.
    const long per_step = (long)s->B * s->G * s->H;
    s->chunk = per_step >= 131072 ? 1 : (int)(131072 / per_step);
    if (s->chunk > s->T) s->chunk = s->T;
}

size_t tempo_recurrent_packed_size(const tempo_recurrent_args *args) {
    sequence s;
    size_t packed = 0;
    describe(&s, args);
    layout(&s, 0, 0, 1, &packed);
    return packed;
}

size_t tempo_recurrent_workspace_size(const tempo_recurrent_args *args, int threads) {
    sequence s;
    describe(&s, args);
    return layout(&s, 0, 0, threads < 1 ? 1 : threads, 0);
}

// Work item i of a phase is panel i % panels of direction i / panels; thread t of n owns the
// contiguous items [t*N/n, (t+1)*N/n).
static inline void owned_items(const sequence *s, const phase *p, int thread, int threads, int *begin, int *end) {
    const int items = p->panels * s->D;
    *begin = (int)((long)items * thread / threads);
    *end = (int)((long)items * (thread + 1) / threads);
}

TEMPO_INLINE void pack_panel(const sequence *s, const phase *p, int d, int panel) {
    const float *w = p->kind == PHASE_PROJECTION ? s->a->w_hr[d] : p->kind == PHASE_INPUT ? s->a->w_ih[d] : s->a->w_hh[d];
    float *out = p->packed[d] + (size_t)panel * p->panel_floats;
    const int K = p->depth, stride = p->vectors * LANES;
    for (int u = 0; u < p->unit_blocks; u++) {
        for (int g = 0; g < p->gates; g++) {
            const int v = u * p->gates + g;
            for (int l = 0; l < LANES; l++) {
                const int unit = (panel * p->unit_blocks + u) * LANES + l;
                float *column = out + v * LANES + l;
                if (unit >= p->units) {
                    for (int k = 0; k < K; k++) column[(size_t)k * stride] = 0.0f;
                    continue;
                }
                // Read each weight row once, contiguously; the writes stride through the panel,
                // which stays in L2 while it is filled.
                const float *row = w + ((size_t)(p->first_gate + g) * p->units + unit) * K;
                for (int k = 0; k < K; k++) column[(size_t)k * stride] = row[k];
            }
        }
    }
}

// Steps in chunk `chunk`: only the last chunk can be shorter.
TEMPO_INLINE int chunk_steps(const sequence *s, int chunk) {
    const int left = s->T - chunk * s->chunk;
    return left < s->chunk ? left : s->chunk;
}

// The projections of chunk `chunk` of direction `d`: chunks alternate between two buffers.
TEMPO_INLINE float *chunk_gx(const sequence *s, int d, int chunk) {
    return s->gx[d] + (size_t)(chunk & 1) * s->chunk * s->B * s->G * s->H;
}

TEMPO_INLINE int is_active(const sequence *s, int b, int t) {
    return !s->a->lengths || t < s->a->lengths[b];
}

// The gate update of batch row `b` and the `n` units from `j` (one block of 16, or the last
// partial one). Called with a literal 16 for full blocks, so that their loads and stores compile
// to plain vector moves.
TEMPO_INLINE void update_block(
    const sequence *s, const phase *p, int d, int b, int j, int n, const float *acc, const float *gx,
    const float *h_prev, float *h_next, float *y, int active) {
    const tempo_recurrent_args *a = s->a;
    const int H = s->H;
    const float *peep = a->w_peephole[d];
    const int has_projection = a->projection > 0;
    // Whether this phase writes h (the others leave it to the phase after them).
    const int writes_h = p->kind != PHASE_CHO_RESET_UPDATE && !(p->kind == PHASE_LSTM && has_projection);
#define ACC(g) (*(const v16_unaligned *)(acc + (g) * LANES))
#define PRE(g) (v16_load(gx + (g) * H + j, n) + ACC(g))
    // Steps past a sequence's end keep its state and output zeros.
    if (!active) {
        if (writes_h) {
            v16_store(h_next + j, v16_load(h_prev + j, n), n);
            v16_store(y + j, (v16)0.0f, n);
        }
        return;
    }
    v16 h;
    switch (p->kind) {
    case PHASE_RNN_TANH: h = v16_tanh(PRE(0)); break;
    case PHASE_RNN_RELU: h = v16_relu(PRE(0)); break;
    case PHASE_LSTM: {
        float *c = s->c[d] + (size_t)b * H + j;
        const v16 c_prev = v16_load(c, n);
        v16 c_new, o;
        if (a->coupled) {
            const v16 pf = peep ? v16_load(peep + j, n) : (v16)0.0f;
            const v16 po = peep ? v16_load(peep + H + j, n) : (v16)0.0f;
            const v16 f = v16_sigmoid(PRE(0) + pf * c_prev);
            c_new = f * c_prev + (1.0f - f) * v16_tanh(PRE(1));
            o = v16_sigmoid(PRE(2) + po * c_new);
        } else {
            const v16 pi = peep ? v16_load(peep + j, n) : (v16)0.0f;
            const v16 pf = peep ? v16_load(peep + H + j, n) : (v16)0.0f;
            const v16 po = peep ? v16_load(peep + 2 * H + j, n) : (v16)0.0f;
            const v16 i = v16_sigmoid(PRE(0) + pi * c_prev);
            const v16 f = v16_sigmoid(PRE(1) + pf * c_prev);
            c_new = f * c_prev + i * v16_tanh(PRE(2));
            o = v16_sigmoid(PRE(3) + po * c_new);
        }
        v16_store(c, c_new, n);
        h = o * v16_tanh(c_new);
        if (has_projection) {
            v16_store(s->m[d] + (size_t)b * H + j, h, n);
            return;
        }
        break;
    }
    case PHASE_GRU_RESET_AFTER: {
        const v16 reset = v16_sigmoid(PRE(0));
        const v16 update_gate = v16_sigmoid(PRE(1));
        const v16 hidden_part = ACC(2) + v16_load(s->bias_hn[d] + j, n);
        const v16 candidate = v16_tanh(v16_load(gx + 2 * H + j, n) + reset * hidden_part);
        h = (1.0f - update_gate) * candidate + update_gate * v16_load(h_prev + j, n);
        break;
    }
    case PHASE_CHO_RESET_UPDATE: {
        const v16 reset = v16_sigmoid(PRE(0));
        v16_store(s->z[d] + (size_t)b * H + j, v16_sigmoid(PRE(1)), n);
        v16_store(s->m[d] + (size_t)b * H + j, reset * v16_load(h_prev + j, n), n);
        return;
    }
    case PHASE_CHO_CANDIDATE: {
        // This phase's gate block is n (block 2 of gx); its product is ACC(0).
        const v16 candidate = v16_tanh(v16_load(gx + 2 * H + j, n) + ACC(0));
        const v16 update_gate = v16_load(s->z[d] + (size_t)b * H + j, n);
        h = (1.0f - update_gate) * candidate + update_gate * v16_load(h_prev + j, n);
        break;
    }
    case PHASE_PROJECTION:
        h = ACC(0);
        break;
    case PHASE_INPUT:
        return;
    }
#undef PRE
#undef ACC
    v16_store(h_next + j, h, n);
    v16_store(y + j, h, n);
}

// The gate update of rows [r0, r0 + rows) and the panel's units, from the products in `tile`.
TEMPO_INLINE void update(
    const sequence *s, const phase *p, int d, int step, int t, int panel, int r0, int rows, const float *tile) {
    const int H = s->H, R = s->R, G = s->G, B = s->B, D = s->D;
    for (int r = 0; r < rows; r++) {
        const int b = r0 + r;
        const float *h_prev = s->h[d][step & 1] + (size_t)b * R;
        float *h_next = s->h[d][(step + 1) & 1] + (size_t)b * R;
        float *y = s->a->y + ((size_t)t * B + b) * D * R + (size_t)d * R;
        const float *gx = chunk_gx(s, d, step / s->chunk) + ((size_t)(step % s->chunk) * B + b) * G * H;
        const int active = is_active(s, b, t);
        for (int u = 0; u < p->unit_blocks; u++) {
            const int j = (panel * p->unit_blocks + u) * LANES;
            const int n = p->units - j < LANES ? p->units - j : LANES;
            if (n <= 0) break;
            const float *acc = tile + ((size_t)r * p->vectors + (size_t)u * p->gates) * LANES;
            if (n == LANES) update_block(s, p, d, b, j, LANES, acc, gx, h_prev, h_next, y, active);
            else update_block(s, p, d, b, j, n, acc, gx, h_prev, h_next, y, active);
        }
    }
}

TEMPO_INLINE void run_phase(
    const sequence *s, const phase *p, int step, float *tile, int begin, int end) {
    for (int item = begin; item < end; item++) {
        const int d = item / p->panels, panel = item % p->panels;
        const int t = d == 0 ? step : s->T - 1 - step;
        const float *source = (p->kind == PHASE_PROJECTION || p->kind == PHASE_CHO_CANDIDATE)
            ? s->m[d] : s->h[d][step & 1];
        const float *packed = p->packed[d] + (size_t)panel * p->panel_floats;
        const int blocks = (s->B + p->rows_per_tile - 1) / p->rows_per_tile;
        for (int block = 0; block < blocks; block++) {
            int r0, rows;
            even_block(s->B, blocks, block, &r0, &rows);
            const float *row_pointers[MAX_ROWS];
            for (int r = 0; r < rows; r++) row_pointers[r] = source + (size_t)(r0 + r) * p->depth;
            tile_product(p->vectors, rows, p->depth, row_pointers, packed, tile);
            update(s, p, d, step, t, panel, r0, rows, tile);
        }
    }
}

// Piece `item` of chunk `chunk`'s projection: gx[rows, the panel's gate columns] =
// x_t W_ih^T + bias_x for one input panel and one block of the chunk's rows, where row q of a
// chunk's gx is its step q / B and batch row q % B.
TEMPO_INLINE void project_piece(const sequence *s, float *tile, int chunk, int item) {
    const phase *p = &s->input;
    const int B = s->B, G = s->G, H = s->H, first = chunk * s->chunk;
    const int rows_total = chunk_steps(s, chunk) * B;
    const int blocks = (rows_total + p->rows_per_tile - 1) / p->rows_per_tile;
    const int panel_item = item / blocks;
    const int d = panel_item / p->panels, panel = panel_item % p->panels;
    int q0, rows;
    even_block(rows_total, blocks, item % blocks, &q0, &rows);
    const float *packed = p->packed[d] + (size_t)panel * p->panel_floats;
    const float *row_pointers[MAX_ROWS];
    for (int r = 0; r < rows; r++) {
        const int step = first + (q0 + r) / B, b = (q0 + r) % B;
        const int t = d == 0 ? step : s->T - 1 - step;
        row_pointers[r] = s->a->x + ((size_t)t * B + b) * p->depth;
    }
    tile_product(p->vectors, rows, p->depth, row_pointers, packed, tile);
    float *chunk_rows = chunk_gx(s, d, chunk);
    for (int r = 0; r < rows; r++) {
        float *gx = chunk_rows + (size_t)(q0 + r) * G * H;
        for (int u = 0; u < p->unit_blocks; u++) {
            const int j = (panel * p->unit_blocks + u) * LANES;
            const int n = H - j < LANES ? H - j : LANES;
            if (n <= 0) break;
            for (int g = 0; g < G; g++) {
                const float *v = tile + ((size_t)r * p->vectors + (size_t)u * G + g) * LANES;
                const v16 bias = v16_load(s->bias_x[d] + (size_t)g * H + j, n);
                v16_store(gx + (size_t)g * H + j, *(const v16_unaligned *)v + bias, n);
            }
        }
    }
}

// Row blocks of chunk `chunk`'s projection.
TEMPO_INLINE int chunk_blocks(const sequence *s, int chunk) {
    return (chunk_steps(s, chunk) * s->B + s->input.rows_per_tile - 1) / s->input.rows_per_tile;
}

// Claims and projects one unclaimed piece of chunk `chunk` among those of thread `owner` (its
// input panels, every row block); returns 0 when none is left. The claims of a thread's pieces
// are counted over the sequence, chunk c's from c times its pieces in a full chunk, and a claim
// never takes a number beyond the chunk, so a thread still on chunk c cannot take one of c + 1.
TEMPO_INLINE int project_owned_piece(const sequence *s, float *tile, int chunk, int owner, int threads) {
    int first_panel, end_panel;
    owned_items(s, &s->input, owner, threads, &first_panel, &end_panel);
    const int blocks = chunk_blocks(s, chunk), panels = end_panel - first_panel;
    const long base = (long)chunk * panels * chunk_blocks(s, 0), end = base + (long)panels * blocks;
    _Atomic long *claimed_count = &s->cursors[owner].claimed;
    long claimed = atomic_load_explicit(claimed_count, memory_order_relaxed);
    while (claimed < end) {
        if (atomic_compare_exchange_weak_explicit(claimed_count, &claimed, claimed + 1, memory_order_relaxed, memory_order_relaxed)) {
            project_piece(s, tile, chunk, first_panel * blocks + (int)(claimed - base));
            return 1;
        }
    }
    return 0;
}

// Projects one unclaimed piece of chunk `chunk`, this thread's own first; 0 when none is left
// (or the chunk is past the sequence).
TEMPO_INLINE int project_one_piece(const sequence *s, float *tile, int chunk, int thread, int threads) {
    if (chunk * s->chunk >= s->T) return 0;
    for (int i = 0; i < threads; i++)
        if (project_owned_piece(s, tile, chunk, (thread + i) % threads, threads)) return 1;
    return 0;
}

// The barrier after a step's phase, projecting pieces of chunk `next_chunk` while the others
// are not there yet (a piece is a few microseconds: the wait grows by at most one).
TEMPO_INLINE void barrier_projecting(const sequence *s, float *tile, int thread, int threads, int next_chunk) {
    const unsigned ticket = tempo_team_arrive(threads);
    while (!tempo_team_passed(ticket)) {
        if (!project_one_piece(s, tile, next_chunk, thread, threads)) {
            tempo_team_wait(ticket);
            return;
        }
    }
}

static void pack_thread(void *context, int thread, int threads) {
    const sequence *s = context;
    int begin, end;
    owned_items(s, &s->input, thread, threads, &begin, &end);
    for (int item = begin; item < end; item++) pack_panel(s, &s->input, item / s->input.panels, item % s->input.panels);
    for (int q = 0; q < s->phase_count; q++) {
        const phase *p = &s->phases[q];
        int begin, end;
        owned_items(s, p, thread, threads, &begin, &end);
        for (int item = begin; item < end; item++) pack_panel(s, p, item / p->panels, item % p->panels);
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void run_thread(void *context, int thread, int threads) {
    const sequence *s = context;
#if defined(__x86_64__) || defined(__i386__)
    // Flush denormals to zero while the sequence runs: a decaying state (an LSTM's c under small
    // weights) reaches them within ~100 steps, and each one then costs a microcode assist (the
    // recurrence ran 4x slower). Values below 1.2e-38 are lost; the caller's mode is restored.
    const unsigned saved_mxcsr = __builtin_ia32_stmxcsr();
    __builtin_ia32_ldmxcsr(saved_mxcsr | 0x8040);
#endif
    float *tile = s->tiles + (size_t)thread * TILE_STRIDE;
    int begin[2], end[2];
    for (int q = 0; q < s->phase_count; q++) owned_items(s, &s->phases[q], thread, threads, &begin[q], &end[q]);
    while (project_one_piece(s, tile, 0, thread, threads)) {}
    tempo_team_barrier(threads);
    for (int step = 0; step < s->T; step++) {
        const int chunk = step / s->chunk;
        const int ends_chunk = (step + 1) % s->chunk == 0;
        for (int q = 0; q < s->phase_count; q++) {
            run_phase(s, &s->phases[q], step, tile, begin[q], end[q]);
            // The next chunk's projection is complete before its first step: what is left of it
            // is shared out before the last barrier of this chunk.
            if (ends_chunk && q == s->phase_count - 1) {
                while (project_one_piece(s, tile, chunk + 1, thread, threads)) {}
                tempo_team_barrier(threads);
            } else {
                barrier_projecting(s, tile, thread, threads, chunk + 1);
            }
        }
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_ldmxcsr(saved_mxcsr);
#endif
}

// Threads worth using: one panel each at most, and one alone below ~2 MFLOP of work, where
// waking a second thread costs more than it saves.
static int useful_threads(const sequence *s, int threads, double flops) {
    const int items = s->phases[0].panels * s->D;
    if (threads > items) threads = items;
    if (flops < 2e6 || threads < 1) threads = 1;
    return threads;
}

void tempo_recurrent_pack(const tempo_recurrent_args *a, float *packed, int threads) {
    sequence s;
    describe(&s, a);
    layout(&s, packed, 0, 1, 0);
    const double floats = (double)s.G * s.H * (s.R + a->input) * s.D;
    tempo_team_run(useful_threads(&s, threads, floats * 8), pack_thread, &s);
}

int tempo_recurrent_sequence(const tempo_recurrent_args *a, const float *packed, float *workspace, int threads) {
    sequence s;
    describe(&s, a);
    threads = useful_threads(&s, threads, 2.0 * s.T * s.B * s.D * (double)s.G * s.H * (s.R + a->input));
    // The packed panels are only read.
    layout(&s, (float *)packed, workspace, threads, 0);

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
    struct piece_cursor cursors[TEMPO_MAX_TEAM] __attribute__((aligned(64)));
    for (int i = 0; i < TEMPO_MAX_TEAM; i++) atomic_init(&cursors[i].claimed, 0);
    s.cursors = cursors;
    const int used = tempo_team_run(threads, run_thread, &s);
    for (int d = 0; d < s.D; d++) {
        memcpy(a->h_n + (size_t)d * B * R, s.h[d][s.T & 1], sizeof(float) * B * R);
        if (a->c_n) memcpy(a->c_n + (size_t)d * B * H, s.c[d], sizeof(float) * B * H);
    }
    return used;
}
