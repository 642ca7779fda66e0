/// Luong (multiplicative) attention with the paper's three scores, named as in the PyTorch
/// chatbot tutorial's `Attn` module:
/// - `dot`: `score(s_t, h_j) = s_t · h_j` (`Dq == Dk`); no parameters.
/// - `general`: `s_t · (W h_j + b)`; `attn.weight` `[Dq, Dk]`, `attn.bias` `[Dq]`.
/// - `concat`: `v · tanh(W [s_t; h_j] + b)`; `attn.weight` `[A, Dq + Dk]`, `attn.bias` `[A]`, `v` `[A]`.
///
/// Weights are the softmax of the scores over source positions, the context their weighted sum
/// of the values. Shapes and masks: see the call.
public final class LuongAttention: Module {
    public enum Score: Sendable {
        case dot
        case general
        case concat
    }

    public let score: Score
    public let querySize: Int
    public let keySize: Int
    /// `general` and `concat` only.
    public let attn: Linear?
    /// `concat` only: `[A]`.
    public let v: Parameter?

    /// - Parameters:
    ///   - querySize: Dq, the decoder state's features.
    ///   - keySize: Dk, the encoder states' features; nil is `querySize`.
    ///   - attentionSize: A, the hidden width of the `concat` score; nil is `querySize`.
    /// - Throws: ``TempoError/invalidArgument(argument:expected:actual:)`` naming `keySize` when
    ///   `dot` is asked for with `Dk != Dq`.
    public init(_ score: Score, querySize: Int, keySize: Int? = nil, attentionSize: Int? = nil, device: Device = .cpu) throws {
        let keySize = keySize ?? querySize, attentionSize = attentionSize ?? querySize
        if score == .dot, keySize != querySize {
            throw TempoError.invalidArgument(
                argument: "keySize", expected: "querySize = \(querySize) for the dot score", actual: "\(keySize)")
        }
        self.score = score
        self.querySize = querySize
        self.keySize = keySize
        switch score {
        case .dot:
            attn = nil
            v = nil
        case .general:
            attn = try Linear(inputSize: keySize, outputSize: querySize, device: device)
            v = nil
        case .concat:
            attn = try Linear(inputSize: querySize + keySize, outputSize: attentionSize, device: device)
            v = Parameter(try Initializer.pytorchLinearBias(fanIn: attentionSize).tensor([attentionSize], device: device))
        }
    }

    override public var members: [(key: String, member: ModuleMember)] {
        (attn.map { [("attn", .module($0))] } ?? []) + (v.map { [("v", .parameter($0))] } ?? [])
    }

    /// - Parameters:
    ///   - query: `[B, Tq, Dq]`.
    ///   - keys: `[B, Ts, Dk]`.
    ///   - values: `[B, Ts, Dv]`; nil uses the keys (as Luong's encoder states are both).
    ///   - keyPaddingMask: `[B, Ts]`, nonzero = ignore that source position.
    /// - Returns: `context` `[B, Tq, Dv]`, `weights` `[B, Tq, Ts]` (zeros for a query with every
    ///   source position masked).
    public func callAsFunction(
        _ query: Tensor, keys: Tensor, values: Tensor? = nil, keyPaddingMask: Tensor? = nil
    ) throws -> (context: Tensor, weights: Tensor) {
        // The dot score has no parameters, hence no device of its own to check against.
        if attn != nil { try requireDevice(of: query, argument: "query") }
        let alignment = try Alignment(
            query: query, keys: keys, values: values, keyPaddingMask: keyPaddingMask, queryFeatures: querySize, keyFeatures: keySize)
        guard let attn, score != .dot else { return try alignment.attend(query: query, keys: keys, scale: 1) }
        guard let v else { return try alignment.attend(query: query, keys: attn(keys), scale: 1) }
        // W [s; h] + b = W_s s + (W_h h + b): the concatenation's weight split by columns, so the
        // [Tq x Ts] pairs are summed once rather than concatenated.
        let queryPart = try query.reshaped([-1, querySize])
            .matmul(attn.weight.value.slice(axis: 1, range: 0..<querySize), transposeOther: true)
            .reshaped([alignment.batch, alignment.queryLength, -1])
        var keyPart = try keys.reshaped([-1, keySize])
            .matmul(attn.weight.value.slice(axis: 1, range: querySize..<querySize + keySize), transposeOther: true)
        if let bias = attn.bias { keyPart = try keyPart.addingBias(bias.value) }
        let hidden = try alignment.pairwiseTanh(queryPart, keyPart.reshaped([alignment.batch, alignment.sourceLength, -1]))
        let scores = try hidden.reshaped([-1, v.shape[0]]).matmul(v.value.reshaped([-1, 1]))
        return try alignment.attend(scores: scores.reshaped([alignment.batch, alignment.queryLength, alignment.sourceLength]))
    }
}
