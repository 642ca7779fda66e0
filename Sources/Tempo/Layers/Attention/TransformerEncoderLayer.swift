/// One Transformer encoder layer, as PyTorch's `nn.TransformerEncoderLayer`: self-attention and a
/// feed-forward block, each with a residual connection, dropout and layer normalisation.
///
/// Post-norm (`normFirst == false`, the paper's and PyTorch's default):
/// `x = norm1(x + sa(x)); x = norm2(x + ff(x))`. Pre-norm: `x = x + sa(norm1(x)); x = x + ff(norm2(x))`.
/// `sa(x) = dropout1(self_attn(x, x, x))`, `ff(x) = dropout2(linear2(dropout(activation(linear1(x)))))`.
///
/// Parameters (PyTorch keys, in its order): `self_attn.in_proj_weight`, `self_attn.in_proj_bias`,
/// `self_attn.out_proj.weight`, `self_attn.out_proj.bias`, `linear1.weight` `[F, E]`,
/// `linear1.bias`, `linear2.weight` `[E, F]`, `linear2.bias`, `norm1.weight`, `norm1.bias`,
/// `norm2.weight`, `norm2.bias`. Sub-modules `dropout`, `dropout1`, `dropout2` hold no parameters.
///
/// Padded positions are computed like any other (PyTorch's nested-tensor fast path in eval mode
/// returns zeros there instead); only the keys are masked.
public final class TransformerEncoderLayer: Module {
    /// The feed-forward block's activation (PyTorch's `activation="relu"` or `"gelu"`, exact GELU).
    public enum ActivationFunction: Sendable {
        case relu
        case gelu
    }

    public let selfAttention: MultiheadAttention
    public let linear1: Linear
    public let dropout: Dropout
    public let linear2: Linear
    public let norm1: LayerNorm
    public let norm2: LayerNorm
    public let dropout1: Dropout
    public let dropout2: Dropout
    public let activation: ActivationFunction
    /// Layer norm before each block (pre-norm) instead of after the residual sum.
    public let normFirst: Bool

    /// E, the model width.
    public var modelDimension: Int { selfAttention.embedDimension }
    /// Whether inputs and output are `[B, S, E]` (else `[S, B, E]`).
    public var batchFirst: Bool { selfAttention.batchFirst }

    /// - Parameters:
    ///   - modelDimension: E (PyTorch's `d_model`).
    ///   - heads: PyTorch's `nhead`; divides E.
    ///   - feedforwardDimension: F (PyTorch's `dim_feedforward`).
    ///   - dropout: the probability of every dropout, the attention weights' included.
    ///   - layerNormEpsilon: PyTorch's `layer_norm_eps`.
    ///   - bias: whether the linear layers and layer norms have biases.
    public init(
        modelDimension: Int, heads: Int, feedforwardDimension: Int = 2048, dropout: Float = 0.1,
        activation: ActivationFunction = .relu, layerNormEpsilon: Float = 1e-5, batchFirst: Bool = false,
        normFirst: Bool = false, bias: Bool = true, device: Device = .cpu
    ) throws {
        // Checked here too so that the message names this initialiser's argument.
        guard heads >= 1, modelDimension % heads == 0 else {
            throw TempoError.invalidArgument(argument: "heads", expected: "a divisor of modelDimension = \(modelDimension)", actual: "\(heads)")
        }
        guard feedforwardDimension >= 1 else {
            throw TempoError.invalidArgument(argument: "feedforwardDimension", expected: "at least 1", actual: "\(feedforwardDimension)")
        }
        selfAttention = try MultiheadAttention(
            embedDimension: modelDimension, heads: heads, dropout: dropout, bias: bias, batchFirst: batchFirst, device: device)
        linear1 = try Linear(inputSize: modelDimension, outputSize: feedforwardDimension, bias: bias, device: device)
        self.dropout = try Dropout(probability: dropout)
        linear2 = try Linear(inputSize: feedforwardDimension, outputSize: modelDimension, bias: bias, device: device)
        norm1 = try LayerNorm(modelDimension, epsilon: layerNormEpsilon, bias: bias, device: device)
        norm2 = try LayerNorm(modelDimension, epsilon: layerNormEpsilon, bias: bias, device: device)
        dropout1 = try Dropout(probability: dropout)
        dropout2 = try Dropout(probability: dropout)
        self.activation = activation
        self.normFirst = normFirst
    }

    override public var members: [(key: String, member: ModuleMember)] {
        [
            ("self_attn", .module(selfAttention)), ("linear1", .module(linear1)), ("dropout", .module(dropout)),
            ("linear2", .module(linear2)), ("norm1", .module(norm1)), ("norm2", .module(norm2)),
            ("dropout1", .module(dropout1)), ("dropout2", .module(dropout2)),
        ]
    }

    /// PyTorch's `forward(src, src_mask, src_key_padding_mask, is_causal)`.
    ///
    /// - Parameters:
    ///   - source: `[B, S, E]` (`batchFirst`) or `[S, B, E]`.
    ///   - mask: an ``AttentionMask`` `[S, S]` or `[B*h, S, S]`.
    ///   - keyPaddingMask: `[B, S]`, nonzero = ignore that position as a key.
    ///   - isCausal: position `i` attends positions `j <= i`.
    /// - Returns: the shape of `source`.
    public func callAsFunction(
        _ source: Tensor, mask: AttentionMask? = nil, keyPaddingMask: Tensor? = nil, isCausal: Bool = false
    ) throws -> Tensor {
        func attention(_ x: Tensor) throws -> Tensor {
            let attended = try selfAttention(
                x, key: x, value: x, keyPaddingMask: keyPaddingMask, needWeights: false, attentionMask: mask, isCausal: isCausal)
            return try dropout1(attended.output)
        }
        func feedForward(_ x: Tensor) throws -> Tensor {
            let hidden = try linear1(x)
            let activated = try activation == .relu ? hidden.relu() : hidden.gelu()
            return try dropout2(linear2(dropout(activated)))
        }
        if normFirst {
            let x = try source + attention(norm1(source))
            return try x + feedForward(norm2(x))
        }
        let x = try norm1(source + attention(source))
        return try norm2(x + feedForward(x))
    }
}
