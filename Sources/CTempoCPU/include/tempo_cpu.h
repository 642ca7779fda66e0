// tempo_cpu.h -- Tempo's CPU kernels that need what Swift cannot give them portably: per-CPU
// vector code (AVX-512/AVX2 clones chosen at load time) and threads that run a whole sequence
// together, meeting at a barrier once per step. Only TempoCompute imports this module.
#ifndef TEMPO_CPU_H
#define TEMPO_CPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The cells of the recurrent sequence op (Swift: RecurrentCell).
typedef enum {
    TEMPO_CELL_RNN_TANH = 0,
    TEMPO_CELL_RNN_RELU = 1,
    TEMPO_CELL_LSTM = 2,
    TEMPO_CELL_GRU_RESET_AFTER = 3,   // PyTorch's GRU, ONNX linear_before_reset = 1
    TEMPO_CELL_GRU_RESET_BEFORE = 4,  // Cho et al., ONNX linear_before_reset = 0
} tempo_cell;

/// One recurrent layer over a sequence. Row-major float32 throughout; T steps, B batch rows,
/// I inputs, H hidden units, G gate blocks, R = P when projected else H, D directions (index `d`).
typedef struct {
    tempo_cell cell;
    int peephole;        // LSTM: peephole weights present
    int coupled;         // LSTM: input gate = 1 - forget gate (G = 3: f, g, o)
    int steps, batch, input, hidden, projection, directions;
    const float *x;            // [T, B, I]
    const float *w_ih[2];      // [G*H, I]
    const float *w_hh[2];      // [G*H, R]
    const float *b_ih[2];      // [G*H] or NULL
    const float *b_hh[2];      // [G*H] or NULL
    const float *w_peephole[2];// [peepholeCount*H] or NULL
    const float *w_hr[2];      // [P, H] or NULL
    const float *h0;           // [D, B, R] or NULL (zeros)
    const float *c0;           // [D, B, H] or NULL (zeros)
    const int32_t *lengths;    // [B] in 1...T, or NULL
    float *y;                  // [T, B, D*R]
    float *h_n;                // [D, B, R]
    float *c_n;                // [D, B, H], LSTM only
} tempo_recurrent_args;

/// Floats of the packed weights of these arguments (`w_ih`, `w_hh`, and `w_hr` with a
/// projection; the other pointers are not read).
size_t tempo_recurrent_packed_size(const tempo_recurrent_args *args);

/// Packs `w_ih`, `w_hh` (and `w_hr`) into panels contiguous along K, the layout the kernels stream,
/// on up to `threads` threads. `packed` holds `tempo_recurrent_packed_size(args)` floats, 64-byte
/// aligned. The packing depends only on the weights and the sizes, so it can be kept and reused
/// for as long as the weights do not change.
void tempo_recurrent_pack(const tempo_recurrent_args *args, float *packed, int threads);

/// Floats of scratch `tempo_recurrent_sequence` needs for these arguments.
size_t tempo_recurrent_workspace_size(const tempo_recurrent_args *args, int threads);

/// Runs the recurrence on up to `threads` threads (fewer when another sequence holds the worker
/// threads) from weights packed by `tempo_recurrent_pack`. `workspace` holds
/// `tempo_recurrent_workspace_size(args, threads)` floats, 64-byte aligned. Returns the number of
/// threads used.
int tempo_recurrent_sequence(const tempo_recurrent_args *args, const float *packed, float *workspace, int threads);

/// One scaled dot-product attention call (Swift: AttentionDescriptor). Row-major float32;
/// query head `i` reads key/value head `i / (heads / kv_heads)`.
typedef struct {
    int batch, heads, kv_heads, queries, keys, head_dim, value_dim;
    int causal;                 // query i sees keys j <= i (top-left aligned)
    float scale;
    const float *q;             // [B, h, Sq, d]
    const float *k;             // [B, hkv, Sk, d]
    const float *v;             // [B, hkv, Sk, dv]
    const float *mask;          // 0/1 floats, nonzero = attend; element (b, i, q, k) at the dot
                                // product of (b, i, q, k) with mask_strides; NULL for none
    int64_t mask_strides[4];
    const float *additive;      // added to the scaled scores; layout as the mask's; NULL for none
    int64_t additive_strides[4];
    float *out;                 // [B, h, Sq, dv]
} tempo_attention_args;

/// Floats of scratch `tempo_attention` needs on `threads` threads: O((d + dv) * 64) per thread,
/// independent of the sequence lengths.
size_t tempo_attention_workspace_size(const tempo_attention_args *args, int threads);

/// Flash-style attention on up to `threads` threads: blocks of queries stream the keys and values
/// in tiles through cache with an online softmax; causal calls skip the tiles above the diagonal.
/// `workspace` holds `tempo_attention_workspace_size(args, threads)` floats, 64-byte aligned.
/// Returns the number of threads used.
int tempo_attention(const tempo_attention_args *args, float *workspace, int threads);

#ifdef __cplusplus
}
#endif

#endif
