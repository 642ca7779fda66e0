/// Bahdanau (additive) attention: `score(s_t, h_j) = v^T tanh(W1 s_t + W2 h_j)`, weights the
/// softmax of the scores over source positions, context the weighted sum of the values.
///
/// Names follow the PyTorch seq2seq tutorial's `BahdanauAttention`: `Wa` (`W1`, on the query),
/// `Ua` (`W2`, on the keys), `Va` (`v`, a `Linear(A, 1)` whose bias shifts every score equally
/// and so never changes the weights). Keys: `Wa.weight` `[A, Dq]`, `Wa.bias`, `Ua.weight`
/// `[A, Dk]`, `Ua.bias`, `Va.weight` `[1, A]`, `Va.bias`. Shapes and masks: see the call.
public final class AdditiveAttention: Module {
    public let querySize: Int
    public let keySize: Int
    public let wa: Linear
    public let ua: Linear
    public let va: Linear

    /// - Parameters:
    ///   - querySize: Dq, the decoder state's features.
    ///   - keySize: Dk, the encoder states' features; nil is `querySize`.
    ///   - attentionSize: A, the hidden width of the score; nil is `querySize`.
    public init(querySize: Int, keySize: Int? = nil, attentionSize: Int? = nil, device: Device = .cpu) throws {
        let keySize = keySize ?? querySize, attentionSize = attentionSize ?? querySize
        self.querySize = querySize
        self.keySize = keySize
        wa = try Linear(inputSize: querySize, outputSize: attentionSize, device: device)
        ua = try Linear(inputSize: keySize, outputSize: attentionSize, device: device)
        va = try Linear(inputSize: attentionSize, outputSize: 1, device: device)
    }

    override public var members: [(key: String, member: ModuleMember)] {
        [("Wa", .module(wa)), ("Ua", .module(ua)), ("Va", .module(va))]
    }

    /// - Parameters:
    ///   - query: `[B, Tq, Dq]`.
    ///   - keys: `[B, Ts, Dk]`.
    ///   - values: `[B, Ts, Dv]`; nil uses the keys (as the tutorial does).
    ///   - keyPaddingMask: `[B, Ts]`, nonzero = ignore that source position.
    /// - Returns: `context` `[B, Tq, Dv]`, `weights` `[B, Tq, Ts]` (zeros for a query with every
    ///   source position masked).
    public func callAsFunction(
        _ query: Tensor, keys: Tensor, values: Tensor? = nil, keyPaddingMask: Tensor? = nil
    ) throws -> (context: Tensor, weights: Tensor) {
        try requireDevice(of: query, argument: "query")
        let alignment = try Alignment(
            query: query, keys: keys, values: values, keyPaddingMask: keyPaddingMask, queryFeatures: querySize, keyFeatures: keySize)
        let hidden = try alignment.pairwiseTanh(wa(query), ua(keys))
        let scores = try va(hidden).reshaped([alignment.batch, alignment.queryLength, alignment.sourceLength])
        return try alignment.attend(scores: scores)
    }
}
