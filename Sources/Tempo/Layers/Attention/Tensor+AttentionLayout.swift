/// Layout helpers the attention layers share. TempoCompute has no broadcasting elementwise op and
/// no general axis permutation, so these compose the ops it has (last-two-axes transpose, GEMM,
/// elementwise) instead of adding kernels: each is a copy or a K = 1 GEMM, small next to the
/// projections around them.
extension Tensor {
    /// `[B, S, h*d]` (`batchFirst`) or `[S, B, h*d]` split into heads as `[B, h, S, d]`, the
    /// layout of the attention op.
    ///
    /// Two transposes: `[B, S, E]` -> `[B, E, S]` is `[B, h, d, S]`, whose last two axes swap to
    /// `[B, h, S, d]`; sequence-major input viewed as `[S, B*E]` transposes to `[B*E, S]`, the
    /// same `[B, h, d, S]`.
    func splittingHeads(_ heads: Int, batchFirst: Bool) throws -> Tensor {
        let (length, batch, width) = batchFirst ? (shape[1], shape[0], shape[2]) : (shape[0], shape[1], shape[2])
        let source = batchFirst ? self : try reshaped([length, batch * width])
        return try source.matrixTransposed().reshaped([batch, heads, width / heads, length]).matrixTransposed()
    }

    /// The inverse of ``splittingHeads(_:batchFirst:)``: `[B, h, S, d]` joined to `[B, S, h*d]`
    /// (`batchFirst`) or `[S, B, h*d]`, head `j` in features `j*d ..< (j+1)*d` as PyTorch concatenates them.
    func mergingHeads(batchFirst: Bool) throws -> Tensor {
        let (batch, heads, length, width) = (shape[0], shape[1], shape[2], shape[3])
        let byFeature = try matrixTransposed()  // [B, h, d, S] = [B, E, S]
        if batchFirst { return try byFeature.reshaped([batch, heads * width, length]).matrixTransposed() }
        return try byFeature.reshaped([batch * heads * width, length]).matrixTransposed().reshaped([length, batch, heads * width])
    }

    /// `self` `[P, 1, N]` repeated `count` times along the middle axis, `[P, count, N]`, plus
    /// `adding` when given: a K = 1 GEMM of a column of ones against each row, which is how this
    /// library broadcasts without a broadcasting op.
    func repeatingRows(_ count: Int, adding accumulator: Tensor? = nil) throws -> Tensor {
        let ones = try Tensor(shape: [count, 1], repeating: 1, device: device)
        return try Tensor.gemm(ones, self, beta: accumulator == nil ? 0 : 1, c: accumulator)
    }

    /// `1 - self` for a 0/1 mask: turns PyTorch's "true = ignore" masks into the attention op's
    /// "nonzero = attend".
    func flippingMask() throws -> Tensor {
        try Tensor(shape: shape, repeating: 1, device: device).adding(scaled(by: -1))
    }

    /// The mean over axis 1 of `[B, h, ...]`, as `[B, ...]`: a `[1, h]` row of `1/h` times each
    /// batch element's `[h, rest]` matrix.
    func averagingAxis1() throws -> Tensor {
        let (batch, count) = (shape[0], shape[1])
        let rest = Array(shape.dropFirst(2))
        let weights = try Tensor(shape: [1, count], repeating: 1 / Float(count), device: device)
        return try weights.matmul(reshaped([batch, count, rest.reduce(1, *)])).reshaped([batch] + rest)
    }
}
