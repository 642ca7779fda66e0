// recurrent_sequence.cl -- one recurrent layer (RNN, LSTM, GRU) over a whole sequence, every
// direction at once, for Tempo's OpenCL backend (OpenCL C 1.2). The semantics are those of
// RecurrentCell.swift and RecurrentSequenceDescriptor.swift; this header says how the work is split.
//
// A call runs: rec_pack once per direction (packs the weights, sums the biases), one GEMM for the
// input projection x W_ih^T of all steps (gemm.cl), then per step one rec_gates launch covering both
// directions. A GRU in Cho's form (REC_RESET_BEFORE) and an LSTM with a projection add one rec_finish
// launch per step: their last product needs all of r ⊙ h_{t-1}, or all of m_t, which only exist
// once every work-item of rec_gates is done.
//
// The cell and its variant are compile-time options (one program per variant; the backend caches
// programs): the number of gate accumulators a work-item holds must be a constant for them to live
// in registers, and the step loop then carries no per-element branch on the cell.
//   REC_CELL          1 RNN, 2 LSTM, 3 GRU
//   REC_GATES         G: 1 (RNN), 4 or 3 with coupled gates (LSTM), 3 (GRU)
//   REC_RELU          RNN: relu instead of tanh
//   REC_PEEPHOLE, REC_COUPLED, REC_PROJECTION   the LSTM variants
//   REC_RESET_BEFORE  GRU: the reset gate before the matmul (Cho et al.)
//
// Layouts (row-major float32, every integer argument an int counted in elements). T steps, B batch
// rows, H hidden units, R the state size (H, or P with a projection), D directions; U units per
// tile (16 * REC_VECS in the CPU shape, REC_GPU_UNITS in the GPU shape), Pn = ceil(H / U), Hp = Pn * U.
//   gx       [T*B, ldgx]: x_t W_ih^T without biases; direction d, gate g, unit j at column d*gxDir + g*H + j.
//   whh      packed W_hh, [Pn][R][G][U] per direction (stride whhDir): (p, k, g, u) = W_hh[g*H + p*U + u, k],
//            zero past H. Row k of a panel holds all G gates of U units, so one tile's product reads
//            one contiguous stream, and the accumulators come out grouped as the cell needs them.
//   whr      packed W_hr (projection), [ceil(P/U)][H][U] per direction: (p, k, u) = W_hr[p*U + u, k].
//   params   [G + 1 + peepholes][Hp] per direction (stride paramsDir), zero past H: block g < G is
//            b_ih + b_hh of gate g (b_in alone for a GRU in PyTorch's form), block G is b_hn for that
//            GRU (zero otherwise), then the peephole blocks (i, f, o; f, o with coupled gates).
//   h        [D, B, R]: the state ping-pongs between two buffers (every tile reads all of h_{t-1});
//            c [D, B, H] is updated in place (each tile reads and writes only its own units).
//   output   [T, B, ldOut = D*R], direction d at column d*R.
//   lengths  [B] int32; step t of row b is active iff t < lengths[b]. An inactive step writes zeros
//            to the output and carries h (and c) through unchanged.
//   scratch  [D, B, H]: m_t (LSTM with projection) or r ⊙ h_{t-1} (Cho GRU); zScratch [D, B, H]: z.
// Direction 0 runs t = step, direction 1 runs t = T-1-step.
//
// Kernels (same arguments in both shapes; see REC_STEP_PARAMS and REC_FINISH_PARAMS):
//   rec_pack       one direction's weights (destinations at the given offsets). global
//                  (ceil(max(I, R, H)/16), most column blocks of any job, 4), local (1, 1, 1); dim 2
//                  is the job: 0 W_hh, 1 W_ih into gemm_pack_b's panel layout of B = W_ih^T (CPU
//                  shape; skipped when gemmPanel is 0), 2 W_hr (skipped when P is 0), 3 params.
//   rec_gates_*    one step: h_{t-1} W_hh^T for the tile, biases, gates, state update.
//   rec_finish_*   Cho GRU: (r ⊙ h_{t-1}) W_hn^T and h_t; projection: h_t = m_t W_hr^T.
//   Only their first argument, step, changes from one step to the next: the host sets the others
//   once per sequence and a step costs it one clSetKernelArg and one enqueue per kernel.
//
// Two shapes, chosen by the host per device kind:
// 1. CPU shape (rec_*_cpu), for PoCL-like devices: barrier-free; one work-item owns REC_ROWS batch
//    rows x U units (all gates of those units) and runs the whole k loop over the state, broadcasting
//    h[b, k] against float16 vectors of the packed weight row into REC_ROWS * G * REC_VECS float16
//    accumulators, then applies the cell to whole vectors of 16 units.
//    A work-item runs row tiles g, g + G1, ... of its unit tile (G1 = global size 1, 1 to
//    ceil(B/REC_ROWS)): fewer row groups let it reuse its weight panel from its own cache.
//      global (ceil(units/U), G1, D), local (1, 1, 1)
// 2. GPU shape (rec_*_gpu): a work-group of REC_GPU_UNITS x REC_GPU_ROWS work-items, one (row, unit)
//    each with G scalar accumulators; h_{t-1} of the group's rows is staged in REC_GPU_DEPTH-deep
//    slices in local memory, and the packed weights are read coalesced along the units.
//      global (ceil(units/U) * U, ceil(B/REC_GPU_ROWS) * REC_GPU_ROWS, D), local (U, REC_GPU_ROWS, 1)

#ifndef REC_CELL
#define REC_CELL 2
#endif
#ifndef REC_GATES
#define REC_GATES 4
#endif
#ifndef REC_RELU
#define REC_RELU 0
#endif
#ifndef REC_PEEPHOLE
#define REC_PEEPHOLE 0
#endif
#ifndef REC_COUPLED
#define REC_COUPLED 0
#endif
#ifndef REC_PROJECTION
#define REC_PROJECTION 0
#endif
#ifndef REC_RESET_BEFORE
#define REC_RESET_BEFORE 0
#endif

#ifndef REC_ROWS
#define REC_ROWS 6        // CPU shape: batch rows per work-item, 1...8
#endif
#ifndef REC_VECS
#define REC_VECS 1        // CPU shape: 16-unit vectors per gate per work-item (U = 16 * REC_VECS)
#endif
#ifndef REC_GPU_UNITS
#define REC_GPU_UNITS 64  // GPU shape: work-items (units) along a work-group's first axis; a multiple of 16
#endif
#ifndef REC_GPU_ROWS
#define REC_GPU_ROWS 4    // GPU shape: batch rows per work-group
#endif
#ifndef REC_GPU_DEPTH
#define REC_GPU_DEPTH 32  // GPU shape: k slice of h_{t-1} staged in local memory per barrier pair
#endif

#define REC_RNN 1
#define REC_LSTM 2
#define REC_GRU 3

#if (REC_CELL == REC_RNN && REC_GATES != 1) || (REC_CELL == REC_GRU && REC_GATES != 3) \
    || (REC_CELL == REC_LSTM && REC_GATES != 4 - REC_COUPLED)
#error "REC_GATES does not match REC_CELL"
#endif
#if REC_ROWS < 1 || REC_ROWS > 8 || REC_VECS < 1 || (REC_GPU_UNITS % 16) != 0
#error "REC_ROWS must be 1...8, REC_VECS at least 1, REC_GPU_UNITS a multiple of 16"
#endif

#define REC_UNITS (16 * REC_VECS)              // CPU shape: units per tile
#define REC_NV (REC_GATES * REC_VECS)          // CPU shape: float16 accumulators per row
// Derived flags, settled by the preprocessor: `&&` on constants in code draws clang warnings.
#if REC_CELL == REC_GRU && REC_RESET_BEFORE
#define REC_PRODUCT_GATES 2     // rec_gates computes r and z; rec_finish the product of gate n
#else
#define REC_PRODUCT_GATES REC_GATES
#endif
#if REC_CELL == REC_GRU && !REC_RESET_BEFORE
#define REC_SEPARATE_BHN 1      // PyTorch's GRU: b_hn is scaled by r, so it stays apart from b_in
#else
#define REC_SEPARATE_BHN 0
#endif

// LSTM gate blocks and peephole blocks (RecurrentCell's table).
#define REC_LSTM_F (REC_COUPLED ? 0 : 1)
#define REC_LSTM_G (REC_LSTM_F + 1)
#define REC_LSTM_O (REC_LSTM_F + 2)
#define REC_PEEP_F (REC_GATES + 1 + (REC_COUPLED ? 0 : 1))
#define REC_PEEP_O (REC_PEEP_F + 1)

#define REC_SIGMOID(x) (1.0f / (1.0f + exp(-(x))))
#if REC_RELU
#define REC_ACTIVATION(x) fmax((x), 0.0f)
#else
#define REC_ACTIVATION(x) tanh(x)
#endif

// ---------------------------------------------------------------------------------------------
// Weight packing
// ---------------------------------------------------------------------------------------------

// 16x16 transpose in registers, four butterfly passes (as gemm.cl's gemm_transpose16): pass W
// exchanges bit W of the row index with bit W of the column index between rows i and i+W.
#define REC_T8(a, b, lo, hi) \
    lo = (float16)((a).lo, (b).lo); \
    hi = (float16)((a).hi, (b).hi);
#define REC_T4(a, b, lo, hi) \
    lo = (float16)((a).s0123, (b).s0123, (a).s89ab, (b).s89ab); \
    hi = (float16)((a).s4567, (b).s4567, (a).scdef, (b).scdef);
#define REC_T2(a, b, lo, hi) \
    lo = (float16)((a).s01, (b).s01, (a).s45, (b).s45, (a).s89, (b).s89, (a).scd, (b).scd); \
    hi = (float16)((a).s23, (b).s23, (a).s67, (b).s67, (a).sab, (b).sab, (a).sef, (b).sef);
#define REC_T1(a, b, lo, hi) \
    lo = (float16)((a).s0, (b).s0, (a).s2, (b).s2, (a).s4, (b).s4, (a).s6, (b).s6, \
                   (a).s8, (b).s8, (a).sa, (b).sa, (a).sc, (b).sc, (a).se, (b).se); \
    hi = (float16)((a).s1, (b).s1, (a).s3, (b).s3, (a).s5, (b).s5, (a).s7, (b).s7, \
                   (a).s9, (b).s9, (a).sb, (b).sb, (a).sd, (b).sd, (a).sf, (b).sf);
#define REC_TPASS(r, W, STAGE) \
    _Pragma("unroll") \
    for (int i = 0; i < 16; ++i) \
        if ((i & W) == 0) { float16 lo, hi; STAGE(r[i], r[i + W], lo, hi); r[i] = lo; r[i + W] = hi; }

// One 16 (k) x 16 (unit) block of a transposed panel pack:
//   dst[(p*K + k)*gates*U + q*U + u] = src[(q*rows + p*U + u)*K + k], zero where p*U + u >= rows,
// for column block cb of the panels (p, gate q, units u0..u0+15). With gates = 1 and U = gemm's
// panel width this is gemm_pack_b's layout of B = src^T.
static void rec_pack_block(__global const float* src, const int K, const int rows, const int gates,
                           const int U, __global float* dst, const int k0, const int cb)
{
    const int blocksPerGate = U / 16;
    const int p = cb / (gates * blocksPerGate);
    const int q = (cb / blocksPerGate) % gates;
    const int unit0 = p * U + (cb % blocksPerGate) * 16;
    if (k0 >= K || p * U >= rows)
        return;
    const int nk = min(16, K - k0);
    const int nu = clamp(rows - unit0, 0, 16);
    const int ldd = gates * U;
    __global const float* s = src + (q * rows + unit0) * K + k0;
    __global float* o = dst + (p * K + k0) * ldd + q * U + (unit0 - p * U);

    if (nk == 16 && nu == 16) {
        // 16 row loads along k, a register transpose, 16 row stores along u.
        float16 r[16];
        #pragma unroll
        for (int i = 0; i < 16; ++i)
            r[i] = vload16(0, s + i * K);
        REC_TPASS(r, 8, REC_T8)
        REC_TPASS(r, 4, REC_T4)
        REC_TPASS(r, 2, REC_T2)
        REC_TPASS(r, 1, REC_T1)
        #pragma unroll
        for (int i = 0; i < 16; ++i)
            vstore16(r[i], 0, o + i * ldd);
    } else {
        for (int kk = 0; kk < nk; ++kk)
            for (int u = 0; u < 16; ++u)
                o[kk * ldd + u] = u < nu ? s[u * K + kk] : 0.0f;
    }
}

__kernel void rec_pack(__global const float* wih, __global const float* whh, __global const float* whr,
                       __global const float* bih, __global const float* bhh, __global const float* peephole,
                       int I, int H, int R, int P, int hasBias, int gemmPanel, int U,
                       __global float* packedIH, int offIH, __global float* packedHH, int offHH,
                       __global float* packedHR, int offHR, __global float* params, int offParams)
{
    packedIH += offIH;
    packedHH += offHH;
    packedHR += offHR;
    params += offParams;
    const int k0 = get_global_id(0) * 16;
    const int cb = get_global_id(1);
    switch (get_global_id(2)) {
    case 0:
        rec_pack_block(whh, R, H, REC_GATES, U, packedHH, k0, cb);
        break;
    case 1:
        if (gemmPanel > 0)
            rec_pack_block(wih, I, REC_GATES * H, 1, gemmPanel, packedIH, k0, cb);
        break;
    case 2:
        if (P > 0)
            rec_pack_block(whr, H, P, 1, U, packedHR, k0, cb);
        break;
    default: {
        const int hp = (H + U - 1) / U * U;
        const int blocks = REC_GATES + 1 + (REC_PEEPHOLE ? (REC_COUPLED ? 2 : 3) : 0);
        const int block = cb * 16 / hp;
        if (k0 > 0 || block >= blocks)
            return;
        for (int c = 0; c < 16; ++c) {
            const int j = cb * 16 % hp + c;
            float value = 0.0f;
            if (j < H && block < REC_GATES && hasBias) {
                value = bih[block * H + j] + (REC_SEPARATE_BHN && block == 2 ? 0.0f : bhh[block * H + j]);
            } else if (j < H && block == REC_GATES && hasBias) {
                value = REC_SEPARATE_BHN ? bhh[2 * H + j] : 0.0f;
            } else if (j < H && block > REC_GATES) {
                value = peephole[(block - REC_GATES - 1) * H + j];
            }
            params[cb * 16 + c] = value;
        }
    }
    }
}

// ---------------------------------------------------------------------------------------------
// One step: what every shape shares
// ---------------------------------------------------------------------------------------------

// The arguments of rec_gates_cpu/gpu. Only `step` changes from one step to the next, so the host
// sets the others once per sequence. w is the packed W_hh; hInitial and cInitial are read at step 0
// when hasInitial; hFinal and hSpare are the two h buffers (hSpare unused when T is 1); scratch
// and zScratch serve the two-launch variants only, c the LSTM only.
#define REC_STEP_PARAMS                                                                          \
    int step,                                                                                    \
    __global const float* gx, int ldgx, int gxDir,                                               \
    __global const float* w, int wDir,                                                           \
    __global const float* params, int paramsDir, int hp,                                         \
    __global const float* hInitial, int hasInitial, __global float* hFinal, __global float* hSpare, \
    __global const float* cInitial, __global float* c,                                           \
    __global float* output, int ldOut,                                                           \
    __global float* scratch, __global float* zScratch,                                           \
    __global const int* lengths, int hasLengths,                                                 \
    int T, int B, int H, int R

// The arguments of rec_finish_cpu/gpu: as rec_gates, with w the packed W_hr (projection) or
// W_hh (Cho GRU, whose gate n the kernel reads at wOffset with row stride ldw).
#define REC_FINISH_PARAMS REC_STEP_PARAMS, int wOffset, int ldw

// Everything a step's epilogue needs, gathered so that helpers take one argument.
typedef struct {
    __global const float* gx;
    __global const float* params;
    __global const float* hPrev;
    __global float* hNew;
    __global const float* cPrev;
    __global float* c;
    __global float* output;
    __global float* scratch;
    __global float* zScratch;
    __global const int* lengths;
    int ldgx, gxDir, paramsDir, hp, hasPrev, ldOut, hasLengths, T, B, H, R, t, d;
} RecStep;

// h_{t-1} and h_t of this step: h ping-pongs between hFinal and hSpare with the parity that makes
// the last step write hFinal; step 0 reads the initial state, or zeros without one.
#define REC_PING_PONG                                                                            \
    const int writesFinal = ((T - 1 - step) & 1) == 0;                                           \
    __global float* hNew = writesFinal ? hFinal : hSpare;                                        \
    __global const float* hPrev = step == 0 ? hInitial : (writesFinal ? hSpare : hFinal);        \
    const int hasPrev = step > 0 || hasInitial;

#define REC_STEP_INIT(d)                                                                         \
    {                                                                                            \
        gx, params, hPrev, hNew, step == 0 ? cInitial : c, c, output, scratch, zScratch, lengths, \
        ldgx, gxDir, paramsDir, hp, hasPrev, ldOut, hasLengths, T, B, H, R,                      \
        (d) == 0 ? step : T - 1 - step, d                                                        \
    }

// Loads and stores of one unit (float) or of 16 units of which the first n exist (float16).
static inline float rec_load_float(__global const float* p, const int n) { return *p; }
static inline float rec_aligned_float(__global const float* p) { return *p; }
static inline void rec_store_float(const float v, __global float* p, const int n) { *p = v; }

static inline float16 rec_load_float16(__global const float* p, const int n)
{
    if (n >= 16)
        return vload16(0, p);
    float tmp[16];
    for (int i = 0; i < 16; ++i)
        tmp[i] = i < n ? p[i] : 0.0f;
    return vload16(0, tmp);
}
// params is padded to whole tiles, so 16 units there always exist.
static inline float16 rec_aligned_float16(__global const float* p) { return vload16(0, p); }
static inline void rec_store_float16(const float16 v, __global float* p, const int n)
{
    if (n >= 16) {
        vstore16(v, 0, p);
        return;
    }
    float tmp[16];
    vstore16(v, 0, tmp);
    for (int i = 0; i < n; ++i)
        p[i] = tmp[i];
}

// The cell equations, written once for T = float (GPU shape: one unit per work-item) and
// T = float16 (CPU shape: 16 units). a[g] holds the recurrent product of gate g for units j...
// of row b; n is how many of those units exist. `if` on the REC_ constants folds at compile time.
#define REC_DEFINE_EPILOGUES(T)                                                                  \
    static inline void rec_write_##T(const RecStep* s, const int row, const int b, const int j, \
                                     const int n, const int active, const T h, const T hPrev)    \
    {                                                                                            \
        rec_store_##T(active ? h : hPrev, s->hNew + row * s->R + j, n);                          \
        rec_store_##T(active ? h : (T)(0.0f),                                                    \
                      s->output + (s->t * s->B + b) * s->ldOut + s->d * s->R + j, n);            \
    }                                                                                            \
                                                                                                 \
    static inline __attribute__((always_inline))                                                 \
    void rec_gates_epilogue_##T(const RecStep* s, const int b, const int j, const int n,        \
                                const T* a)                                                      \
    {                                                                                            \
        const int row = s->d * s->B + b;                                                         \
        const int active = !s->hasLengths || s->t < s->lengths[b];                               \
        __global const float* x = s->gx + (s->t * s->B + b) * s->ldgx + s->d * s->gxDir + j;     \
        __global const float* bias = s->params + s->d * s->paramsDir + j;                        \
        /* x W_ih^T + biases + the product, except for PyTorch's GRU n gate (r scales it). */  \
        T pre[REC_GATES];                                                                        \
        _Pragma("unroll")                                                                        \
        for (int g = 0; g < REC_GATES; ++g)                                                      \
            pre[g] = rec_load_##T(x + g * s->H, n) + rec_aligned_##T(bias + g * s->hp)           \
                     + (g < REC_PRODUCT_GATES && !(REC_SEPARATE_BHN && g == 2) ? a[g] : (T)(0.0f)); \
        /* h_{t-1} of these units; an LSTM with a projection never needs it here (R != H). */    \
        const T hPrev = s->hasPrev && !REC_PROJECTION                                            \
            ? rec_load_##T(s->hPrev + row * s->R + j, n) : (T)(0.0f);                            \
        if (REC_CELL == REC_RNN) {                                                               \
            rec_write_##T(s, row, b, j, n, active, REC_ACTIVATION(pre[0]), hPrev);               \
        } else if (REC_CELL == REC_LSTM) {                                                       \
            const T c = s->hasPrev ? rec_load_##T(s->cPrev + row * s->H + j, n) : (T)(0.0f);     \
            const T f = REC_SIGMOID(pre[REC_LSTM_F]                                              \
                + (REC_PEEPHOLE ? rec_aligned_##T(bias + REC_PEEP_F * s->hp) * c : (T)(0.0f)));  \
            const T i = REC_COUPLED ? 1.0f - f : REC_SIGMOID(pre[0]                              \
                + (REC_PEEPHOLE ? rec_aligned_##T(bias + (REC_GATES + 1) * s->hp) * c : (T)(0.0f))); \
            const T cNew = f * c + i * tanh(pre[REC_LSTM_G]);                                    \
            const T o = REC_SIGMOID(pre[REC_LSTM_O]                                              \
                + (REC_PEEPHOLE ? rec_aligned_##T(bias + REC_PEEP_O * s->hp) * cNew : (T)(0.0f))); \
            const T h = o * tanh(cNew);                                                          \
            rec_store_##T(active ? cNew : c, s->c + row * s->H + j, n);                          \
            if (REC_PROJECTION)                                                                  \
                rec_store_##T(h, s->scratch + row * s->H + j, n);                                \
            else                                                                                 \
                rec_write_##T(s, row, b, j, n, active, h, hPrev);                                \
        } else if (REC_RESET_BEFORE) {                                                           \
            /* Cho's GRU: rec_finish needs all of r ⊙ h_{t-1}, and z later. */                   \
            rec_store_##T(REC_SIGMOID(pre[0]) * hPrev, s->scratch + row * s->H + j, n);          \
            rec_store_##T(REC_SIGMOID(pre[1]), s->zScratch + row * s->H + j, n);                 \
        } else {                                                                                 \
            const T r = REC_SIGMOID(pre[0]);                                                     \
            const T z = REC_SIGMOID(pre[1]);                                                     \
            const T ghn = a[2] + rec_aligned_##T(bias + REC_GATES * s->hp);                      \
            const T nGate = tanh(pre[2] + r * ghn);                                              \
            rec_write_##T(s, row, b, j, n, active, (1.0f - z) * nGate + z * hPrev, hPrev);       \
        }                                                                                        \
    }                                                                                            \
                                                                                                 \
    /* a: the product of rec_finish (W_hn (r ⊙ h_{t-1}) or W_hr m_t) for units j... of row b. */ \
    static inline __attribute__((always_inline))                                                 \
    void rec_finish_epilogue_##T(const RecStep* s, const int b, const int j, const int n,       \
                                 const T a)                                                      \
    {                                                                                            \
        const int row = s->d * s->B + b;                                                         \
        const int active = !s->hasLengths || s->t < s->lengths[b];                               \
        const T hPrev = s->hasPrev ? rec_load_##T(s->hPrev + row * s->R + j, n) : (T)(0.0f);     \
        T h = a;                                                                                 \
        if (REC_CELL == REC_GRU) {                                                               \
            const T nGate = tanh(a + rec_load_##T(s->gx + (s->t * s->B + b) * s->ldgx            \
                                                  + s->d * s->gxDir + 2 * s->H + j, n)           \
                                 + rec_aligned_##T(s->params + s->d * s->paramsDir + 2 * s->hp + j)); \
            const T z = rec_load_##T(s->zScratch + row * s->H + j, n);                           \
            h = (1.0f - z) * nGate + z * hPrev;                                                  \
        }                                                                                        \
        rec_write_##T(s, row, b, j, n, active, h, hPrev);                                        \
    }

REC_DEFINE_EPILOGUES(float)
REC_DEFINE_EPILOGUES(float16)

// ---------------------------------------------------------------------------------------------
// CPU shape
// ---------------------------------------------------------------------------------------------

// acc[r][v] = sum_k h[r*ldh + k] * w[k*ldw + 16*v ... +15] for r < rows, v < nv: the whole k loop
// in float16 accumulators, one broadcast of h per row and nv vector loads of the packed row per k.
// rows and nv are literals at every call site, so the guarded loops unroll to straight FMAs.
static inline __attribute__((always_inline))
void rec_product_cpu(const int rows, const int nv, float16 acc[REC_ROWS][REC_NV],
                     __global const float* h, const int ldh, const int K,
                     __global const float* w, const int ldw)
{
    // Fixed row offsets and one walking pointer keep each h read a single broadcast load (as in
    // gemm.cl's gemm_cpu_block).
    long hRow[REC_ROWS];
    #pragma unroll
    for (int r = 0; r < REC_ROWS; ++r) {
        hRow[r] = (long)r * ldh;
        #pragma unroll
        for (int v = 0; v < REC_NV; ++v)
            acc[r][v] = (float16)(0.0f);
    }
    for (int k = 0; k < K; ++k, ++h, w += ldw) {
        float16 wv[REC_NV];
        #pragma unroll
        for (int v = 0; v < REC_NV; ++v)
            if (v < nv)
                wv[v] = vload16(v, w);
        #pragma unroll
        for (int r = 0; r < REC_ROWS; ++r) {
            if (r < rows) {
                const float hv = h[hRow[r]];
                #pragma unroll
                for (int v = 0; v < REC_NV; ++v)
                    if (v < nv)
                        acc[r][v] = hv * wv[v] + acc[r][v];
            }
        }
    }
}

// Rows b0 ..< b0+rows of tile p: product over h_{t-1} (none at step 0 without an initial state,
// where h_{t-1} = 0), then the cell on each vector of 16 units.
static inline __attribute__((always_inline))
void rec_gates_rows(const int rows, const RecStep* s, __global const float* w, const int b0, const int p)
{
    float16 acc[REC_ROWS][REC_NV];
    rec_product_cpu(rows, REC_PRODUCT_GATES * REC_VECS, acc, s->hPrev + (s->d * s->B + b0) * s->R, s->R,
                    s->hasPrev ? s->R : 0, w + p * s->R * REC_GATES * REC_UNITS, REC_GATES * REC_UNITS);
    #pragma unroll
    for (int r = 0; r < REC_ROWS; ++r) {
        if (r >= rows)
            break;
        #pragma unroll
        for (int v = 0; v < REC_VECS; ++v) {
            const int j = p * REC_UNITS + 16 * v;
            if (j >= s->H)
                break;
            float16 a[REC_GATES];
            #pragma unroll
            for (int g = 0; g < REC_GATES; ++g)
                a[g] = acc[r][g * REC_VECS + v];
            rec_gates_epilogue_float16(s, b0 + r, j, s->H - j, a);
        }
    }
}

static inline __attribute__((always_inline))
void rec_finish_rows(const int rows, const RecStep* s, __global const float* w, const int ldw, const int b0,
                     const int p)
{
    // The product reads scratch ([D, B, H]: m_t or r ⊙ h_{t-1}) over K = H.
    float16 acc[REC_ROWS][REC_NV];
    rec_product_cpu(rows, REC_VECS, acc, s->scratch + (s->d * s->B + b0) * s->H, s->H, s->H,
                    w + p * s->H * ldw, ldw);
    #pragma unroll
    for (int r = 0; r < REC_ROWS; ++r) {
        if (r >= rows)
            break;
        #pragma unroll
        for (int v = 0; v < REC_VECS; ++v) {
            const int j = p * REC_UNITS + 16 * v;
            if (j >= s->R)
                break;
            rec_finish_epilogue_float16(s, b0 + r, j, s->R - j, acc[r][v]);
        }
    }
}

// Work-item (p, g) runs row tiles g, g + G1, g + 2*G1, ... (G1 = get_global_size(1)) of unit tile
// p: with fewer groups than row tiles it re-reads its weight panel from its own core's cache, which
// matters once the packed W_hh outgrows one L2 (H = 512). Full tiles run REC_ROWS rows at once;
// the last partial tile one row at a time, which keeps the row count a literal (two copies of the
// loop instead of one per count).
#define REC_FOR_ROW_TILES(CALL)                                                                  \
    for (int b0 = get_global_id(1) * REC_ROWS; b0 < B; b0 += get_global_size(1) * REC_ROWS) {  \
        if (b0 + REC_ROWS <= B) {                                                                \
            CALL(REC_ROWS, b0);                                                                  \
        } else {                                                                                 \
            for (int b = b0; b < B; ++b)                                                         \
                CALL(1, b);                                                                      \
        }                                                                                        \
    }

__kernel void rec_gates_cpu(REC_STEP_PARAMS)
{
    const int p = get_global_id(0);
    const int d = get_global_id(2);
    if (p * REC_UNITS >= H)
        return;
    REC_PING_PONG
    const RecStep s = REC_STEP_INIT(d);
    __global const float* wd = w + d * wDir;
#define REC_GATES_CALL(rows, b) rec_gates_rows(rows, &s, wd, b, p)
    REC_FOR_ROW_TILES(REC_GATES_CALL)
#undef REC_GATES_CALL
}

__kernel void rec_finish_cpu(REC_FINISH_PARAMS)
{
    const int p = get_global_id(0);
    const int d = get_global_id(2);
    if (p * REC_UNITS >= R)
        return;
    REC_PING_PONG
    const RecStep s = REC_STEP_INIT(d);
    __global const float* wd = w + d * wDir + wOffset;
#define REC_FINISH_CALL(rows, b) rec_finish_rows(rows, &s, wd, ldw, b, p)
    REC_FOR_ROW_TILES(REC_FINISH_CALL)
#undef REC_FINISH_CALL
}

// ---------------------------------------------------------------------------------------------
// GPU shape
// ---------------------------------------------------------------------------------------------

// acc[g] += sum_k h[r, k] * w[k*ldw + g*REC_GPU_UNITS + u] for g < gates, with the group's rows of
// h staged through `tile` in REC_GPU_DEPTH-deep slices. Every work-item of the group must call it
// (barriers); rows past the batch load zeros.
static inline void rec_product_gpu(__local float* tile, const int gates, float* acc, __global const float* h,
                                   const int ldh, const int rowsLeft, const int K,
                                   __global const float* w, const int ldw)
{
    const int u = get_local_id(0);
    const int r = get_local_id(1);
    const int lid = r * REC_GPU_UNITS + u;
    for (int k0 = 0; k0 < K; k0 += REC_GPU_DEPTH) {
        // Consecutive work-items load consecutive k of one row: coalesced.
        for (int l = lid; l < REC_GPU_ROWS * REC_GPU_DEPTH; l += REC_GPU_UNITS * REC_GPU_ROWS) {
            const int rr = l / REC_GPU_DEPTH, kk = l % REC_GPU_DEPTH;
            tile[l] = (rr < rowsLeft && k0 + kk < K) ? h[rr * ldh + k0 + kk] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        const int depth = min(REC_GPU_DEPTH, K - k0);
        __global const float* wk = w + k0 * ldw + u;
        for (int kk = 0; kk < depth; ++kk, wk += ldw) {
            const float hv = tile[r * REC_GPU_DEPTH + kk];
            #pragma unroll
            for (int g = 0; g < REC_GATES; ++g)
                if (g < gates)
                    acc[g] += hv * wk[g * REC_GPU_UNITS];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

// A GPU-shape work-group: direction d, unit panel p, the rows b0.. of its row group; this
// work-item's batch row b and unit j; the step's h buffers and parameters.
#define REC_GPU_GROUP                                                                                 \
    __local float tile[REC_GPU_ROWS * REC_GPU_DEPTH];                                                 \
    const int d = get_global_id(2);                                                                   \
    const int p = get_group_id(0);                                                                    \
    const int b0 = get_group_id(1) * REC_GPU_ROWS;                                                    \
    const int b = b0 + get_local_id(1);                                                               \
    const int j = p * REC_GPU_UNITS + get_local_id(0);                                                \
    REC_PING_PONG                                                                                     \
    const RecStep s = REC_STEP_INIT(d);

__kernel __attribute__((reqd_work_group_size(REC_GPU_UNITS, REC_GPU_ROWS, 1)))
void rec_gates_gpu(REC_STEP_PARAMS)
{
    REC_GPU_GROUP

    float acc[REC_GATES];
    for (int g = 0; g < REC_GATES; ++g)
        acc[g] = 0.0f;
    rec_product_gpu(tile, REC_PRODUCT_GATES, acc, hPrev + (d * B + b0) * R, R, B - b0, hasPrev ? R : 0,
                    w + d * wDir + p * R * REC_GATES * REC_GPU_UNITS, REC_GATES * REC_GPU_UNITS);
    if (b < B && j < H)
        rec_gates_epilogue_float(&s, b, j, 1, acc);
}

__kernel __attribute__((reqd_work_group_size(REC_GPU_UNITS, REC_GPU_ROWS, 1)))
void rec_finish_gpu(REC_FINISH_PARAMS)
{
    REC_GPU_GROUP

    float acc[1] = {0.0f};
    rec_product_gpu(tile, 1, acc, scratch + (d * B + b0) * H, H, B - b0, H,
                    w + d * wDir + wOffset + p * H * ldw, ldw);
    if (b < B && j < R)
        rec_finish_epilogue_float(&s, b, j, 1, acc[0]);
}
