/// Multi-head attention, as PyTorch's `nn.MultiheadAttention`:
/// `out = concat(head_1, ..., head_h) W_o^T + b_o` with
/// `head_i = softmax((q W_qi^T + b_qi)(k W_ki^T + b_ki)^T / sqrt(d) + masks)(v W_vi^T + b_vi)`,
/// `d = embedDimension / heads`.
///
/// Parameters (PyTorch `state_dict` keys, in its order): `in_proj_weight` `[3E, E]` (rows
/// `W_q; W_k; W_v`) when keys and values have `E` features, else `q_proj_weight` `[E, E]`,
/// `k_proj_weight` `[E, kdim]` and `v_proj_weight` `[E, vdim]`; then `in_proj_bias` `[3E]`,
/// `out_proj.weight` `[E, E]` and `out_proj.bias` `[E]` (the biases only when `bias`).
/// Initialised as PyTorch does: Xavier-uniform projections, zero biases, `out_proj.weight` as
/// `nn.Linear`'s.
///
/// Masks follow PyTorch: `keyPaddingMask` `[B, Sk]` nonzero = ignore that key; `attentionMask`
/// an ``AttentionMask``. One difference: a query whose keys are all masked out gets a zero output
/// (and zero weights) where PyTorch gives NaN.
public final class MultiheadAttention: Module {
    /// E: the features of queries and of the output.
    public let embedDimension: Int
    public let heads: Int
    /// The features of the keys (PyTorch's `kdim`).
    public let keyDimension: Int
    /// The features of the values (PyTorch's `vdim`).
    public let valueDimension: Int
    /// The dropout probability on the attention weights in training mode.
    public let dropout: Float
    /// Whether inputs and output are `[B, S, E]` (else `[S, B, E]`).
    public let batchFirst: Bool
    /// `[3E, E]`, when `keyDimension == valueDimension == embedDimension`.
    public let inProjectionWeight: Parameter?
    /// `[E, E]`, `[E, kdim]`, `[E, vdim]`, when the key or value dimension differs from E.
    public let queryProjectionWeight: Parameter?
    public let keyProjectionWeight: Parameter?
    public let valueProjectionWeight: Parameter?
    /// `[3E]`: `b_q, b_k, b_v`.
    public let inProjectionBias: Parameter?
    public let outProjection: Linear
    /// `[inProjectionWeight]`, or the query, key and value projection weights.
    private let projectionWeights: [Parameter]
    private let dropoutSeed: UInt64
    private var dropoutCalls: UInt32 = 0

    /// The features per head, `embedDimension / heads`.
    public var headDimension: Int { embedDimension / heads }

    /// - Parameters:
    ///   - keyDimension: PyTorch's `kdim`; nil is `embedDimension`.
    ///   - valueDimension: PyTorch's `vdim`; nil is `embedDimension`.
    /// - Throws: ``TempoError/invalidArgument(argument:expected:actual:)`` naming `heads` when it
    ///   does not divide `embedDimension`, or a size below 1, or a dropout outside 0...1.
    public init(
        embedDimension: Int, heads: Int, dropout: Float = 0, bias: Bool = true, keyDimension: Int? = nil,
        valueDimension: Int? = nil, batchFirst: Bool = false, device: Device = .cpu
    ) throws {
        let keyDimension = keyDimension ?? embedDimension, valueDimension = valueDimension ?? embedDimension
        for (name, size) in [("embedDimension", embedDimension), ("heads", heads), ("keyDimension", keyDimension),
                             ("valueDimension", valueDimension)] where size < 1 {
            throw TempoError.invalidArgument(argument: name, expected: "at least 1", actual: "\(size)")
        }
        guard embedDimension % heads == 0 else {
            throw TempoError.invalidArgument(
                argument: "heads", expected: "a divisor of embedDimension = \(embedDimension)", actual: "\(heads)")
        }
        guard (0...1).contains(dropout) else {
            throw TempoError.invalidArgument(argument: "dropout", expected: "a value in 0...1", actual: "\(dropout)")
        }
        self.embedDimension = embedDimension
        self.heads = heads
        self.keyDimension = keyDimension
        self.valueDimension = valueDimension
        self.dropout = dropout
        self.batchFirst = batchFirst
        func xavier(_ shape: [Int]) throws -> Parameter {
            Parameter(try Initializer.xavierUniform().tensor(shape, device: device))
        }
        let packed = keyDimension == embedDimension && valueDimension == embedDimension
        inProjectionWeight = packed ? try xavier([3 * embedDimension, embedDimension]) : nil
        queryProjectionWeight = packed ? nil : try xavier([embedDimension, embedDimension])
        keyProjectionWeight = packed ? nil : try xavier([embedDimension, keyDimension])
        valueProjectionWeight = packed ? nil : try xavier([embedDimension, valueDimension])
        projectionWeights = [inProjectionWeight, queryProjectionWeight, keyProjectionWeight, valueProjectionWeight].compactMap { $0 }
        inProjectionBias = bias ? Parameter(try Tensor.zeros([3 * embedDimension], device: device)) : nil
        outProjection = try Linear(inputSize: embedDimension, outputSize: embedDimension, bias: bias, device: device)
        if let outBias = outProjection.bias { outBias.value = try Tensor.zeros([embedDimension], device: device) }
        dropoutSeed = Random.draw { $0.next() }
    }

    override public var members: [(key: String, member: ModuleMember)] {
        let weights: [(String, Parameter?)] = [
            ("in_proj_weight", inProjectionWeight), ("q_proj_weight", queryProjectionWeight),
            ("k_proj_weight", keyProjectionWeight), ("v_proj_weight", valueProjectionWeight), ("in_proj_bias", inProjectionBias),
        ]
        return weights.compactMap { key, parameter in parameter.map { (key, .parameter($0)) } } + [("out_proj", .module(outProjection))]
    }

    /// Attention of `query` over `key`/`value`, PyTorch's `forward`.
    ///
    /// - Parameters:
    ///   - query: `[B, Sq, E]` (`batchFirst`) or `[Sq, B, E]`; or unbatched `[Sq, E]`, with
    ///     `key` `[Sk, kdim]`, `value` `[Sk, vdim]`, `keyPaddingMask` `[Sk]`, an `attentionMask`
    ///     `[Sq, Sk]` or `[h, Sq, Sk]`, and the batch axis left out of the results, as in PyTorch.
    ///   - key: `[B, Sk, kdim]` or `[Sk, B, kdim]`.
    ///   - value: `[B, Sk, vdim]` or `[Sk, B, vdim]`.
    ///   - keyPaddingMask: `[B, Sk]`, nonzero = ignore that key.
    ///   - needWeights: also return the attention weights (materialises `[B, h, Sq, Sk]`; the
    ///     default, as in PyTorch; pass false for the fused path).
    ///   - attentionMask: see ``AttentionMask``.
    ///   - averageAttentionWeights: weights averaged over heads `[B, Sq, Sk]`, else per head
    ///     `[B, h, Sq, Sk]` (always batch-first, as PyTorch returns them).
    ///   - isCausal: query `i` attends keys `j <= i` (top-left aligned), combined with any mask.
    ///     PyTorch takes it as a hint that `attentionMask` is causal; here it suffices alone.
    /// - Returns: `output` shaped as `query`, and `weights` when `needWeights`. In training mode
    ///   with `dropout > 0` the weights are dropped out before they weight the values, and the
    ///   returned weights are the dropped ones, as PyTorch's.
    public func callAsFunction(
        _ query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor? = nil, needWeights: Bool = true,
        attentionMask: AttentionMask? = nil, averageAttentionWeights: Bool = true, isCausal: Bool = false
    ) throws -> (output: Tensor, weights: Tensor?) {
        if query.rank == 2 {
            return try unbatched(
                query, key: key, value: value, keyPaddingMask: keyPaddingMask, needWeights: needWeights,
                attentionMask: attentionMask, averageAttentionWeights: averageAttentionWeights, isCausal: isCausal)
        }
        let sizes = try validate(query: query, key: key, value: value)
        let masks = try AttentionOpMasks(
            keyPadding: keyPaddingMask, attentionMask: attentionMask, batch: sizes.batch, heads: heads,
            queryLength: sizes.queryLength, keyLength: sizes.keyLength)
        let q = try project(query, part: 0).splittingHeads(heads, batchFirst: batchFirst)
        let k = try project(key, part: 1).splittingHeads(heads, batchFirst: batchFirst)
        let v = try project(value, part: 2).splittingHeads(heads, batchFirst: batchFirst)
        let (heads, weights) = try attend(
            q, k, v, masks: masks, causal: isCausal, needWeights: needWeights, average: averageAttentionWeights)
        return (try outProjection(heads.mergingHeads(batchFirst: batchFirst)), weights)
    }

    /// `x W^T + b` for one of the three input projections (`part` 0, 1, 2: query, key, value).
    func project(_ x: Tensor, part: Int) throws -> Tensor {
        let rows = part * embedDimension..<(part + 1) * embedDimension
        // One packed [3E, E] weight, whose rows `part` are this projection's, or three weights.
        let weight = projectionWeights.count == 1
            ? try projectionWeights[0].value.slice(axis: 0, range: rows) : projectionWeights[part].value
        let inputs = weight.shape[1]
        var y = try x.reshaped([-1, inputs]).matmul(weight, transposeOther: true)
        if let bias = inProjectionBias { y = try y.addingBias(bias.value.slice(axis: 0, range: rows)) }
        return try y.reshaped(Array(x.shape.dropLast()) + [embedDimension])
    }

    /// The attention of heads `q` `[B, h, Sq, d]` over `k`, `v` `[B, h, Sk, d]`: the fused op
    /// when no weights are wanted and none are dropped, else the probabilities times the values.
    func attend(
        _ q: Tensor, _ k: Tensor, _ v: Tensor, masks: AttentionOpMasks, causal: Bool, needWeights: Bool, average: Bool
    ) throws -> (heads: Tensor, weights: Tensor?) {
        let dropping = isTraining && dropout > 0
        guard needWeights || dropping else {
            return (try q.attention(key: k, value: v, causal: causal, mask: masks.attend, additiveMask: masks.additive), nil)
        }
        var probabilities = try q.attentionProbabilities(key: k, causal: causal, mask: masks.attend, additiveMask: masks.additive)
        if dropping {
            defer { dropoutCalls &+= 1 }
            probabilities = try probabilities.dropout(probability: dropout, seed: dropoutSeed, offset: dropoutCalls)
        }
        let heads = try probabilities.matmul(v)
        guard needWeights else { return (heads, nil) }
        return (heads, average ? try probabilities.averagingAxis1() : probabilities)
    }

    /// Checks the three inputs against the layer and each other; returns B, Sq, Sk.
    func validate(query: Tensor, key: Tensor, value: Tensor) throws -> (batch: Int, queryLength: Int, keyLength: Int) {
        try requireDevice(of: query, argument: "query")
        try requireDevice(of: key, argument: "key")
        try requireDevice(of: value, argument: "value")
        let layout = batchFirst ? "[B, S, " : "[S, B, "
        for (name, tensor, features) in [("query", query, embedDimension), ("key", key, keyDimension), ("value", value, valueDimension)] {
            guard tensor.rank == 3, tensor.shape[2] == features, tensor.shape[0] >= 1, tensor.shape[1] >= 1 else {
                throw TempoError.shapeMismatch(argument: name, expected: layout + "\(features)]", actual: tensor.shape)
            }
        }
        let (batchAxis, lengthAxis) = batchFirst ? (0, 1) : (1, 0)
        let batch = query.shape[batchAxis], keyLength = key.shape[lengthAxis]
        guard key.shape[batchAxis] == batch else {
            throw TempoError.shapeMismatch(argument: "key", expected: layout + "\(keyDimension)] with B = \(batch) (the query's)", actual: key.shape)
        }
        guard value.shape[batchAxis] == batch, value.shape[lengthAxis] == keyLength else {
            throw TempoError.shapeMismatch(
                argument: "value", expected: layout + "\(valueDimension)] with B = \(batch) and S = \(keyLength) (the key's)",
                actual: value.shape)
        }
        return (batch, query.shape[lengthAxis], keyLength)
    }
}
