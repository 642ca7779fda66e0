extension Tensor {
    /// Scaled dot-product attention, flash-style: `softmax(Q Kᵀ * scale + masks) V` per batch
    /// element and head, computed over tiles of keys with an online softmax, so the working
    /// memory is O(S*d) and the `[Sq, Sk]` score matrix never exists. Causal attention skips
    /// the key tiles above the diagonal.
    ///
    /// `self` is the query. Heads share keys and values in groups (grouped-query attention;
    /// multi-query when `hkv == 1`): query head `i` reads key/value head `i / (h / hkv)`, as
    /// PyTorch's `scaled_dot_product_attention(..., enable_gqa: true)` does.
    ///
    /// Masks combine: a key is attended when `causal` allows it *and* `mask` is nonzero there;
    /// `additiveMask` is added to the scaled scores of the keys that are left. A row whose keys
    /// are all masked out (or all `-inf` after the additive mask) gives zeros, not NaN.
    ///
    /// - Parameters:
    ///   - self: the query `[B, h, Sq, d]`.
    ///   - key: `[B, hkv, Sk, d]`, with `hkv` dividing `h`.
    ///   - value: `[B, hkv, Sk, dv]`.
    ///   - scale: multiplies `Q Kᵀ`; nil is `1/sqrt(d)`.
    ///   - causal: query `i` sees keys `j <= i` only, top-left aligned as PyTorch's `is_causal`
    ///     (when `Sq > Sk`, the queries from `Sk` on see every key).
    ///   - mask: a boolean mask as 0/1 floats (nonzero = attend), broadcastable to
    ///     `[B, h, Sq, Sk]` by NumPy's rules (right-aligned, size-1 axes repeat).
    ///   - additiveMask: floats added to the scaled scores (`-inf` masks a key), broadcastable to
    ///     `[B, h, Sq, Sk]` likewise.
    /// - Returns: `[B, h, Sq, dv]`.
    public func attention(
        key: Tensor, value: Tensor, scale: Float? = nil, causal: Bool = false, mask: Tensor? = nil,
        additiveMask: Tensor? = nil
    ) throws -> Tensor {
        let d = try AttentionDescriptor(
            query: self, key: key, value: value, scale: scale, causal: causal, mask: mask, additiveMask: additiveMask)
        let (result, backend) = try output([d.batch, d.heads, d.queryLength, d.valueDimension])
        try backend.attention(
            d, query: buffer, key: key.buffer, value: value.buffer, mask: mask?.buffer,
            additiveMask: additiveMask?.buffer, output: result.buffer)
        return result
    }

    /// The attention probabilities `softmax(Q Kᵀ * scale + masks)` that ``attention(key:value:scale:causal:mask:additiveMask:)``
    /// weights the values with, for inspection and visualisation. This materialises
    /// `[B, h, Sq, Sk]` (O(S²) memory and time), which the attention op itself never does; call
    /// it only when the probabilities are wanted. Arguments as for `attention`; fully masked
    /// rows are zeros.
    ///
    /// - Returns: `[B, h, Sq, Sk]`, each row summing to 1 (or 0 when fully masked).
    public func attentionProbabilities(
        key: Tensor, scale: Float? = nil, causal: Bool = false, mask: Tensor? = nil, additiveMask: Tensor? = nil
    ) throws -> Tensor {
        let d = try AttentionDescriptor(
            query: self, key: key, value: nil, scale: scale, causal: causal, mask: mask, additiveMask: additiveMask)
        let (result, backend) = try output([d.batch, d.heads, d.queryLength, d.keyLength])
        try backend.attentionProbabilities(
            d, query: buffer, key: key.buffer, mask: mask?.buffer, additiveMask: additiveMask?.buffer,
            output: result.buffer)
        return result
    }
}

/// How a mask tensor maps onto `[B, h, Sq, Sk]`: element `(b, i, q, k)` is at
/// `b * batch + i * head + q * query + k * key`, with stride 0 along broadcast (size-1 or missing)
/// axes. Nothing is copied to broadcast.
struct AttentionMaskStrides: Sendable, Hashable {
    var batch: Int
    var head: Int
    var query: Int
    var key: Int
}

extension AttentionMaskStrides {
    /// The strides of `shape` read as `[B, h, Sq, Sk]`; nil when `shape` does not broadcast to it.
    init?(shape: [Int], target: [Int]) {
        guard shape.count <= target.count else { return nil }
        let padded = Array(repeating: 1, count: target.count - shape.count) + shape
        var strides = Array(repeating: 0, count: target.count)
        var stride = 1
        for axis in padded.indices.reversed() {
            guard padded[axis] == target[axis] || padded[axis] == 1 else { return nil }
            strides[axis] = padded[axis] == 1 ? 0 : stride
            stride *= padded[axis]
        }
        (batch, head, query, key) = (strides[0], strides[1], strides[2], strides[3])
    }
}

/// The sizes of one attention call, validated: query `[B, h, Sq, d]`, key `[B, hkv, Sk, d]`,
/// value `[B, hkv, Sk, dv]`, output `[B, h, Sq, dv]` (probabilities: `[B, h, Sq, Sk]`), all
/// row-major float32; the masks as ``AttentionMaskStrides`` describe them.
struct AttentionDescriptor: Sendable, Hashable {
    /// B
    var batch: Int
    /// h, query heads.
    var heads: Int
    /// hkv, key/value heads; divides h.
    var keyValueHeads: Int
    /// Sq
    var queryLength: Int
    /// Sk
    var keyLength: Int
    /// d, of queries and keys.
    var headDimension: Int
    /// dv, of values and the output (0 for the probabilities, which read no values).
    var valueDimension: Int
    var scale: Float
    var causal: Bool
    /// The boolean mask's layout, when there is one.
    var mask: AttentionMaskStrides?
    /// The additive mask's layout, when there is one.
    var additiveMask: AttentionMaskStrides?

    /// Query heads per key/value head: `h / hkv`.
    var groupSize: Int { heads / keyValueHeads }
    /// `4*B*h*Sq*Sk*d` for `d == dv` (`QKᵀ` and `PV`), halved when causal with `Sq == Sk`: the
    /// peers' count (`../shared/peers`).
    var flops: Double {
        let full = 2 * Double(batch * heads) * Double(queryLength) * Double(keyLength)
            * Double(headDimension + valueDimension)
        return causal ? full / 2 : full
    }

    init(
        query: Tensor, key: Tensor, value: Tensor?, scale: Float?, causal: Bool, mask: Tensor?, additiveMask: Tensor?
    ) throws {
        guard query.rank == 4, query.shape.allSatisfy({ $0 >= 1 }) else {
            throw TempoError.shapeMismatch(argument: "query", expected: "[B, h, Sq, d] with every size at least 1", actual: query.shape)
        }
        let (batch, heads, queryLength, headDimension) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        try query.requireSameDevice(key, argument: "key")
        guard key.rank == 4, key.shape[0] == batch, key.shape[1] >= 1, key.shape[2] >= 1, key.shape[3] == headDimension else {
            throw TempoError.shapeMismatch(
                argument: "key", expected: "[B = \(batch), hkv, Sk, d = \(headDimension)] (d as the query's)", actual: key.shape)
        }
        let (keyValueHeads, keyLength) = (key.shape[1], key.shape[2])
        guard heads % keyValueHeads == 0 else {
            throw TempoError.invalidArgument(
                argument: "key", expected: "a head count hkv dividing the query's h = \(heads)", actual: "hkv = \(keyValueHeads)")
        }
        var valueDimension = 0
        if let value {
            try query.requireSameDevice(value, argument: "value")
            guard value.rank == 4, value.shape[0] == batch, value.shape[1] == keyValueHeads, value.shape[2] == keyLength,
                  value.shape[3] >= 1
            else {
                throw TempoError.shapeMismatch(
                    argument: "value", expected: "[B, hkv, Sk, dv] = [\(batch), \(keyValueHeads), \(keyLength), dv]",
                    actual: value.shape)
            }
            valueDimension = value.shape[3]
        }
        let resolvedScale = scale ?? 1 / Float(headDimension).squareRoot()
        guard resolvedScale.isFinite else {
            throw TempoError.invalidArgument(argument: "scale", expected: "a finite number", actual: "\(resolvedScale)")
        }
        let target = [batch, heads, queryLength, keyLength]
        func strides(_ tensor: Tensor?, _ name: String) throws -> AttentionMaskStrides? {
            guard let tensor else { return nil }
            try query.requireSameDevice(tensor, argument: name)
            guard let strides = AttentionMaskStrides(shape: tensor.shape, target: target) else {
                throw TempoError.shapeMismatch(
                    argument: name, expected: "a shape broadcastable to [B, h, Sq, Sk] = \(TempoError.format(target))",
                    actual: tensor.shape)
            }
            return strides
        }
        self.mask = try strides(mask, "mask")
        self.additiveMask = try strides(additiveMask, "additiveMask")
        // The OpenCL kernels index within one head and one mask with 32-bit ints.
        let largest = [queryLength * max(headDimension, valueDimension), keyLength * max(headDimension, valueDimension),
                       (mask?.count ?? 0), (additiveMask?.count ?? 0)].max() ?? 0
        guard largest < Int(Int32.max) else {
            throw TempoError.invalidArgument(
                argument: "query", expected: "one head and each mask below 2^31 elements", actual: "\(largest) elements")
        }
        self.batch = batch
        self.heads = heads
        self.keyValueHeads = keyValueHeads
        self.queryLength = queryLength
        self.keyLength = keyLength
        self.headDimension = headDimension
        self.valueDimension = valueDimension
        self.scale = resolvedScale
        self.causal = causal
    }

    /// The last key query `q` may see when causal (top-left aligned), clamped to the keys there are.
    func lastVisibleKey(query q: Int) -> Int {
        causal ? min(q, keyLength - 1) : keyLength - 1
    }
}
