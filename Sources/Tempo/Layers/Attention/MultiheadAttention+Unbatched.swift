extension MultiheadAttention {
    /// PyTorch's unbatched call: `query` `[Sq, E]`, `key` `[Sk, kdim]`, `value` `[Sk, vdim]`,
    /// `keyPaddingMask` `[Sk]`, `attentionMask` `[Sq, Sk]` or `[h, Sq, Sk]`; returns `[Sq, E]` and
    /// weights `[Sq, Sk]` (or `[h, Sq, Sk]` per head). Runs as a batch of one.
    func unbatched(
        _ query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor?, needWeights: Bool,
        attentionMask: AttentionMask?, averageAttentionWeights: Bool, isCausal: Bool
    ) throws -> (output: Tensor, weights: Tensor?) {
        for (name, tensor) in [("key", key), ("value", value)] where tensor.rank != 2 {
            throw TempoError.shapeMismatch(argument: name, expected: "[S, features] (unbatched, as the query)", actual: tensor.shape)
        }
        if let keyPaddingMask, keyPaddingMask.rank != 1 {
            throw TempoError.shapeMismatch(argument: "keyPaddingMask", expected: "[Sk] (unbatched, as the query)", actual: keyPaddingMask.shape)
        }
        func batched(_ x: Tensor) throws -> Tensor {
            try x.reshaped(batchFirst ? [1] + x.shape : [x.shape[0], 1] + x.shape.dropFirst())
        }
        let result = try self(
            batched(query), key: batched(key), value: batched(value), keyPaddingMask: keyPaddingMask?.reshaped([1, -1]),
            needWeights: needWeights, attentionMask: attentionMask, averageAttentionWeights: averageAttentionWeights,
            isCausal: isCausal)
        return (try result.output.reshaped(query.shape), try result.weights.map { try $0.reshaped(Array($0.shape.dropFirst())) })
    }
}
