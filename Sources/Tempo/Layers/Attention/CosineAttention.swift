/// Content-based attention by cosine similarity, as the Neural Turing Machine's content
/// addressing: `weights = softmax(sharpness * cos(q_t, k_j))` over source positions, context their
/// weighted sum of the values. No parameters.
///
/// A zero query or key has cosine 0 with everything (PyTorch's `cosine_similarity` clamps the
/// product of norms at 1e-8 instead; the two agree away from zero vectors). Shapes and masks:
/// see the call.
public final class CosineAttention: Module {
    /// β, the key strength: larger values sharpen the weights.
    public let sharpness: Float
    public let size: Int

    /// - Parameter size: D, the features of queries and keys.
    public init(size: Int, sharpness: Float = 1) throws {
        guard size >= 1 else { throw TempoError.invalidArgument(argument: "size", expected: "at least 1", actual: "\(size)") }
        guard sharpness.isFinite else {
            throw TempoError.invalidArgument(argument: "sharpness", expected: "a finite number", actual: "\(sharpness)")
        }
        self.size = size
        self.sharpness = sharpness
    }

    /// - Parameters:
    ///   - query: `[B, Tq, D]`.
    ///   - keys: `[B, Ts, D]`.
    ///   - values: `[B, Ts, Dv]`; nil uses the keys (the memory rows, in an NTM read).
    ///   - keyPaddingMask: `[B, Ts]`, nonzero = ignore that source position.
    /// - Returns: `context` `[B, Tq, Dv]`, `weights` `[B, Tq, Ts]` (zeros for a query with every
    ///   source position masked).
    public func callAsFunction(
        _ query: Tensor, keys: Tensor, values: Tensor? = nil, keyPaddingMask: Tensor? = nil
    ) throws -> (context: Tensor, weights: Tensor) {
        let alignment = try Alignment(
            query: query, keys: keys, values: values, keyPaddingMask: keyPaddingMask, queryFeatures: size, keyFeatures: size)
        return try alignment.attend(query: query.unitRows(), keys: keys.unitRows(), scale: sharpness)
    }
}

extension Tensor {
    /// Each row of `[..., D]` divided by its Euclidean norm (zero rows stay zero).
    ///
    /// There is no norm op, but layer norm of `[x, -x]` is one: that row has mean 0 and variance
    /// `|x|² / D`, so it normalises to `[x, -x] * sqrt(D) / |x|`; the first half over `sqrt(D)`
    /// is `x / |x|`. The epsilon (in units of the variance) keeps a zero row at zero.
    fileprivate func unitRows() throws -> Tensor {
        let width = shape[rank - 1]
        let mirrored = try Tensor.concatenate([self, scaled(by: -1)], axis: -1)
        let normalized = try mirrored.reshaped([-1, 2 * width]).layerNorm(epsilon: 1e-12)
        return try normalized.slice(axis: 1, range: 0..<width).scaled(by: 1 / Float(width).squareRoot()).reshaped(shape)
    }
}
