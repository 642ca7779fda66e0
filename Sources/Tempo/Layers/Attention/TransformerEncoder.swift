/// A stack of ``TransformerEncoderLayer``s with an optional final layer norm, as PyTorch's
/// `nn.TransformerEncoder`. Parameter keys: `layers.{i}.…` then `norm.weight`, `norm.bias`.
public final class TransformerEncoder: Module {
    public let layers: ModuleList<TransformerEncoderLayer>
    public let norm: LayerNorm?

    /// - Parameter layers: at least one, all with the same `batchFirst` and width. (PyTorch
    ///   deep-copies one layer `num_layers` times; pass separately made layers, whose initial
    ///   weights then differ.)
    public init(layers: [TransformerEncoderLayer], norm: LayerNorm? = nil) throws {
        guard let first = layers.first else {
            throw TempoError.invalidArgument(argument: "layers", expected: "at least one layer", actual: "none")
        }
        for (index, layer) in layers.enumerated()
        where layer.batchFirst != first.batchFirst || layer.modelDimension != first.modelDimension {
            throw TempoError.invalidArgument(
                argument: "layers[\(index)]", expected: "batchFirst \(first.batchFirst) and width \(first.modelDimension) (as layers[0])",
                actual: "batchFirst \(layer.batchFirst) and width \(layer.modelDimension)")
        }
        if let norm, norm.normalizedShape != [first.modelDimension] {
            throw TempoError.invalidArgument(
                argument: "norm", expected: "normalizedShape [\(first.modelDimension)]", actual: TempoError.format(norm.normalizedShape))
        }
        self.layers = ModuleList(layers)
        self.norm = norm
    }

    /// `layerCount` layers made by `makeLayer` (called once per layer).
    public convenience init(
        layerCount: Int, norm: LayerNorm? = nil, makeLayer: () throws -> TransformerEncoderLayer
    ) throws {
        guard layerCount >= 1 else {
            throw TempoError.invalidArgument(argument: "layerCount", expected: "at least 1", actual: "\(layerCount)")
        }
        try self.init(layers: (0..<layerCount).map { _ in try makeLayer() }, norm: norm)
    }

    override public var members: [(key: String, member: ModuleMember)] {
        [("layers", .module(layers))] + (norm.map { [("norm", .module($0))] } ?? [])
    }

    /// PyTorch's `forward(src, mask, src_key_padding_mask, is_causal)`: every layer with the same
    /// masks, then `norm`. Arguments and shapes as ``TransformerEncoderLayer/callAsFunction(_:mask:keyPaddingMask:isCausal:)``.
    public func callAsFunction(
        _ source: Tensor, mask: AttentionMask? = nil, keyPaddingMask: Tensor? = nil, isCausal: Bool = false
    ) throws -> Tensor {
        let encoded = try layers.modules.reduce(source) { x, layer in
            try layer(x, mask: mask, keyPaddingMask: keyPaddingMask, isCausal: isCausal)
        }
        return try norm?(encoded) ?? encoded
    }
}
