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
// hold garbage (NaN). M, N, K are arbitrary >= 1.
//
// Two kernel shapes, chosen by the host per device type:
//
// 1. CPU shape (gemm_pack_b + gemm_cpu) for OpenCL CPU devices such as PoCL. PoCL runs a work-group
//    as a loop over work-items and spills every private value live across a barrier, so the fast
//    shape has no barriers and no local memory: one work-item owns a GEMM_CPU_TM x GEMM_CPU_TN tile
//    of C in float16 accumulators and runs the whole K loop (broadcast A, vector-load B, FMA).
//    B is first packed into column panels that are contiguous along K, which keeps the inner loop's
//    B loads sequential and aligned whatever ldb/transposition is (a power-of-two row stride
//    otherwise costs ~25% at 2048).
//
//    gemm_pack_b: packed[b*packedStride + (p*K + k)*TN + c] = B(k, p*TN + c), 0 for p*TN + c >= N,
//                 with TN = GEMM_CPU_TN and packedStride = ceil(N/TN) * K * TN.
//                 global = (ceil(N/TN), K, batch), local = NULL.
//    gemm_cpu:    global = (ceil(M/TM), ceil(N/TN), batch), local = NULL.
//                 `packed` must come from gemm_pack_b with the same TN, N and K (packedStride may be
//                 0 to broadcast one packed B over the batch).
//
// 2. GPU shape (gemm_gpu) for real GPUs, in the style of myGEMM / CLBlast's xgemm: a work-group
//    computes a TSM x TSN tile of C, each work-item WPTM x WPTN outputs in registers, and K advances
//    in TSK-deep slices staged through __local tiles between barriers. Out-of-range tile elements
//    are zero-filled, stores are guarded.
//                 local  = (TSN/WPTN, TSM/WPTM, 1)
//                 global = (ceil(N/TSN) * TSN/WPTN, ceil(M/TSM) * TSM/WPTM, batch)
//    Correct on PoCL too, but several times slower there than the CPU shape.

// ---------------------------------------------------------------------------------------------
// Tunables (override with -D). The CPU defaults are the best measured on PoCL 3.1 / AVX-512;
// the GPU defaults are conventional GPU settings (CLBlast's generic xgemm tile), not PoCL's.
// ---------------------------------------------------------------------------------------------

#ifndef GEMM_CPU_TM
#define GEMM_CPU_TM 4     // rows of C per work-item (CPU shape)
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
#ifndef GEMM_GPU_PAD
#define GEMM_GPU_PAD 1    // extra floats per local-tile row, against bank conflicts on transposed loads
#endif

#if (GEMM_CPU_TN % 16) != 0
#error "GEMM_CPU_TN must be a multiple of 16"
#endif
#if (GEMM_GPU_TSM % GEMM_GPU_WPTM) != 0 || (GEMM_GPU_TSN % GEMM_GPU_WPTN) != 0
#error "GEMM_GPU_WPTM / GEMM_GPU_WPTN must divide GEMM_GPU_TSM / GEMM_GPU_TSN"
#endif

#define CPU_VN (GEMM_CPU_TN / 16)   // float16 accumulators per row of the tile
#ifndef GEMM_CPU_FMA
#define GEMM_CPU_FMA(a, b, c) ((a) * (b) + (c))
#endif

// ---------------------------------------------------------------------------------------------
// CPU shape
// ---------------------------------------------------------------------------------------------

__kernel void gemm_pack_b(__global const float* B, int offB, int strideB, int sBk, int sBn,
                          int K, int N, __global float* packed, int packedStride)
{
    const int p = get_global_id(0);
    const int k = get_global_id(1);
    const int b = get_global_id(2);
    const int j0 = p * GEMM_CPU_TN;

    __global const float* src = B + offB + b * strideB + k * sBk;
    __global float* dst = packed + b * packedStride + (p * K + k) * GEMM_CPU_TN;

    if (sBn == 1 && j0 + GEMM_CPU_TN <= N) {
        // Untransposed B and a full panel: one contiguous row segment.
        #pragma unroll
        for (int v = 0; v < CPU_VN; ++v)
            vstore16(vload16(0, src + j0 + 16 * v), 0, dst + 16 * v);
    } else {
        for (int c = 0; c < GEMM_CPU_TN; ++c) {
            const int j = j0 + c;
            dst[c] = j < N ? src[j * sBn] : 0.0f;
        }
    }
}

__kernel void gemm_cpu(__global const float* A, int offA, int strideA, int sAi, int sAk,
                       __global const float* packed, int packedStride,
                       __global float* C, int offC, int strideC, int ldc,
                       int M, int N, int K, float alpha, float beta)
{
    const int i0 = get_global_id(0) * GEMM_CPU_TM;
    const int p = get_global_id(1);
    const int b = get_global_id(2);
    const int j0 = p * GEMM_CPU_TN;

    __global const float* Ab = A + offA + b * strideA;
    // Panels are TN floats wide and start at multiples of TN floats: float16-aligned.
    __global const float16* Bp =
        (__global const float16*)(packed + b * packedStride + p * K * GEMM_CPU_TN);

    // Rows past M re-read row M-1 (always in bounds); their results are never stored.
    // Row offsets stay fixed and one pointer walks K, so each A read is a single broadcast load
    // with [base + index] addressing (per-row index arithmetic in the loop costs ~30%).
    long aRow[GEMM_CPU_TM];
    #pragma unroll
    for (int r = 0; r < GEMM_CPU_TM; ++r)
        aRow[r] = (long)min(i0 + r, M - 1) * sAi;

    float16 acc[GEMM_CPU_TM][CPU_VN];
    #pragma unroll
    for (int r = 0; r < GEMM_CPU_TM; ++r)
        #pragma unroll
        for (int v = 0; v < CPU_VN; ++v)
            acc[r][v] = (float16)(0.0f);

    __global const float* ak = Ab;
    for (int k = 0; k < K; ++k, ak += sAk, Bp += CPU_VN) {
        float16 bv[CPU_VN];
        #pragma unroll
        for (int v = 0; v < CPU_VN; ++v)
            bv[v] = Bp[v];
        #pragma unroll
        for (int r = 0; r < GEMM_CPU_TM; ++r) {
            const float a = ak[aRow[r]];
            #pragma unroll
            for (int v = 0; v < CPU_VN; ++v)
                acc[r][v] = GEMM_CPU_FMA(a, bv[v], acc[r][v]);
        }
    }

    __global float* Cb = C + offC + b * strideC;
    #pragma unroll
    for (int r = 0; r < GEMM_CPU_TM; ++r) {
        const int i = i0 + r;
        if (i >= M)
            break;
        __global float* crow = Cb + i * ldc;
        #pragma unroll
        for (int v = 0; v < CPU_VN; ++v) {
            const int j = j0 + 16 * v;
            float16 out = alpha * acc[r][v];
            if (j + 16 <= N) {
                if (beta != 0.0f)
                    out = mad((float16)(beta), vload16(0, crow + j), out);
                vstore16(out, 0, crow + j);
            } else {
                // Right edge of C: element-wise through a private array, since OpenCL C has
                // no dynamic vector component index.
                float tmp[16];
                vstore16(out, 0, tmp);
                for (int c = 0; c < 16 && j + c < N; ++c)
                    crow[j + c] = beta != 0.0f ? mad(beta, crow[j + c], tmp[c]) : tmp[c];
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GPU shape
// ---------------------------------------------------------------------------------------------

#define GPU_RTSM (GEMM_GPU_TSM / GEMM_GPU_WPTM)   // work-items along M in a work-group
#define GPU_RTSN (GEMM_GPU_TSN / GEMM_GPU_WPTN)   // work-items along N
#define GPU_WGS  (GPU_RTSM * GPU_RTSN)

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
    const int b = get_global_id(2);

    __global const float* Ab = A + offA + b * strideA;
    __global const float* Bb = B + offB + b * strideB;

    // Tiles are stored k-major so the compute loop reads consecutive addresses across work-items.
    __local float Asub[GEMM_GPU_TSK][GEMM_GPU_TSM + GEMM_GPU_PAD];
    __local float Bsub[GEMM_GPU_TSK][GEMM_GPU_TSN + GEMM_GPU_PAD];

    float acc[GEMM_GPU_WPTM][GEMM_GPU_WPTN];
    #pragma unroll
    for (int wm = 0; wm < GEMM_GPU_WPTM; ++wm)
        #pragma unroll
        for (int wn = 0; wn < GEMM_GPU_WPTN; ++wn)
            acc[wm][wn] = 0.0f;

    // Map the flat load index so that neighbouring work-items touch neighbouring global
    // addresses (coalescing): along k when A's unit stride is k, along i otherwise; same for B.
    const bool aAlongK = (sAk == 1);
    const bool bAlongN = (sBn == 1);

    for (int kt = 0; kt < K; kt += GEMM_GPU_TSK) {
        for (int l = tid; l < GEMM_GPU_TSM * GEMM_GPU_TSK; l += GPU_WGS) {
            const int r = aAlongK ? l / GEMM_GPU_TSK : l % GEMM_GPU_TSM;
            const int kk = aAlongK ? l % GEMM_GPU_TSK : l / GEMM_GPU_TSM;
            const int i = i0 + r, k = kt + kk;
            Asub[kk][r] = (i < M && k < K) ? Ab[i * sAi + k * sAk] : 0.0f;
        }
        for (int l = tid; l < GEMM_GPU_TSN * GEMM_GPU_TSK; l += GPU_WGS) {
            const int c = bAlongN ? l % GEMM_GPU_TSN : l / GEMM_GPU_TSK;
            const int kk = bAlongN ? l / GEMM_GPU_TSN : l % GEMM_GPU_TSK;
            const int j = j0 + c, k = kt + kk;
            Bsub[kk][c] = (j < N && k < K) ? Bb[k * sBk + j * sBn] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        for (int kk = 0; kk < GEMM_GPU_TSK; ++kk) {
            // Work-items own strided rows/columns (tid + w*RT) so a wavefront's local reads
            // hit distinct banks.
            float breg[GEMM_GPU_WPTN];
            #pragma unroll
            for (int wn = 0; wn < GEMM_GPU_WPTN; ++wn)
                breg[wn] = Bsub[kk][tidn + wn * GPU_RTSN];
            #pragma unroll
            for (int wm = 0; wm < GEMM_GPU_WPTM; ++wm) {
                const float areg = Asub[kk][tidm + wm * GPU_RTSM];
                #pragma unroll
                for (int wn = 0; wn < GEMM_GPU_WPTN; ++wn)
                    acc[wm][wn] = mad(areg, breg[wn], acc[wm][wn]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    __global float* Cb = C + offC + b * strideC;
    #pragma unroll
    for (int wm = 0; wm < GEMM_GPU_WPTM; ++wm) {
        const int i = i0 + tidm + wm * GPU_RTSM;
        #pragma unroll
        for (int wn = 0; wn < GEMM_GPU_WPTN; ++wn) {
            const int j = j0 + tidn + wn * GPU_RTSN;
            if (i < M && j < N) {
                __global float* c = Cb + i * ldc + j;
                const float v = alpha * acc[wm][wn];
                *c = beta != 0.0f ? mad(beta, *c, v) : v;
            }
        }
    }
}
