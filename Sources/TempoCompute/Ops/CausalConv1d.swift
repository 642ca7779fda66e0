extension Tensor {
    /// The dilated causal 1-D convolution of a temporal convolutional network: output step `t`
    /// sees inputs `t, t-d, ..., t-(K-1)d` only, zeros before the start (PyTorch's `Conv1d` with
    /// left padding `(K-1)*d` and the right end cut off, ONNX `Conv` with `pads = [(K-1)*d, 0]`).
    ///
    /// `y[b, o, t] = bias[o] + sum_c sum_k weight[o, c, k] * x[b, g*Cin/groups + c, t - (K-1-k)*d]`
    /// where `g = o / (Cout/groups)` is the output's group (cross-correlation, no kernel flip:
    /// `weight[:, :, K-1]` multiplies `x[t]`). The padding is implicit: no padded copy of the input.
    ///
    /// An epilogue can be fused in, as cuDNN's convolution-bias-activation: the result is
    /// `outputActivation(activation(y) + residual)`, each part left out when nil. A TCN block's
    /// convolutions are `activation: .relu`, then `activation: .relu, residual: x,
    /// outputActivation: .relu`, with no separate pass over the output for either.
    ///
    /// - Parameters:
    ///   - self: the input `[B, Cin, L]`.
    ///   - weight: `[Cout, Cin/groups, K]`, PyTorch's `Conv1d.weight` layout.
    ///   - bias: `[Cout]`, or nil.
    ///   - dilation: `d >= 1`.
    ///   - groups: divides `Cin` and `Cout`; `groups == Cin == Cout` is a depthwise convolution.
    ///   - activation: applied to `y` (bias included), or nil.
    ///   - residual: `[B, Cout, L]` added after `activation`, or nil.
    ///   - outputActivation: applied last, or nil.
    /// - Returns: `[B, Cout, L]`.
    public func causalConv1d(
        weight: Tensor, bias: Tensor? = nil, dilation: Int = 1, groups: Int = 1, activation: Activation? = nil,
        residual: Tensor? = nil, outputActivation: Activation? = nil
    ) throws -> Tensor {
        var d = try CausalConv1dDescriptor(input: self, weight: weight, bias: bias, dilation: dilation, groups: groups)
        if let residual {
            try requireSameDevice(residual, argument: "residual")
            guard residual.shape == [d.batch, d.outputChannels, d.length] else {
                throw TempoError.shapeMismatch(
                    argument: "residual", expected: "[B, Cout, L] = [\(d.batch), \(d.outputChannels), \(d.length)]",
                    actual: residual.shape)
            }
        }
        d.epilogue = ConvolutionEpilogue(activation: activation, hasResidual: residual != nil, outputActivation: outputActivation)
        let (result, backend) = try output([d.batch, d.outputChannels, d.length])
        try backend.causalConv1d(
            d, input: buffer, weight: weight.buffer, bias: bias?.buffer, residual: residual?.buffer, output: result.buffer)
        return result
    }
}

/// What a convolution does to its sums before it stores them:
/// `y = outputActivation(activation(sum + bias) + residual)`, with the residual shaped as `y`.
struct ConvolutionEpilogue: Sendable, Hashable {
    var activation: Activation?
    var hasResidual = false
    var outputActivation: Activation?

    /// Nothing: `y = sum + bias`.
    static let none = ConvolutionEpilogue()
}

/// The sizes of one causal convolution, validated: what a backend needs besides the buffers
/// (input `[B, Cin, L]`, weight `[Cout, Cin/groups, K]`, bias `[Cout]` or none, residual as the
/// output or none, output `[B, Cout, L]`, all row-major float32).
struct CausalConv1dDescriptor: Sendable, Hashable {
    /// B
    var batch: Int
    /// Cin
    var inputChannels: Int
    /// Cout
    var outputChannels: Int
    /// L, of the input and the output.
    var length: Int
    /// K
    var kernelSize: Int
    /// d
    var dilation: Int
    var groups: Int
    var hasBias: Bool
    /// What happens to the sums before they are stored.
    var epilogue = ConvolutionEpilogue.none

    /// Input channels each output reads: `Cin/groups`.
    var channelsPerGroup: Int { inputChannels / groups }
    /// Output channels per group: `Cout/groups`.
    var outputsPerGroup: Int { outputChannels / groups }
    /// Steps before `t` an output sees: `(K-1)*d`.
    var history: Int { (kernelSize - 1) * dilation }
    /// `2*B*Cout*L*(Cin/groups)*K`, as the peers count it (with groups = 1).
    var flops: Double { 2 * Double(batch * outputChannels * length) * Double(channelsPerGroup * kernelSize) }

    init(input: Tensor, weight: Tensor, bias: Tensor?, dilation: Int, groups: Int) throws {
        guard input.rank == 3, input.shape.allSatisfy({ $0 >= 1 }) else {
            throw TempoError.shapeMismatch(argument: "input", expected: "[B, Cin, L] with every size at least 1", actual: input.shape)
        }
        let filter = try CausalConv1dFilter(input: input, weight: weight, bias: bias, dilation: dilation, groups: groups)
        self.init(batch: input.shape[0], length: input.shape[2], filter: filter, dilation: dilation, groups: groups, hasBias: bias != nil)
    }

    /// The sizes of a validated filter over B sequences of L steps.
    init(batch: Int, length: Int, filter: CausalConv1dFilter, dilation: Int, groups: Int, hasBias: Bool) {
        self.batch = batch
        inputChannels = filter.inputChannels
        outputChannels = filter.outputChannels
        self.length = length
        kernelSize = filter.kernelSize
        self.dilation = dilation
        self.groups = groups
        self.hasBias = hasBias
    }
}

/// The validated weight side of a causal convolution, shared by the whole-sequence op and its
/// streaming step: weight `[Cout, Cin/groups, K]`, bias `[Cout]` or none, dilation and groups,
/// all on the input's device.
struct CausalConv1dFilter {
    var inputChannels: Int
    var outputChannels: Int
    var kernelSize: Int

    /// - Parameter input: `[B, Cin, ...]`, for its channels and device (the caller checks the rest
    ///   of its shape).
    init(input: Tensor, weight: Tensor, bias: Tensor?, dilation: Int, groups: Int) throws {
        let inputChannels = input.shape[1]
        guard dilation >= 1 else {
            throw TempoError.invalidArgument(argument: "dilation", expected: "at least 1", actual: "\(dilation)")
        }
        guard groups >= 1, inputChannels % groups == 0 else {
            throw TempoError.invalidArgument(
                argument: "groups", expected: "a divisor of the input channels \(inputChannels)", actual: "\(groups)")
        }
        try input.requireSameDevice(weight, argument: "weight")
        guard weight.rank == 3, weight.shape[0] >= 1, weight.shape[1] == inputChannels / groups, weight.shape[2] >= 1 else {
            throw TempoError.shapeMismatch(
                argument: "weight", expected: "[Cout, Cin/groups = \(inputChannels / groups), K]", actual: weight.shape)
        }
        let outputChannels = weight.shape[0]
        guard outputChannels % groups == 0 else {
            throw TempoError.invalidArgument(
                argument: "groups", expected: "a divisor of the output channels \(outputChannels) (weight.shape[0])",
                actual: "\(groups)")
        }
        let kernelSize = weight.shape[2]
        // The kernels index with 32-bit ints; a window this long is a mistake, not a model.
        guard (kernelSize - 1).multipliedReportingOverflow(by: dilation).partialValue < Int(Int32.max / 2),
              !(kernelSize - 1).multipliedReportingOverflow(by: dilation).overflow
        else {
            throw TempoError.invalidArgument(
                argument: "dilation", expected: "(K-1)*dilation below \(Int32.max / 2)", actual: "\(dilation) with K = \(kernelSize)")
        }
        if let bias {
            try input.requireSameDevice(bias, argument: "bias")
            guard bias.shape == [outputChannels] else {
                throw TempoError.shapeMismatch(argument: "bias", expected: "[Cout] = [\(outputChannels)]", actual: bias.shape)
            }
        }
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
    }
}
