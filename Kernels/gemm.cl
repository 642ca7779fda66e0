// gemm.cl -- batched SGEMM for Tempo's OpenCL backend (OpenCL C 1.2).
//
// For each batch b:   C_b (M x N) = alpha * op(A_b) (M x K) * op(B_b) (K x N) + beta * C_b
//
// Everything is row-major float32; every integer argument is an `int` counted in elements.
// Transposes are folded into element strides, so one kernel serves all four combinations:
//   A(i, k) of batch b = A[offA + b*strideA + i*sAi + k*sAk]   (A: sAi = lda, sAk = 1;  A^T: sAi = 1, sAk = lda)
//   B(k, j) of batch b = B[offB + b*strideB + k*sBk + j*sBn]   (B: sBk = ldb, sBn = 1;  B^T: sBk = 1, sBn = ldb)
//   C(i, j) of batch b = C[offC + b*strideC + i*ldc + j]
// strideB may be 0 (one B broadcast over the batch). When beta == 0, C is never read, so it may
// hold garbage (NaN). M, N, K are arbitrary >= 1. No alignment is required of any pointer, offset
// or leading dimension (vector accesses use vloadn/vstoren).
//
// Two kernel shapes, chosen by the host per device type:
//
// 1. CPU shape, for OpenCL CPU devices such as PoCL. PoCL runs a work-group as a loop over its
//    work-items and keeps every private value that lives across a barrier in memory, so the fast
//    shape has no barriers and no local memory: one work-item owns a TM x TN tile of C in float16
//    accumulators and runs the whole K loop (broadcast one A element per row, load TN/16 vectors
//    of B, TM*TN/16 FMAs per k). B is first packed into TN-wide column panels, contiguous along K,
//    so the inner loop's B loads are sequential and aligned whatever the layout of B.
//    TM = GEMM_CPU_TM, TN = GEMM_CPU_TN, P = ceil(N/TN) panels.
//
//    gemm_pack_b(B, offB, strideB, sBk, sBn, K, N, packed, packedStride)
//        packed[b*packedStride + (p*K + k)*TN + c] = B(k, p*TN + c), and 0 where p*TN + c >= N.
//        packedStride = P * K * TN  (elements per batch; the buffer holds batch * packedStride).
//        global = (ceil(K/16), P, batch), local = (1, 1, 1). One work-item packs 16 k x TN.
//    gemm_cpu(A, offA, strideA, sAi, sAk, packed, packedStride, C, offC, strideC, ldc, M, N, K, alpha, beta)
//        global = (ceil(M/TM), P, batch), local = (1, 1, 1).
//        `packed` must come from gemm_pack_b with the same TN, K and N. packedStride = 0 shares
//        one packed B across the batch (pack it with batch = 1). A packed B stays valid for as
//        long as B does not change: pack weights once per weight update, not once per call.
//    gemm_pack_a(A, offA, strideA, sAi, sAk, M, K, packedA, packedAStride)        (optional)
//        packedA[b*packedAStride + i*K + k] = A(i, k): op(A) as plain row-major M x K, with
//        packedAStride = M * K. global = (ceil(K/16), ceil(M/16), batch), local = (1, 1, 1).
//        Use it when A is transposed (sAk != 1) and not small, then call gemm_cpu with
//        (packedA, 0, M*K, K, 1): reading A^T in place strides K by lda, which halves the speed.
//    gemm_cpu_nopack(A, offA, strideA, sAi, sAk, B, offB, strideB, sBk, sBn, C, offC, strideC, ldc, M, N, K, alpha, beta)
//        Optional. Same tiles and geometry as gemm_cpu, reading B in place: for small M with an
//        untransposed B used only once, where packing would cost more than it saves.
//    All CPU-shape kernels also accept global sizes rounded up to a multiple of any local size:
//    surplus work-items return at once. local = (1, 1, 1) was as fast as or faster than any other
//    choice on PoCL; NULL let PoCL build few large work-groups, which left a thread idle on small
//    grids and cost 5-15% on large ones.
//
// 2. GPU shape (gemm_gpu), for real GPUs, in the style of myGEMM / CLBlast's xgemm: a work-group
//    computes a TSM x TSN tile of C, each work-item WPTM x WPTN outputs in registers (its columns
//    in WPTN/VWN vectors of VWN), and K advances in TSK-deep slices staged through __local tiles
//    between barriers. Out-of-range tile elements are zero-filled, stores are guarded.
//        local  = (TSN/WPTN, TSM/WPTM, 1)   (required: reqd_work_group_size)
//        global = (ceil(N/TSN) * TSN/WPTN, ceil(M/TSM) * TSM/WPTM, batch)
//    Correct on PoCL too, but about half as fast there as the CPU shape, even with PoCL-tuned
//    -D values (see GEMM_GPU_* below).

// ---------------------------------------------------------------------------------------------
// Tunables (override with -D). The CPU defaults are the best measured on PoCL 3.1 (LLVM 15) on a
// 2-core AVX-512 Xeon. The GPU defaults are conventional GPU settings (64x64 work-group tile,
// 16x16 work-items of 4x4 outputs, float4 columns), not PoCL's; on PoCL the best measured were
//   -DGEMM_GPU_TSM=128 -DGEMM_GPU_TSN=256 -DGEMM_GPU_TSK=64 -DGEMM_GPU_WPTM=8 -DGEMM_GPU_WPTN=32
//   -DGEMM_GPU_VWN=16
// (big per-work-item tiles in float16 registers, few work-items, few barriers).
// ---------------------------------------------------------------------------------------------

#ifndef GEMM_CPU_TM
#define GEMM_CPU_TM 6     // rows of C per work-item (CPU shape); TM*TN/16 accumulators, 24 of 32 zmm
#endif
#ifndef GEMM_CPU_TN
#define GEMM_CPU_TN 64    // columns of C per work-item = packed panel width; a multiple of 16
#endif

#ifndef GEMM_GPU_TSM
#define GEMM_GPU_TSM 64   // rows of C per work-group (GPU shape)
#endif
#ifndef GEMM_GPU_TSN
#define GEMM_GPU_TSN 64   // columns of C per work-group
#endif
#ifndef GEMM_GPU_TSK
#define GEMM_GPU_TSK 16   // depth of the K slice staged in local memory per barrier pair
#endif
#ifndef GEMM_GPU_WPTM
#define GEMM_GPU_WPTM 4   // rows of C per work-item; must divide TSM
#endif
#ifndef GEMM_GPU_WPTN
#define GEMM_GPU_WPTN 4   // columns of C per work-item; must divide TSN
#endif
#ifndef GEMM_GPU_VWN
#define GEMM_GPU_VWN 4    // vector width of a work-item's columns (float4 loads/stores); divides WPTN
#endif
#ifndef GEMM_GPU_PAD
#define GEMM_GPU_PAD 1    // extra floats per row of the A tile, against bank conflicts when storing it
#endif

#if (GEMM_CPU_TN % 16) != 0
#error "GEMM_CPU_TN must be a multiple of 16"
#endif
#if (GEMM_GPU_TSM % GEMM_GPU_WPTM) != 0 || (GEMM_GPU_TSN % GEMM_GPU_WPTN) != 0
#error "GEMM_GPU_WPTM / GEMM_GPU_WPTN must divide GEMM_GPU_TSM / GEMM_GPU_TSN"
#endif
#if (GEMM_GPU_WPTN % GEMM_GPU_VWN) != 0 || (GEMM_GPU_TSK % 4) != 0
#error "GEMM_GPU_VWN must divide GEMM_GPU_WPTN, and GEMM_GPU_TSK must be a multiple of 4"
#endif

#define CPU_VN (GEMM_CPU_TN / 16)   // float16 accumulators per row of the tile
// Multiply-add written as a*b + c, which OpenCL C lets the compiler contract into one FMA. Not
// mad(): PoCL lowers mad() to a separate multiply and add, which kept FMAs out of both kernels.
#define GEMM_MAD(a, b, c) ((a) * (b) + (c))

// ---------------------------------------------------------------------------------------------
// CPU shape
// ---------------------------------------------------------------------------------------------

// 16x16 transpose in registers, in four butterfly passes: pass W exchanges bit W of the row index
// with bit W of the column index between rows i and i+W. Written with swizzles (not shuffle2) so
// it compiles to plain vector permutes everywhere.
#define GEMM_T8(a, b, lo, hi) \
    lo = (float16)((a).lo, (b).lo); \
    hi = (float16)((a).hi, (b).hi);
#define GEMM_T4(a, b, lo, hi) \
    lo = (float16)((a).s0123, (b).s0123, (a).s89ab, (b).s89ab); \
    hi = (float16)((a).s4567, (b).s4567, (a).scdef, (b).scdef);
#define GEMM_T2(a, b, lo, hi) \
    lo = (float16)((a).s01, (b).s01, (a).s45, (b).s45, (a).s89, (b).s89, (a).scd, (b).scd); \
    hi = (float16)((a).s23, (b).s23, (a).s67, (b).s67, (a).sab, (b).sab, (a).sef, (b).sef);
#define GEMM_T1(a, b, lo, hi) \
    lo = (float16)((a).s0, (b).s0, (a).s2, (b).s2, (a).s4, (b).s4, (a).s6, (b).s6, \
                   (a).s8, (b).s8, (a).sa, (b).sa, (a).sc, (b).sc, (a).se, (b).se); \
    hi = (float16)((a).s1, (b).s1, (a).s3, (b).s3, (a).s5, (b).s5, (a).s7, (b).s7, \
                   (a).s9, (b).s9, (a).sb, (b).sb, (a).sd, (b).sd, (a).sf, (b).sf);
#define GEMM_TPASS(r, W, STAGE) \
    _Pragma("unroll") \
    for (int i = 0; i < 16; ++i) \
        if ((i & W) == 0) { float16 lo, hi; STAGE(r[i], r[i + W], lo, hi); r[i] = lo; r[i + W] = hi; }

// dst[i*ldd + c] = src[c*lds + i] for a 16x16 block: 16 vector loads, register transpose,
// 16 vector stores (element-wise gathers made transposed packing ~4x slower than a plain copy).
static inline __attribute__((always_inline))
void gemm_transpose16(__global const float* src, const int lds, __global float* dst, const int ldd)
{
    float16 r[16];
    #pragma unroll
    for (int i = 0; i < 16; ++i)
        r[i] = vload16(0, src + i * lds);
    GEMM_TPASS(r, 8, GEMM_T8)
    GEMM_TPASS(r, 4, GEMM_T4)
    GEMM_TPASS(r, 2, GEMM_T2)
    GEMM_TPASS(r, 1, GEMM_T1)
    #pragma unroll
    for (int i = 0; i < 16; ++i)
        vstore16(r[i], 0, dst + i * ldd);
}

// One work-item packs a 16 (k) x TN block. Untransposed B (sBn == 1) is a straight row copy, a
// transposed B (sBk == 1) goes through the register transpose. Tile edges and any other strides
// take the element-wise path, which also zero-fills columns >= N.
__kernel void gemm_pack_b(__global const float* B, int offB, int strideB, int sBk, int sBn,
                          int K, int N, __global float* packed, int packedStride)
{
    const int k0 = get_global_id(0) * 16;
    const int p = get_global_id(1);
    const int b = get_global_id(2);
    const int j0 = p * GEMM_CPU_TN;
    if (k0 >= K || j0 >= N)   // tolerate a global size rounded up to a multiple of the local size
        return;

    __global const float* src = B + offB + b * strideB + k0 * sBk + j0 * sBn;
    __global float* dst = packed + b * packedStride + (p * K + k0) * GEMM_CPU_TN;
    const int nk = min(16, K - k0);
    const int nc = min(GEMM_CPU_TN, N - j0);

    if (sBn == 1 && nc == GEMM_CPU_TN) {
        for (int kk = 0; kk < nk; ++kk)
            #pragma unroll
            for (int v = 0; v < CPU_VN; ++v)
                vstore16(vload16(0, src + kk * sBk + 16 * v), 0, dst + kk * GEMM_CPU_TN + 16 * v);
    } else if (sBk == 1 && nk == 16 && nc == GEMM_CPU_TN) {
        #pragma unroll
        for (int v = 0; v < CPU_VN; ++v)
            gemm_transpose16(src + 16 * v * sBn, sBn, dst + 16 * v, GEMM_CPU_TN);
    } else {
        for (int kk = 0; kk < nk; ++kk)
            for (int c = 0; c < GEMM_CPU_TN; ++c)
                dst[kk * GEMM_CPU_TN + c] = c < nc ? src[kk * sBk + c * sBn] : 0.0f;
    }
}

// Optional: copies op(A) into plain row-major M x K, packedA[b*packedAStride + i*K + k] = A(i, k),
// one 16 x 16 block per work-item. For a transposed A (sAk != 1): gemm_cpu reading A^T in place
// walks K with an lda stride, and with a power-of-two lda those lines collide in L1/L2
// (1024^3: 110-125 GF/s instead of 200-260).
__kernel void gemm_pack_a(__global const float* A, int offA, int strideA, int sAi, int sAk,
                          int M, int K, __global float* packedA, int packedAStride)
{
    const int k0 = get_global_id(0) * 16;
    const int i0 = get_global_id(1) * 16;
    const int b = get_global_id(2);
    if (k0 >= K || i0 >= M)
        return;

    __global const float* src = A + offA + b * strideA + i0 * sAi + k0 * sAk;
    __global float* dst = packedA + b * packedAStride + i0 * K + k0;
    const int ni = min(16, M - i0);
    const int nk = min(16, K - k0);

    if (sAi == 1 && ni == 16 && nk == 16) {
        gemm_transpose16(src, sAk, dst, K);
    } else {
        for (int ii = 0; ii < ni; ++ii)
            for (int kk = 0; kk < nk; ++kk)
                dst[ii * K + kk] = src[ii * sAi + kk * sAk];
    }
}

// One rows x TN block of C (rows <= GEMM_CPU_TM): a K-long loop of broadcast-A x vector-B FMAs
// into float16 accumulators, then the alpha/beta store. `rows` and `gatherB` are literals at every
// call site, so after inlining the branches on them fold away. The row loops run to the
// compile-time GEMM_CPU_TM and test `r < rows`: a loop bounded by `rows` itself was only partly
// unrolled for TM = 8, which spilled the accumulators and halved the speed.
//   gatherB == 0: row k of the block is TN contiguous floats at b + k*sBk (packed panel, or an
//                 untransposed B whose block lies inside N);
//   gatherB == 1: element-wise B(k, j) = b[k*sBk + j*sBn], zero for j >= ncols (slow; edges only).
static inline __attribute__((always_inline))
void gemm_cpu_block(const int rows, const int gatherB,
                    __global const float* a, const int sAi, const int sAk,
                    __global const float* b, const int sBk, const int sBn, const int K,
                    __global float* c, const int ldc, const int ncols, const float alpha, const float beta)
{
    // Row offsets stay fixed while one pointer walks K, so each A read is a single broadcast load
    // with [base + index] addressing; recomputing row*sAi + k*sAk per row in the loop made LLVM
    // build the indices in vector registers and extract them one by one.
    long aRow[GEMM_CPU_TM];
    float16 acc[GEMM_CPU_TM][CPU_VN];
    #pragma unroll
    for (int r = 0; r < GEMM_CPU_TM; ++r) {
        aRow[r] = (long)r * sAi;
        #pragma unroll
        for (int v = 0; v < CPU_VN; ++v)
            acc[r][v] = (float16)(0.0f);
    }

    for (int k = 0; k < K; ++k, a += sAk, b += sBk) {
        float16 bv[CPU_VN];
        if (gatherB) {
            float tmp[GEMM_CPU_TN];
            for (int t = 0; t < GEMM_CPU_TN; ++t)
                tmp[t] = t < ncols ? b[t * sBn] : 0.0f;
            #pragma unroll
            for (int v = 0; v < CPU_VN; ++v)
                bv[v] = vload16(v, tmp);
        } else {
            #pragma unroll
            for (int v = 0; v < CPU_VN; ++v)
                bv[v] = vload16(v, b);
        }
        #pragma unroll
        for (int r = 0; r < GEMM_CPU_TM; ++r) {
            if (r < rows) {
                const float av = a[aRow[r]];
                #pragma unroll
                for (int v = 0; v < CPU_VN; ++v)
                    acc[r][v] = GEMM_MAD(av, bv[v], acc[r][v]);
            }
        }
    }

    #pragma unroll
    for (int r = 0; r < GEMM_CPU_TM; ++r, c += ldc) {
        if (r >= rows)
            break;
        #pragma unroll
        for (int v = 0; v < CPU_VN; ++v) {
            const int j = 16 * v;
            float16 out = alpha * acc[r][v];
            if (j + 16 <= ncols) {
                if (beta != 0.0f)
                    out = GEMM_MAD(beta, vload16(0, c + j), out);
                vstore16(out, 0, c + j);
            } else if (j < ncols) {
                // Right edge of C: element-wise through a private array, since OpenCL C has
                // no dynamic vector component index.
                float tmp[16];
                vstore16(out, 0, tmp);
                for (int t = 0; j + t < ncols; ++t)
                    c[j + t] = beta != 0.0f ? GEMM_MAD(beta, c[j + t], tmp[t]) : tmp[t];
            }
        }
    }
}

// Full row blocks with the TM-row kernel; the bottom edge one row at a time, which is cheaper than
// a full tile with clamped rows and makes M = 1 (GEMV) run at memory speed instead of 1/TM of it.
#define GEMM_CPU_ROWS(GATHER, b, sBk, sBn)                                                       \
    if (i0 + GEMM_CPU_TM <= M) {                                                                 \
        gemm_cpu_block(GEMM_CPU_TM, GATHER, a, sAi, sAk, b, sBk, sBn, K, c, ldc, ncols, alpha, beta); \
    } else {                                                                                     \
        for (int r = 0; i0 + r < M; ++r)                                                         \
            gemm_cpu_block(1, GATHER, a + r * sAi, sAi, sAk, b, sBk, sBn, K,                     \
                           c + r * ldc, ldc, ncols, alpha, beta);                                \
    }

__kernel void gemm_cpu(__global const float* A, int offA, int strideA, int sAi, int sAk,
                       __global const float* packed, int packedStride,
                       __global float* C, int offC, int strideC, int ldc,
                       int M, int N, int K, float alpha, float beta)
{
    const int i0 = get_global_id(0) * GEMM_CPU_TM;
    const int p = get_global_id(1);
    const int bat = get_global_id(2);
    const int j0 = p * GEMM_CPU_TN;
    if (i0 >= M || j0 >= N)   // tolerate a global size rounded up to a multiple of the local size
        return;

    __global const float* a = A + offA + bat * strideA + i0 * sAi;
    // A panel is K rows of TN floats, zero-padded past N: always the contiguous path.
    __global const float* bp = packed + bat * packedStride + p * K * GEMM_CPU_TN;
    __global float* c = C + offC + bat * strideC + i0 * ldc + j0;
    const int ncols = min(N - j0, GEMM_CPU_TN);

    GEMM_CPU_ROWS(0, bp, GEMM_CPU_TN, 1)
}

// Optional: the same tiles reading B in place, for when packing does not pay (small M with a B
// that is used once). Fast only for untransposed B (sBn == 1), where interior blocks load rows
// of B directly; the last partial column block and any other B layout gather element-wise.
__kernel void gemm_cpu_nopack(__global const float* A, int offA, int strideA, int sAi, int sAk,
                              __global const float* B, int offB, int strideB, int sBk, int sBn,
                              __global float* C, int offC, int strideC, int ldc,
                              int M, int N, int K, float alpha, float beta)
{
    const int i0 = get_global_id(0) * GEMM_CPU_TM;
    const int p = get_global_id(1);
    const int bat = get_global_id(2);
    const int j0 = p * GEMM_CPU_TN;
    if (i0 >= M || j0 >= N)
        return;

    __global const float* a = A + offA + bat * strideA + i0 * sAi;
    __global const float* b = B + offB + bat * strideB + j0 * sBn;
    __global float* c = C + offC + bat * strideC + i0 * ldc + j0;
    const int ncols = min(N - j0, GEMM_CPU_TN);

    if (sBn == 1 && ncols == GEMM_CPU_TN) {
        GEMM_CPU_ROWS(0, b, sBk, 1)
    } else {
        GEMM_CPU_ROWS(1, b, sBk, sBn)
    }
}

// ---------------------------------------------------------------------------------------------
// GPU shape
// ---------------------------------------------------------------------------------------------

#define GPU_RTSM (GEMM_GPU_TSM / GEMM_GPU_WPTM)   // work-items along M in a work-group
#define GPU_RTSN (GEMM_GPU_TSN / GEMM_GPU_WPTN)   // work-items along N
#define GPU_WGS  (GPU_RTSM * GPU_RTSN)
#define GPU_NV   (GEMM_GPU_WPTN / GEMM_GPU_VWN)   // vectors per row of a work-item's tile

#define GEMM_CAT_(a, b) a##b
#define GEMM_CAT(a, b) GEMM_CAT_(a, b)
#if GEMM_GPU_VWN == 1
typedef float gpu_vec;
#define GPU_VLOAD(p) (*(p))
#define GPU_VSTORE(v, p) (*(p) = (v))
#else
typedef GEMM_CAT(float, GEMM_GPU_VWN) gpu_vec;
#define GPU_VLOAD(p) GEMM_CAT(vload, GEMM_GPU_VWN)(0, p)
#define GPU_VSTORE(v, p) GEMM_CAT(vstore, GEMM_GPU_VWN)(v, 0, p)
#endif

__kernel __attribute__((reqd_work_group_size(GPU_RTSN, GPU_RTSM, 1)))
void gemm_gpu(__global const float* A, int offA, int strideA, int sAi, int sAk,
              __global const float* B, int offB, int strideB, int sBk, int sBn,
              __global float* C, int offC, int strideC, int ldc,
              int M, int N, int K, float alpha, float beta)
{
    const int tidn = get_local_id(0);
    const int tidm = get_local_id(1);
    const int tid = tidm * GPU_RTSN + tidn;
    const int i0 = get_group_id(1) * GEMM_GPU_TSM;
    const int j0 = get_group_id(0) * GEMM_GPU_TSN;
    const int bat = get_global_id(2);

    __global const float* Ab = A + offA + bat * strideA;
    __global const float* Bb = B + offB + bat * strideB;

    // k-major tiles: the compute loop broadcasts Asub[kk][row] and reads Bsub[kk][...] as vectors.
    __local float Asub[GEMM_GPU_TSK][GEMM_GPU_TSM + GEMM_GPU_PAD];
    __local float Bsub[GEMM_GPU_TSK][GEMM_GPU_TSN];

    gpu_vec acc[GEMM_GPU_WPTM][GPU_NV];
    #pragma unroll
    for (int wm = 0; wm < GEMM_GPU_WPTM; ++wm)
        #pragma unroll
        for (int w = 0; w < GPU_NV; ++w)
            acc[wm][w] = (gpu_vec)(0.0f);

    // Which index is contiguous in memory decides how the flat load index is split, so that
    // neighbouring work-items read neighbouring addresses (coalescing).
    const bool aAlongK = (sAk == 1);
    const bool bAlongN = (sBn == 1);
    const bool fullMN = (i0 + GEMM_GPU_TSM <= M) && (j0 + GEMM_GPU_TSN <= N);

    for (int kt = 0; kt < K; kt += GEMM_GPU_TSK) {
        // Interior tiles (uniform branch) load without bounds checks and, for the untransposed
        // layouts, with vector loads; this cut the load phase ~3x on PoCL.
        const bool inside = fullMN && (kt + GEMM_GPU_TSK <= K);

        if (inside && aAlongK) {
            for (int l = tid; l < GEMM_GPU_TSM * GEMM_GPU_TSK / 4; l += GPU_WGS) {
                const int r = l / (GEMM_GPU_TSK / 4), kk = 4 * (l % (GEMM_GPU_TSK / 4));
                const float4 v = vload4(0, Ab + (i0 + r) * sAi + kt + kk);
                Asub[kk][r] = v.s0;
                Asub[kk + 1][r] = v.s1;
                Asub[kk + 2][r] = v.s2;
                Asub[kk + 3][r] = v.s3;
            }
        } else if (inside) {
            for (int l = tid; l < GEMM_GPU_TSM * GEMM_GPU_TSK; l += GPU_WGS) {
                const int r = l % GEMM_GPU_TSM, kk = l / GEMM_GPU_TSM;
                Asub[kk][r] = Ab[(i0 + r) * sAi + (kt + kk) * sAk];
            }
        } else {
            for (int l = tid; l < GEMM_GPU_TSM * GEMM_GPU_TSK; l += GPU_WGS) {
                const int r = aAlongK ? l / GEMM_GPU_TSK : l % GEMM_GPU_TSM;
                const int kk = aAlongK ? l % GEMM_GPU_TSK : l / GEMM_GPU_TSM;
                const int i = i0 + r, k = kt + kk;
                Asub[kk][r] = (i < M && k < K) ? Ab[i * sAi + k * sAk] : 0.0f;
            }
        }

        if (inside && bAlongN) {
            for (int l = tid; l < GEMM_GPU_TSN * GEMM_GPU_TSK / GEMM_GPU_VWN; l += GPU_WGS) {
                const int c = GEMM_GPU_VWN * (l % (GEMM_GPU_TSN / GEMM_GPU_VWN));
                const int kk = l / (GEMM_GPU_TSN / GEMM_GPU_VWN);
                GPU_VSTORE(GPU_VLOAD(Bb + (kt + kk) * sBk + j0 + c), &Bsub[kk][c]);
            }
        } else if (inside) {
            for (int l = tid; l < GEMM_GPU_TSN * GEMM_GPU_TSK; l += GPU_WGS) {
                const int c = l / GEMM_GPU_TSK, kk = l % GEMM_GPU_TSK;
                Bsub[kk][c] = Bb[(kt + kk) * sBk + (j0 + c) * sBn];
            }
        } else {
            for (int l = tid; l < GEMM_GPU_TSN * GEMM_GPU_TSK; l += GPU_WGS) {
                const int c = bAlongN ? l % GEMM_GPU_TSN : l / GEMM_GPU_TSK;
                const int kk = bAlongN ? l / GEMM_GPU_TSN : l % GEMM_GPU_TSK;
                const int j = j0 + c, k = kt + kk;
                Bsub[kk][c] = (j < N && k < K) ? Bb[k * sBk + j * sBn] : 0.0f;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        for (int kk = 0; kk < GEMM_GPU_TSK; ++kk) {
            // Rows are strided by RTSM (tidm + wm*RTSM) and column vectors by RTSN, so the
            // work-items of a wavefront read distinct banks / consecutive vectors.
            gpu_vec bv[GPU_NV];
            #pragma unroll
            for (int w = 0; w < GPU_NV; ++w)
                bv[w] = GPU_VLOAD(&Bsub[kk][(w * GPU_RTSN + tidn) * GEMM_GPU_VWN]);
            #pragma unroll
            for (int wm = 0; wm < GEMM_GPU_WPTM; ++wm) {
                const float av = Asub[kk][tidm + wm * GPU_RTSM];
                #pragma unroll
                for (int w = 0; w < GPU_NV; ++w)
                    acc[wm][w] = GEMM_MAD(av, bv[w], acc[wm][w]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    __global float* Cb = C + offC + bat * strideC;
    #pragma unroll
    for (int wm = 0; wm < GEMM_GPU_WPTM; ++wm) {
        const int i = i0 + tidm + wm * GPU_RTSM;
        if (i >= M)
            break;
        #pragma unroll
        for (int w = 0; w < GPU_NV; ++w) {
            const int j = j0 + (w * GPU_RTSN + tidn) * GEMM_GPU_VWN;
            __global float* c = Cb + i * ldc + j;
            gpu_vec v = alpha * acc[wm][w];
            if (j + GEMM_GPU_VWN <= N) {
                if (beta != 0.0f)
                    v = GEMM_MAD(beta, GPU_VLOAD(c), v);
                GPU_VSTORE(v, c);
            } else if (j < N) {
                float tmp[GEMM_GPU_VWN];
                GPU_VSTORE(v, tmp);
                for (int e = 0; j + e < N; ++e)
                    c[e] = beta != 0.0f ? GEMM_MAD(beta, c[e], tmp[e]) : tmp[e];
            }
        }
    }
}
