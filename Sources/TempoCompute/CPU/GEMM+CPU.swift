import CBLAS

extension CPUBackend {
    func gemm(_ d: GEMMDescriptor, a: any DeviceBuffer, b: any DeviceBuffer, c: any DeviceBuffer) throws {
        let a = pointer(a), b = pointer(b), c = pointer(c)
        counters.recordLaunches(d.batch)
        // One sgemm per batch element: OpenBLAS threads each product itself, and the batched
        // shapes Tempo runs (heads, sequence steps) are large enough for that to be the better split.
        for index in 0..<d.batch {
            cblas_sgemm(
                CblasRowMajor,
                d.transposeA ? CblasTrans : CblasNoTrans,
                d.transposeB ? CblasTrans : CblasNoTrans,
                Int32(d.m), Int32(d.n), Int32(d.k),
                d.alpha,
                a + d.offsetA + index * d.strideA, Int32(d.lda),
                b + d.offsetB + index * d.strideB, Int32(d.ldb),
                d.beta,
                c + d.offsetC + index * d.strideC, Int32(d.ldc))
        }
    }
}
