// tile_product.h -- the register-tiled products of the CPU kernels (the recurrence, the causal
// convolution step): MR rows of A times a panel of NV vectors of 16 columns, packed contiguous
// along K, in MR * NV <= 24 accumulators.
#ifndef TEMPO_TILE_PRODUCT_H
#define TEMPO_TILE_PRODUCT_H

#include "vector_math.h"

#include <stddef.h>

enum { LANES = 16, MAX_ROWS = 8 };

// Block `block` of `total` rows cut into `blocks` blocks as even as possible (32 rows in 6 as
// 6+6+5+5+5+5, not 6*5+2: a short block's tile has too few accumulators to keep the FMA units
// busy): its first row and its row count.
TEMPO_INLINE void even_block(int total, int blocks, int block, int *first, int *rows) {
    const int base = total / blocks, extra = total % blocks;
    *first = block * base + (block < extra ? block : extra);
    *rows = base + (block < extra ? 1 : 0);
}

// tile[(r * NV + v) * 16 + l] (+)= sum_k rows[r][k] * packed[(k * NV + v) * 16 + l], with MR
// rows of A and NV vectors of 16 columns in MR * NV <= 24 accumulators (of AVX-512's 32
// registers). With `accumulate` the sums are added to the tile, so a product whose rows of A lie
// in several buffers (the taps of a convolution step) runs as one call per buffer.
#define DEFINE_TILE_PRODUCT(MR, NV)                                                                    \
    TEMPO_INLINE void tile_product_##MR##x##NV(                                                        \
        int K, const float *const *rows, const float *restrict packed, float *restrict tile,           \
        int accumulate) {                                                                              \
        v16 acc[MR][NV];                                                                               \
        for (int r = 0; r < MR; r++)                                                                   \
            for (int v = 0; v < NV; v++)                                                               \
                acc[r][v] = accumulate ? *(const v16_unaligned *)(tile + (r * NV + v) * LANES) : (v16)0.0f; \
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
DEFINE_TILE_PRODUCT(1, 4)
DEFINE_TILE_PRODUCT(2, 4)
DEFINE_TILE_PRODUCT(3, 4)
DEFINE_TILE_PRODUCT(4, 4)
DEFINE_TILE_PRODUCT(5, 4)
DEFINE_TILE_PRODUCT(6, 4)
DEFINE_TILE_PRODUCT(1, 3)
DEFINE_TILE_PRODUCT(2, 3)
DEFINE_TILE_PRODUCT(3, 3)
DEFINE_TILE_PRODUCT(4, 3)
DEFINE_TILE_PRODUCT(5, 3)
DEFINE_TILE_PRODUCT(6, 3)
DEFINE_TILE_PRODUCT(7, 3)
DEFINE_TILE_PRODUCT(8, 3)

// A partial block of rows gets a kernel of its own height: at batch 1 a full-height tile would
// multiply the same row 6 or 8 times.
TEMPO_INLINE void tile_product_adding(
    int vectors, int rows, int K, const float *const *a, const float *packed, float *tile, int accumulate) {
    if (vectors == 4) {
        switch (rows) {
        case 1: tile_product_1x4(K, a, packed, tile, accumulate); return;
        case 2: tile_product_2x4(K, a, packed, tile, accumulate); return;
        case 3: tile_product_3x4(K, a, packed, tile, accumulate); return;
        case 4: tile_product_4x4(K, a, packed, tile, accumulate); return;
        case 5: tile_product_5x4(K, a, packed, tile, accumulate); return;
        default: tile_product_6x4(K, a, packed, tile, accumulate); return;
        }
    }
    switch (rows) {
    case 1: tile_product_1x3(K, a, packed, tile, accumulate); return;
    case 2: tile_product_2x3(K, a, packed, tile, accumulate); return;
    case 3: tile_product_3x3(K, a, packed, tile, accumulate); return;
    case 4: tile_product_4x3(K, a, packed, tile, accumulate); return;
    case 5: tile_product_5x3(K, a, packed, tile, accumulate); return;
    case 6: tile_product_6x3(K, a, packed, tile, accumulate); return;
    case 7: tile_product_7x3(K, a, packed, tile, accumulate); return;
    default: tile_product_8x3(K, a, packed, tile, accumulate); return;
    }
}

/// The product alone, overwriting the tile.
TEMPO_INLINE void tile_product(int vectors, int rows, int K, const float *const *a, const float *packed, float *tile) {
    tile_product_adding(vectors, rows, K, a, packed, tile, 0);
}

#endif
