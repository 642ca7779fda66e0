extension Tensor {
    /// Layer normalisation over the last axis, as PyTorch's `LayerNorm`: each row of `[..., N]` is
    /// shifted to mean 0 and scaled to (biased) variance 1, then multiplied by `gamma` `[N]` and
    /// shifted by `beta` `[N]` when given.
    public func layerNorm(gamma: Tensor? = nil, beta: Tensor? = nil, epsilon: Float = 1e-5) throws -> Tensor {
        try requireRank(atLeast: 1, argument: "self")
        let columns = shape[rank - 1]
        for (name, parameter) in [("gamma", gamma), ("beta", beta)] {
            guard let parameter else { continue }
            try requireSameDevice(parameter, argument: name)
            guard parameter.shape == [columns] else {
                throw TempoError.shapeMismatch(argument: name, expected: "[\(columns)] (the last axis of self)", actual: parameter.shape)
            }
        }
        guard epsilon >= 0, epsilon.isFinite else {
            throw TempoError.invalidArgument(argument: "epsilon", expected: "a finite value >= 0", actual: "\(epsilon)")
        }
        let (result, backend) = try output(shape)
        if count > 0 {
            try backend.layerNorm(
                buffer, gamma: gamma?.buffer, beta: beta?.buffer, into: result.buffer,
                rows: count / columns, columns: columns, epsilon: epsilon)
        }
        return result
    }
}
