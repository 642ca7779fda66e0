extension Tensor {
    /// The weight of a weight-normalised layer, as PyTorch's `torch.nn.utils.weight_norm(dim=0)`
    /// computes it (`torch._weight_norm(v, g, 0)`): each row `o` of `self` (the direction `v`)
    /// scaled to the length `g[o]`,
    /// `w[o, ...] = v[o, ...] * (g[o] / ||v[o, ...]||_2)`.
    ///
    /// A row of zeros has no direction: its norm is 0, so, as in PyTorch, every element of that
    /// row is NaN (`0 * (g / 0)`), whatever `g[o]` is. Tempo does not add an epsilon because a
    /// PyTorch checkpoint would then give other numbers than PyTorch does; a zero row in a
    /// trained weight is a broken checkpoint, and NaN says so where the number is used.
    ///
    /// - Parameters:
    ///   - self: `v`, `[Cout, ...]` with at least one axis; a row is everything after axis 0
    ///     (`[Cout, Cin, K]` for a `Conv1d` weight, `[Out, In]` for a `Linear` weight).
    ///   - g: `[Cout, 1, ...]`: `Cout` values, shaped `[Cout]` followed by any number of 1s
    ///     (PyTorch stores `weight_g` of a conv weight as `[Cout, 1, 1]`).
    /// - Returns: `w`, shaped as `self`.
    /// - Throws: ``TempoError/shapeMismatch(argument:expected:actual:)`` naming `v` (a scalar) or
    ///   `g`; ``TempoError/deviceMismatch(argument:expected:actual:)`` naming `g`.
    public func weightNorm(g: Tensor) throws -> Tensor {
        guard rank >= 1 else {
            throw TempoError.shapeMismatch(argument: "v", expected: "[Cout, ...] with at least 1 axis", actual: shape)
        }
        try requireSameDevice(g, argument: "g")
        let rows = shape[0]
        guard g.shape.first == rows, g.shape.dropFirst().allSatisfy({ $0 == 1 }) else {
            throw TempoError.shapeMismatch(
                argument: "g", expected: "[Cout] = [\(rows)], optionally followed by 1s (e.g. [\(rows), 1, 1])",
                actual: g.shape)
        }
        let (result, backend) = try output(shape)
        if count > 0 {
            try backend.weightNorm(buffer, g: g.buffer, into: result.buffer, rows: rows, columns: count / rows)
        }
        return result
    }

    /// Whether `other` is this tensor's storage, not merely equal values: what a cache of
    /// something computed from a tensor can key on, since tensors are immutable and their storage
    /// lives as long as the cache holds the tensor.
    package func isSameStorage(as other: Tensor) -> Bool {
        buffer === other.buffer
    }
}
