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

/// The activations of the convolution step's epilogue (Swift: Activation, or none).
typedef enum {
    TEMPO_ACTIVATION_NONE = 0,
    TEMPO_ACTIVATION_RELU = 1,
    TEMPO_ACTIVATION_TANH = 2,
    TEMPO_ACTIVATION_SIGMOID = 3,
    TEMPO_ACTIVATION_GELU = 4,
    TEMPO_ACTIVATION_GELU_TANH = 5,
} tempo_activation;

/// One step of a dilated causal convolution: the output of the newest sample, then the sample
/// appended to the history ring. Row-major float32; B batch rows, Cin inputs, Cout outputs, K taps,
/// dilation d, G groups, S = (K-1)*d + 1 history slots (0 when K = 1).
///
///   y[b, o] = out_act(act(bias[o] + sum_k sum_c w[o, c, k] * tap_k[b, g*Cin/G + c]) + residual[b, o])
///
/// where g = o / (Cout/G), tap_{K-1} = x and tap_k = history slot (position - (K-1-k)*d + S) % S.
typedef struct {
    int batch, input, output, taps, dilation, groups;
    int slots, position;             // S, and the slot x is written to
    const float *x;                  // [B, Cin]
    float *history;                  // [S, B, Cin], or NULL when S = 0
    const float *w;                  // [Cout, Cin/G, K]
    const float *bias;               // [Cout] or NULL
    const float *residual;           // [B, Cout] or NULL
    tempo_activation activation, output_activation;
    float *y;                        // [B, Cout]
    // Steps d apart paired (tempo_conv_step_pairs: K = 3, G = 1): NULL, or the [d, B, Cout]
    // halves the first of each pair keeps for the second; the slot of this step (t mod d); and
    // whether it is the second of a pair whose first wrote that slot with this weight.
    float *stash;
    int stash_slot, paired;
} tempo_conv_step_args;

/// Whether steps of these arguments pair (K = 3, G = 1): their weight is packed for pairs, and a
/// stash lets every second step of a pair cost one product instead of three.
int tempo_conv_step_pairs(const tempo_conv_step_args *args);

/// Floats of the packed weight for these arguments: 0 when G > 1 (grouped steps read `w` in place).
size_t tempo_conv_step_packed_size(const tempo_conv_step_args *args);

/// Packs `w` into panels of 64 outputs contiguous along (tap, input channel), or for paired steps
/// along (matrix, input channel) with the matrices g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2: the layout
/// the step streams. `packed` holds `tempo_conv_step_packed_size(args)` floats, 64-byte aligned.
/// Depends only on the weight and the sizes, so it can be kept while the weight lives.
void tempo_conv_step_pack(const tempo_conv_step_args *args, float *packed);

/// Runs `count` steps in order, step i from `packed[i]` (NULL when G > 1), each free to read the
/// outputs of the steps before it as its x or residual (a TCN's convolutions for one sample), and
/// appends each step's x to its history (during the step, into the slot no tap reads). Their
/// items are shared with up to `threads - 1` ready workers (none when the work is too small to
/// pay for a hand-off, or when another caller holds the team), the steps as dependent phases of
/// one job. Returns how many items ran on the calling thread.
int tempo_conv_steps(const tempo_conv_step_args *steps, const float *const *packed, int count, int threads);

/// The largest dilation `tempo_causal_conv` takes: an item's inputs span ~5d steps per channel.
#define TEMPO_CAUSAL_CONV_MAX_DILATION 64

/// A dilated causal convolution with K = 3 over whole sequences, groups = 1, by Winograd's F(2,3)
/// (2/3 of the direct FLOPs): row-major float32,
/// y[b, o, t] = bias[o] + sum_c sum_k w[o, c, k] * x[b, c, t - (2-k)*d], zeros before t = 0.
typedef struct {
    int batch, input, output, length, taps, dilation;  // B, Cin, Cout, L, K (3), d
    const float *x;         // [B, Cin, L]
    const float *bias;      // [Cout] or NULL
    const float *residual;  // [B, Cout, L] or NULL
    tempo_activation activation, output_activation;  // y = output_activation(activation(sum + bias) + residual)
    float *y;               // [B, Cout, L]
} tempo_causal_conv_args;

/// Whether `tempo_causal_conv` takes these sizes: K = 3 and d a power of two up to
/// TEMPO_CAUSAL_CONV_MAX_DILATION (so that 64 output pairs are 128 consecutive steps).
int tempo_causal_conv_supported(const tempo_causal_conv_args *args);

/// Floats of the packed weight.
size_t tempo_causal_conv_packed_size(const tempo_causal_conv_args *args);

/// Transforms and packs `w` `[Cout, Cin, 3]` for `tempo_causal_conv`; depends only on the weight
/// and the sizes.
void tempo_causal_conv_pack(const tempo_causal_conv_args *args, const float *w, float *packed);

/// Floats of scratch `tempo_causal_conv` needs on `threads` threads.
size_t tempo_causal_conv_workspace_size(const tempo_causal_conv_args *args, int threads);

/// y[i] = output_activation(activation(y[i]) + residual[i]) for i < count (residual may be NULL), on
/// up to `threads` threads: the epilogue of a convolution computed without one.
void tempo_conv_epilogue(float *y, const float *residual, size_t count, tempo_activation activation,
                         tempo_activation output_activation, int threads);

/// Runs the convolution on up to `threads` threads from the packed weight; `workspace` holds
/// `tempo_causal_conv_workspace_size(args, threads)` floats, 64-byte aligned. Returns the number
/// of threads used.
int tempo_causal_conv(const tempo_causal_conv_args *args, const float *packed, float *workspace, int threads);
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
