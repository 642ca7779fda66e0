extension MultiheadAttention {
    /// The keys and values of the steps attended so far, projected and split into heads, so that
    /// incremental decoding projects each step once: `keys` `[B, h, L, d]`, `values` `[B, h, L, d]`.
    /// Start with an empty cache per sequence batch; ``MultiheadAttention/callAsFunction(_:key:value:cache:isCausal:)`` appends.
    public struct KeyValueCache {
        public fileprivate(set) var keys: Tensor?
        public fileprivate(set) var values: Tensor?

        public init() {}

        /// L, the steps cached.
        public var length: Int { keys?.shape[2] ?? 0 }
    }

    /// Attention of new steps over the cached ones and themselves, for incremental decoding: the
    /// new keys and values are projected, appended to `cache`, and the queries attend all of them.
    /// Feeding a sequence one step (or a few) at a time gives the outputs of one causal call over
    /// the whole sequence.
    ///
    /// - Parameters:
    ///   - query: the new steps, `[B, n, E]` (`batchFirst`) or `[n, B, E]`.
    ///   - key: their keys, `[B, m, kdim]` or `[m, B, kdim]` (for self-attention, the same tensor as `query`).
    ///   - value: `[B, m, vdim]` or `[m, B, vdim]`.
    ///   - keyPaddingMask: `[B, L + m]` over every key so far, cached and new: nonzero = ignore
    ///     that key (for example the left padding of prompts of different lengths).
    ///   - isCausal: new query `i` (at position `L + i`) attends keys `0 ... L + i`, the cached
    ///     ones and new ones up to itself: the causal mask aligned to the end, as decoding needs.
    ///     (The attention op's causal mask is aligned to the start, so a single query needs no
    ///     mask and a chunk after cached steps gets an explicit one.)
    /// - Returns: the attention output shaped as `query`.
    public func callAsFunction(
        _ query: Tensor, key: Tensor, value: Tensor, cache: inout KeyValueCache, keyPaddingMask: Tensor? = nil,
        isCausal: Bool = true
    ) throws -> Tensor {
        let sizes = try validate(query: query, key: key, value: value)
        if let cached = cache.keys, cached.shape[0] != sizes.batch || cached.device != query.device {
            throw TempoError.invalidArgument(
                argument: "cache", expected: "a cache of B = \(sizes.batch) on \(query.device.id) (the query's)",
                actual: "B = \(cached.shape[0]) on \(cached.device.id)")
        }
        let cachedLength = cache.length
        let q = try project(query, part: 0).splittingHeads(heads, batchFirst: batchFirst)
        var k = try project(key, part: 1).splittingHeads(heads, batchFirst: batchFirst)
        var v = try project(value, part: 2).splittingHeads(heads, batchFirst: batchFirst)
        if let keys = cache.keys, let values = cache.values {
            k = try Tensor.concatenate([keys, k], axis: 2)
            v = try Tensor.concatenate([values, v], axis: 2)
        }
        let total = cachedLength + sizes.keyLength
        let opCausal = isCausal && cachedLength == 0
        var causalMask: AttentionMask?
        if isCausal, cachedLength > 0, sizes.keyLength > 1 {
            // Query i may not see key j when j > L + i: a small [n, L + m] mask from the host.
            let ignored = (0..<sizes.queryLength * total).map { index -> Float in
                index % total > cachedLength + index / total ? 1 : 0
            }
            causalMask = .ignore(try Tensor(shape: [sizes.queryLength, total], values: ignored, device: query.device))
        }
        let masks = try AttentionOpMasks(
            keyPadding: keyPaddingMask, attentionMask: causalMask, batch: sizes.batch, heads: heads,
            queryLength: sizes.queryLength, keyLength: total)
        let attended = try attend(q, k, v, masks: masks, causal: opCausal, needWeights: false, average: true)
        cache.keys = k
        cache.values = v
        return try outProjection(attended.heads.mergingHeads(batchFirst: batchFirst))
    }
}
