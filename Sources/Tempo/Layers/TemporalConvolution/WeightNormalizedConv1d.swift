import TempoCompute

/// A causal 1-D convolution with a weight-normalised weight, as PyTorch's
/// `torch.nn.utils.weight_norm(nn.Conv1d(...))` (dim 0) inside a temporal convolutional network:
/// the weight is `w[o] = g[o] * v[o] / ||v[o]||` (``TempoCompute/Tensor/weightNorm(g:)``), and the
/// convolution is causal (``Conv1d/Padding/causal``): output step `t` sees `x[t - (K-1)*d ... t]`.
///
/// Parameters (PyTorch keys and layout, in PyTorch's `state_dict` order: `weight_norm` removes
/// `weight` and appends `weight_g` and `weight_v` after `bias`): `bias` `[Cout]`, `weight_g`
/// `[Cout, 1, 1]`, `weight_v` `[Cout, Cin, K]`. Fresh, they are PyTorch's: `weight_v` and `bias` as
/// `nn.Conv1d` draws them, `weight_g = ||weight_v||` per output channel, so `w = v` at first.
///
/// In evaluation mode the weight is computed once and kept while `weight_g` and `weight_v` hold the
/// same tensors; loading or moving the layer replaces them, which recomputes it.
public final class WeightNormalizedConv1d: Module, UnaryLayer {
    /// Cin
    public let inputChannels: Int
    /// Cout
    public let outputChannels: Int
    /// K
    public let kernelSize: Int
    /// d
    public let dilation: Int
    /// `[Cout]`, or nil when made with `bias: false`.
    public let bias: Parameter?
    /// `weight_g`, the length of each output channel's weight: `[Cout, 1, 1]`.
    public let weightG: Parameter
    /// `weight_v`, the direction of each output channel's weight: `[Cout, Cin, K]`.
    public let weightV: Parameter
    /// The convolution that runs, given the current weight before each call, as PyTorch's
    /// weight-norm hook sets `weight` before each forward. It shares `bias`; not a member, so its
    /// own `weight` is in no state dict.
    private let convolution: Conv1d
    /// The last weight computed in evaluation mode, with the tensors it came from.
    private var cached: (g: Tensor, v: Tensor, weight: Tensor)?

    /// The steps of input one output step spans: `(K-1)*d + 1`.
    public var receptiveField: Int { convolution.receptiveField }

    /// - Throws: ``TempoCompute/TempoError/invalidArgument(argument:expected:actual:)`` naming a
    ///   size out of range, as ``Conv1d`` does.
    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, dilation: Int = 1, bias: Bool = true,
        device: Device = .cpu
    ) throws {
        convolution = try Conv1d(
            inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize, dilation: dilation,
            padding: .causal, bias: bias, device: device)
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.dilation = dilation
        self.bias = convolution.bias
        let v = convolution.weight.value
        weightV = Parameter(v)
        weightG = Parameter(try Self.rowNorms(of: v))
    }

    override public var members: [(key: String, member: ModuleMember)] {
        (bias.map { [("bias", .parameter($0))] } ?? []) + [("weight_g", .parameter(weightG)), ("weight_v", .parameter(weightV))]
    }

    /// Sets `weight_v` to `direction` `[Cout, Cin, K]` and `weight_g` to its row norms, as
    /// `weight_norm` does when it wraps a convolution whose weight is `direction`.
    func reset(direction: Tensor) throws {
        weightV.value = direction
        weightG.value = try Self.rowNorms(of: direction)
    }

    /// The convolution's weight `[Cout, Cin, K]`: `weight_g * weight_v / ||weight_v||` per output
    /// channel; in evaluation mode computed once per pair of parameter values.
    public func effectiveWeight() throws -> Tensor {
        let (g, v) = (weightG.value, weightV.value)
        if let cached, cached.g.isSameStorage(as: g), cached.v.isSameStorage(as: v) { return cached.weight }
        let weight = try v.weightNorm(g: g)
        cached = isTraining ? nil : (g, v, weight)
        return weight
    }

    /// `x`: `[B, Cin, L]` (or `[Cin, L]` unbatched). Returns `[B, Cout, L]` (or `[Cout, L]`).
    ///
    /// - Throws: ``TempoCompute/TempoError/shapeMismatch(argument:expected:actual:)`` naming `x`,
    ///   as ``Conv1d`` does.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try requireDevice(of: x)
        // Only a new weight is stored: storing counts as a parameter change (Parameter.changeCount).
        let weight = try effectiveWeight()
        if !convolution.weight.value.isSameStorage(as: weight) { convolution.weight.value = weight }
        return try convolution(x)
    }

    /// The convolution of `x` `[B, Cin, L]` with an epilogue fused in (see
    /// ``TempoCompute/Tensor/causalConv1d(weight:bias:dilation:groups:activation:residual:outputActivation:)``):
    /// `outputActivation(activation(conv(x)) + residual)`, `residual` `[B, Cout, L]`.
    func callAsFunction(
        _ x: Tensor, activation: Activation?, residual: Tensor? = nil, outputActivation: Activation? = nil
    ) throws -> Tensor {
        try x.causalConv1d(
            weight: effectiveWeight(), bias: bias?.value, dilation: dilation, activation: activation, residual: residual,
            outputActivation: outputActivation)
    }

    /// `||v[o]||_2` for each row of `v`, shaped `[Cout, 1, 1]` (PyTorch's `norm_except_dim(v, 2, 0)`),
    /// on the host in Double: it runs when a layer is made, not per call.
    private static func rowNorms(of v: Tensor) throws -> Tensor {
        let rows = v.shape[0], values = try v.values
        let columns = values.count / rows
        let norms = (0..<rows).map { row in
            Float(values[row * columns..<(row + 1) * columns].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
        }
        return try Tensor(shape: [rows, 1, 1], values: norms, device: v.device)
    }
}
