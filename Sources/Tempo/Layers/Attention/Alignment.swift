/// What the alignment-style attention layers (``AdditiveAttention``, ``LuongAttention``,
/// ``CosineAttention``) share: their shapes and their masked softmax.
///
/// Shapes, as a Keras or PyTorch seq2seq user passes them: `query` `[B, Tq, Dq]` (decoder states;
/// `Tq = 1` for one decoder step), `keys` `[B, Ts, Dk]` (encoder states), `values` `[B, Ts, Dv]`
/// (the keys when nil). They return `context` `[B, Tq, Dv]` and `weights` `[B, Tq, Ts]`.
/// `keyPaddingMask` `[B, Ts]`: nonzero = ignore that source position (PyTorch's
/// `key_padding_mask` convention, as in ``MultiheadAttention``). A query whose source positions
/// are all masked gets zero weights and a zero context (PyTorch would give NaN).
struct Alignment {
    var batch: Int
    var queryLength: Int
    var sourceLength: Int
    /// `[B, 1, 1, Ts]`, nonzero = attend: the attention op's `mask`.
    var attend: Tensor?
    var values: Tensor

    /// Checks the shapes; `queryFeatures`/`keyFeatures` are the layer's sizes.
    init(query: Tensor, keys: Tensor, values: Tensor?, keyPaddingMask: Tensor?, queryFeatures: Int, keyFeatures: Int) throws {
        for (name, tensor) in [("keys", keys), ("values", values), ("keyPaddingMask", keyPaddingMask)] {
            if let tensor, tensor.device != query.device {
                throw TempoError.deviceMismatch(argument: name, expected: query.device.id, actual: tensor.device.id)
            }
        }
        guard query.rank == 3, query.shape[2] == queryFeatures, query.shape[0] >= 1, query.shape[1] >= 1 else {
            throw TempoError.shapeMismatch(argument: "query", expected: "[B, Tq, \(queryFeatures)]", actual: query.shape)
        }
        let batch = query.shape[0]
        guard keys.rank == 3, keys.shape[0] == batch, keys.shape[1] >= 1, keys.shape[2] == keyFeatures else {
            throw TempoError.shapeMismatch(argument: "keys", expected: "[B, Ts, \(keyFeatures)] with B = \(batch) (the query's)", actual: keys.shape)
        }
        let sourceLength = keys.shape[1]
        let values = values ?? keys
        guard values.rank == 3, values.shape[0] == batch, values.shape[1] == sourceLength, values.shape[2] >= 1 else {
            throw TempoError.shapeMismatch(
                argument: "values", expected: "[B, Ts, Dv] with B = \(batch), Ts = \(sourceLength) (the keys')", actual: values.shape)
        }
        if let keyPaddingMask {
            guard keyPaddingMask.shape == [batch, sourceLength] else {
                throw TempoError.shapeMismatch(
                    argument: "keyPaddingMask", expected: "[B, Ts] = [\(batch), \(sourceLength)]", actual: keyPaddingMask.shape)
            }
            attend = try keyPaddingMask.flippingMask().reshaped([batch, 1, 1, sourceLength])
        }
        (self.batch, queryLength, self.sourceLength, self.values) = (batch, query.shape[1], sourceLength, values)
    }

    /// Weights from dot products: `softmax(scale * q · k)` over the unmasked source positions,
    /// with `q` `[B, Tq, D]` and `k` `[B, Ts, D]`, then the context.
    func attend(query: Tensor, keys: Tensor, scale: Float) throws -> (context: Tensor, weights: Tensor) {
        let features = query.shape[2]
        let probabilities = try query.reshaped([batch, 1, queryLength, features]).attentionProbabilities(
            key: keys.reshaped([batch, 1, sourceLength, features]), scale: scale, mask: attend)
        return try context(probabilities)
    }

    /// Weights from arbitrary scores `[B, Tq, Ts]`, then the context.
    ///
    /// The masked softmax is the attention op's: zero-width queries and keys make `Q Kᵀ` zero, so
    /// the scores, passed as the additive mask, are all there is; the op already masks keys and
    /// gives fully masked rows zeros, which a plain softmax would not.
    func attend(scores: Tensor) throws -> (context: Tensor, weights: Tensor) {
        let zeroQuery = try Tensor.zeros([batch, 1, queryLength, 1], device: scores.device)
        let zeroKeys = try Tensor.zeros([batch, 1, sourceLength, 1], device: scores.device)
        let probabilities = try zeroQuery.attentionProbabilities(
            key: zeroKeys, scale: 1, mask: attend, additiveMask: scores.reshaped([batch, 1, queryLength, sourceLength]))
        return try context(probabilities)
    }

    /// `tanh(q_i + k_j)` for every pair: `[B, Tq, Ts, A]` from `q` `[B, Tq, A]` and `k` `[B, Ts, A]`,
    /// the inside of Bahdanau's and Luong's concat score (materialised, as in the papers' code).
    func pairwiseTanh(_ q: Tensor, _ k: Tensor) throws -> Tensor {
        let width = q.shape[2]
        let keysPerQuery = try k.reshaped([batch, 1, sourceLength * width]).repeatingRows(queryLength)
        let sums = try q.reshaped([batch * queryLength, 1, width])
            .repeatingRows(sourceLength, adding: keysPerQuery.reshaped([batch * queryLength, sourceLength, width]))
        return try sums.tanh().reshaped([batch, queryLength, sourceLength, width])
    }

    private func context(_ probabilities: Tensor) throws -> (context: Tensor, weights: Tensor) {
        let weights = try probabilities.reshaped([batch, queryLength, sourceLength])
        return (try weights.matmul(values), weights)
    }
}
