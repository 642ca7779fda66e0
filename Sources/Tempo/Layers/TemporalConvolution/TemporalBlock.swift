import TempoCompute

/// One residual block of a temporal convolutional network, as `TemporalBlock` of Bai, Kolter and
/// Koltun's reference code (locuslab/TCN, "An Empirical Evaluation of Generic Convolutional and
/// Recurrent Networks for Sequence Modeling", 2018):
///
/// ```
/// h   = dropout1(relu(conv1(x)))        conv1: weight-normalised causal Conv1d(Cin -> Cout, K, d)
/// out = dropout2(relu(conv2(h)))        conv2: weight-normalised causal Conv1d(Cout -> Cout, K, d)
/// y   = relu(out + (downsample(x) or x))   downsample: Conv1d(Cin -> Cout, 1), only when Cin != Cout
/// ```
///
/// Every convolution is causal, so `y[..., t]` depends on `x[..., t - 2(K-1)d ... t]` only.
///
/// `state_dict` keys, as PyTorch's for locuslab's module: `conv1.bias`, `conv1.weight_g`
/// `[Cout, 1, 1]`, `conv1.weight_v` `[Cout, Cin, K]`, the same for `conv2`, then `net.0.*` and
/// `net.4.*`, and `downsample.weight` `[Cout, Cin, 1]` / `downsample.bias` when there is one.
/// locuslab's block also registers its two convolutions in `self.net = nn.Sequential(conv1, chomp1,
/// relu1, dropout1, conv2, ...)`, so PyTorch's `state_dict()` lists them a second time as `net.0`
/// and `net.4`. Tempo does the same: ``Module/stateDict()`` has both keys (a saved file loads
/// into locuslab's module with `strict=True`), ``Module/namedParameters()`` each parameter once
/// (as `named_parameters()`), and loading needs either key and checks that both, when given,
/// hold the same values.
///
/// Initialisation: `weight_v` of both convolutions and the downsample weight are drawn from
/// N(0, 0.01²), as locuslab's `init_weights` intends, with `weight_g = ||weight_v||`; biases are
/// `nn.Conv1d`'s default. (In locuslab's code the N(0, 0.01²) draw of `conv1`/`conv2` is lost,
/// because `weight_norm` recomputes `weight` from `weight_v` on the next forward; its issue #1.
/// A trained checkpoint is unaffected.)
public final class TemporalBlock: Module, UnaryLayer {
    /// Cin
    public let inputChannels: Int
    /// Cout
    public let outputChannels: Int
    /// K
    public let kernelSize: Int
    /// d
    public let dilation: Int
    public let conv1: WeightNormalizedConv1d
    public let conv2: WeightNormalizedConv1d
    public let dropout1: Dropout
    public let dropout2: Dropout
    /// The 1x1 convolution that gives the residual `Cout` channels, when `Cin != Cout`.
    public let downsample: Conv1d?
    /// locuslab's `net`: conv1 and conv2 again, for their second `state_dict` keys.
    private let net: ConvolutionAliases

    /// The steps of input one output step spans: `2(K-1)d + 1`.
    public var receptiveField: Int { 2 * (kernelSize - 1) * dilation + 1 }

    /// - Parameter dropout: the probability of both dropouts (locuslab's default 0.2).
    /// - Throws: ``TempoCompute/TempoError/invalidArgument(argument:expected:actual:)`` naming a
    ///   size or `dropout` out of range.
    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, dilation: Int, dropout: Float = 0.2,
        device: Device = .cpu
    ) throws {
        guard (0...1).contains(dropout) else {
            throw TempoError.invalidArgument(argument: "dropout", expected: "a probability in 0...1", actual: "\(dropout)")
        }
        conv1 = try WeightNormalizedConv1d(
            inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize, dilation: dilation,
            device: device)
        conv2 = try WeightNormalizedConv1d(
            inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: kernelSize, dilation: dilation,
            device: device)
        dropout1 = try Dropout(probability: dropout)
        dropout2 = try Dropout(probability: dropout)
        downsample = inputChannels == outputChannels
            ? nil : try Conv1d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 1, device: device)
        net = ConvolutionAliases([("0", conv1), ("4", conv2)])
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.dilation = dilation
        let initializer = Initializer.normal(mean: 0, standardDeviation: 0.01)
        for conv in [conv1, conv2] {
            try conv.reset(direction: initializer.tensor(conv.weightV.shape, device: device))
        }
        if let downsample {
            downsample.weight.value = try initializer.tensor(downsample.weight.shape, device: device)
        }
    }

    override public var members: [(key: String, member: ModuleMember)] {
        [
            ("conv1", .module(conv1)), ("dropout1", .module(dropout1)), ("conv2", .module(conv2)),
            ("dropout2", .module(dropout2)), ("net", .module(net)),
        ] + (downsample.map { [("downsample", .module($0))] } ?? [])
    }

    /// `x`: `[B, Cin, L]`. Returns `[B, Cout, L]`.
    ///
    /// - Throws: ``TempoCompute/TempoError/shapeMismatch(argument:expected:actual:)`` naming `x`
    ///   for another rank or channel count; ``TempoCompute/TempoError/deviceMismatch(argument:expected:actual:)``
    ///   when `x` is not on the block's device.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try requireSequence(x, channels: inputChannels)
        let residual = try downsample?(x) ?? x
        if !appliesDropout {
            // Two convolutions with the ReLUs and the residual sum fused in: no pass of its own
            // over the activations for any of them.
            let hidden = try conv1(x, activation: .relu)
            return try conv2(hidden, activation: .relu, residual: residual, outputActivation: .relu)
        }
        let hidden = try dropout1(conv1(x).relu())
        let out = try dropout2(conv2(hidden).relu())
        return try (out + residual).relu()
    }

    /// Whether a call draws dropout masks: in training mode with a dropout probability above 0.
    var appliesDropout: Bool { isTraining && (dropout1.probability > 0 || dropout2.probability > 0) }
}

/// Sub-modules under chosen keys and nothing else: a PyTorch container whose other entries
/// (chomps, activations, dropouts) hold no parameters.
private final class ConvolutionAliases: Module {
    private let entries: [(key: String, module: Module)]

    init(_ entries: [(key: String, module: Module)]) {
        self.entries = entries
    }

    override var members: [(key: String, member: ModuleMember)] {
        entries.map { ($0.key, .module($0.module)) }
    }
}

extension Module {
    /// Throws unless `x` is `[B, channels, L]` with every size at least 1 and on this module's
    /// device: the input check of the temporal convolution layers, naming `x`.
    func requireSequence(_ x: Tensor, channels: Int) throws {
        guard x.rank == 3, x.shape[1] == channels, x.shape[0] >= 1, x.shape[2] >= 1 else {
            throw TempoError.shapeMismatch(
                argument: "x", expected: "[B, \(channels), L] with B, L at least 1", actual: x.shape)
        }
        try requireDevice(of: x)
    }
}
