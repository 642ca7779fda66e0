/// The `attn_mask` of PyTorch's `nn.MultiheadAttention`, whose meaning PyTorch reads from the
/// dtype. Tempo tensors are all float32, so the case says it.
///
/// Shape `[Sq, Sk]` (one mask for every batch element and head) or `[B*h, Sq, Sk]` (one per batch
/// element and head, batch-major: row `b*h + i` is head `i` of batch element `b`), as in PyTorch.
public enum AttentionMask {
    /// A boolean mask as 0/1 floats where nonzero means the query may **not** attend the key:
    /// PyTorch's boolean `attn_mask` (the opposite of the attention op's `mask`).
    case ignore(Tensor)
    /// Floats added to the scaled scores before the softmax; `-inf` masks a key out: PyTorch's
    /// float `attn_mask`.
    case additive(Tensor)

    var tensor: Tensor {
        switch self {
        case .ignore(let tensor), .additive(let tensor): return tensor
        }
    }
}

/// The two mask arguments of the attention op (`mask`, nonzero = attend, and `additiveMask`),
/// built from a layer's PyTorch-style masks.
struct AttentionOpMasks {
    var attend: Tensor?
    var additive: Tensor?

    /// - Parameters:
    ///   - keyPadding: `[B, Sk]`, nonzero = ignore that key (PyTorch's `key_padding_mask`).
    ///   - attentionMask: as ``AttentionMask`` describes.
    /// - Throws: ``TempoError/shapeMismatch(argument:expected:actual:)`` naming `keyPaddingMask`
    ///   or `attentionMask`.
    init(keyPadding: Tensor?, attentionMask: AttentionMask?, batch: Int, heads: Int, queryLength: Int, keyLength: Int) throws {
        var keys: Tensor?  // [B, 1, Sk], nonzero = attend
        if let keyPadding {
            guard keyPadding.shape == [batch, keyLength] else {
                throw TempoError.shapeMismatch(
                    argument: "keyPaddingMask", expected: "[B, Sk] = [\(batch), \(keyLength)]", actual: keyPadding.shape)
            }
            keys = try keyPadding.flippingMask().reshaped([batch, 1, keyLength])
        }
        var perHead = false
        var mask: Tensor?  // [Sq, Sk] or [B, h, Sq, Sk]
        if let attentionMask {
            let tensor = attentionMask.tensor
            if tensor.shape == [queryLength, keyLength] {
                mask = tensor
            } else if tensor.shape == [batch * heads, queryLength, keyLength] {
                perHead = true
                mask = try tensor.reshaped([batch, heads, queryLength, keyLength])
            } else {
                throw TempoError.shapeMismatch(
                    argument: "attentionMask",
                    expected: "[Sq, Sk] = [\(queryLength), \(keyLength)] or [B*h, Sq, Sk] = [\(batch * heads), \(queryLength), \(keyLength)]",
                    actual: tensor.shape)
            }
        }
        if case .additive = attentionMask { additive = mask }
        guard case .ignore = attentionMask, let ignored = mask else {
            attend = try keys?.reshaped([batch, 1, 1, keyLength])
            return
        }
        let allowed = try ignored.flippingMask()
        guard let keys else {
            attend = allowed
            return
        }
        // Both masks: the op takes one, so multiply them, each repeated to the other's shape.
        let rows = perHead ? heads * queryLength : queryLength
        let expandedKeys = try keys.repeatingRows(rows)  // [B, rows, Sk]
        let expandedMask = perHead
            ? try allowed.reshaped([batch, rows, keyLength])
            : try allowed.reshaped([1, 1, rows * keyLength]).repeatingRows(batch).reshaped([batch, rows, keyLength])
        attend = try expandedKeys.multiplying(expandedMask).reshaped([batch, perHead ? heads : 1, queryLength, keyLength])
    }
}
