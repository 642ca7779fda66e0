extension Tensor {
    /// The matrix product over the last two axes, batched over the leading ones.
    ///
    /// `self` is `[..., M, K]` (`[..., K, M]` when `transposeSelf`), `other` is `[..., K, N]`
    /// (`[..., N, K]` when `transposeOther`); the result is `[..., M, N]`. The leading (batch) axes
    /// must be equal, or one side may be a plain matrix shared by the whole batch, as a weight is.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) throws -> Tensor {
        try Tensor.gemm(self, other, transposeA: transposeSelf, transposeB: transposeOther)
    }

    /// `alpha * op(a) * op(b) + beta * c`, batched over leading axes, as BLAS's `sgemm`.
    ///
    /// - Parameters:
    ///   - a: `[..., M, K]`, or `[..., K, M]` when `transposeA`.
    ///   - b: `[..., K, N]`, or `[..., N, K]` when `transposeB`. Either `a` or `b` may have no batch
    ///     axes; it is then shared by every batch element of the other.
    ///   - c: `[..., M, N]`, the accumulator scaled by `beta`; required when `beta != 0`.
    /// - Returns: `[..., M, N]`, a new tensor (`c` is not modified).
    public static func gemm(
        _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false,
        alpha: Float = 1, beta: Float = 0, c: Tensor? = nil
    ) throws -> Tensor {
        try a.requireRank(atLeast: 2, argument: "a")
        try b.requireRank(atLeast: 2, argument: "b")
        try a.requireSameDevice(b, argument: "b")

        let aBatch = Array(a.shape.dropLast(2)), bBatch = Array(b.shape.dropLast(2))
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let k = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let bRows = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        guard bRows == k else {
            let expected = transposeB ? "[..., N, \(k)] (transposed, K = \(k) from a)" : "[..., \(k), N] (K = \(k) from a)"
            throw TempoError.shapeMismatch(argument: "b", expected: expected, actual: b.shape)
        }
        guard aBatch == bBatch || aBatch.isEmpty || bBatch.isEmpty else {
            throw TempoError.shapeMismatch(
                argument: "b", expected: "batch axes \(TempoError.format(aBatch)) (as a) or none", actual: b.shape)
        }
        let batchShape = aBatch.isEmpty ? bBatch : aBatch
        let outputShape = batchShape + [m, n]
        if let c {
            try c.requireSameDevice(a, argument: "c")
            guard c.shape == outputShape else {
                throw TempoError.shapeMismatch(argument: "c", expected: TempoError.format(outputShape), actual: c.shape)
            }
        } else if beta != 0 {
            throw TempoError.invalidArgument(argument: "c", expected: "a tensor when beta != 0", actual: "nil")
        }

        let (result, backend) = try a.output(outputShape)
        let accumulate = c != nil && beta != 0
        if let c, accumulate { try backend.copy(c.buffer, to: result.buffer, count: c.count) }
        guard result.count > 0 else { return result }
        guard k > 0 else {
            // An empty sum: the product is zero, leaving beta * c.
            if accumulate { try backend.scale(result.buffer, by: beta, into: result.buffer, count: result.count) }
            else { try backend.fill(result.buffer, with: 0, count: result.count) }
            return result
        }

        var descriptor = GEMMDescriptor(
            batch: batchShape.reduce(1, *), m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
            alpha: alpha, beta: accumulate ? beta : 0)
        if aBatch.isEmpty { descriptor.strideA = 0 }
        if bBatch.isEmpty { descriptor.strideB = 0 }
        try backend.gemm(descriptor, a: a.buffer, b: b.buffer, c: result.buffer)
        return result
    }
}
