import TempoCompute

/// A 1-D convolution over time, as PyTorch's `nn.Conv1d` with stride 1 and zero padding.
///
/// `y[b, o, t] = bias[o] + sum_c sum_k weight[o, c, k] * xpad[b, g*Cin/groups + c, t + k*d]`, where
/// `g = o / (Cout/groups)` and `xpad` is the input with `left` zeros before it and `right` after
/// (cross-correlation, no kernel flip). ``Padding`` chooses `left` and `right`.
///
/// Parameters (PyTorch keys and layout): `weight` `[Cout, Cin/groups, K]` and `bias` `[Cout]`,
/// initialised as PyTorch does: both U(-1/√fanIn, 1/√fanIn) with `fanIn = Cin/groups * K`, drawn
/// from the ``Random`` stream.
///
/// ```swift
/// let conv = try Conv1d(inputChannels: 16, outputChannels: 32, kernelSize: 3, dilation: 2, padding: .causal)
/// let y = try conv(x)   // x [B, 16, L] -> y [B, 32, L]
/// ```
public final class Conv1d: Module, UnaryLayer {
    /// Where the `(K-1)*d` steps of zeros a full window needs go, and so the output's length.
    public enum Padding: Sendable, Hashable {
        /// No padding (PyTorch's `padding='valid'` or `0`): output length `L - (K-1)*d`, and `L`
        /// must be at least the receptive field `(K-1)*d + 1`.
        case valid
        /// PyTorch's `padding='same'`: output length `L`, with `(K-1)*d / 2` zeros (rounded down)
        /// on the left and the rest on the right.
        case same
        /// All `(K-1)*d` zeros on the left: output length `L`, and step `t` sees no input after
        /// `t` (a temporal convolutional network's layer; ``TempoCompute/Tensor/causalConv1d(weight:bias:dilation:groups:)``).
        case causal
    }

    /// Cin
    public let inputChannels: Int
    /// Cout
    public let outputChannels: Int
    /// K
    public let kernelSize: Int
    /// d
    public let dilation: Int
    public let groups: Int
    public let padding: Padding
    /// `[Cout, Cin/groups, K]`
    public let weight: Parameter
    /// `[Cout]`, or nil when made with `bias: false`.
    public let bias: Parameter?

    /// The steps of input one output step spans: `(K-1)*d + 1`.
    public var receptiveField: Int { (kernelSize - 1) * dilation + 1 }

    /// - Parameters:
    ///   - inputChannels: Cin, divisible by `groups`.
    ///   - outputChannels: Cout, divisible by `groups`.
    ///   - kernelSize: K >= 1.
    ///   - dilation: d >= 1, the spacing of the kernel's taps.
    ///   - groups: `groups == Cin == Cout` is a depthwise convolution.
    /// - Throws: ``TempoCompute/TempoError/invalidArgument(argument:expected:actual:)`` naming the
    ///   argument out of range.
    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, dilation: Int = 1, groups: Int = 1,
        padding: Padding = .valid, bias: Bool = true, device: Device = .cpu
    ) throws {
        let sizes = [
            ("inputChannels", inputChannels), ("outputChannels", outputChannels), ("kernelSize", kernelSize),
            ("dilation", dilation), ("groups", groups),
        ]
        for (name, size) in sizes where size < 1 {
            throw TempoError.invalidArgument(argument: name, expected: "at least 1", actual: "\(size)")
        }
        for (name, channels) in [("inputChannels", inputChannels), ("outputChannels", outputChannels)]
        where channels % groups != 0 {
            throw TempoError.invalidArgument(
                argument: "groups", expected: "a divisor of \(name) = \(channels)", actual: "\(groups)")
        }
        // Checked here rather than left to the op so that `receptiveField` and the padding offsets
        // cannot overflow; the op's kernels index with 32-bit ints.
        let (history, overflow) = (kernelSize - 1).multipliedReportingOverflow(by: dilation)
        guard !overflow, history < Int(Int32.max / 2) else {
            throw TempoError.invalidArgument(
                argument: "dilation", expected: "(kernelSize-1)*dilation below \(Int32.max / 2)",
                actual: "\(dilation) with kernelSize = \(kernelSize)")
        }
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.dilation = dilation
        self.groups = groups
        self.padding = padding
        let weightShape = [outputChannels, inputChannels / groups, kernelSize]
        weight = Parameter(try Initializer.pytorchLinearWeight().tensor(weightShape, device: device))
        // PyTorch draws the bias from the weight's fan-in, Cin/groups * K, not from Cin.
        self.bias = bias
            ? Parameter(try Initializer.pytorchLinearBias(fanIn: Fan.of(weightShape).fanIn).tensor([outputChannels], device: device))
            : nil
    }

    override public var members: [(key: String, member: ModuleMember)] {
        [("weight", .parameter(weight))] + (bias.map { [("bias", .parameter($0))] } ?? [])
    }

    /// `x`: `[B, Cin, L]`, or `[Cin, L]` unbatched as PyTorch accepts it. Returns `[B, Cout, L']`
    /// (or `[Cout, L']`) with `L' = L - (K-1)*d` for ``Padding/valid`` and `L' = L` otherwise.
    ///
    /// - Throws: ``TempoCompute/TempoError/shapeMismatch(argument:expected:actual:)`` naming `x`
    ///   for another rank, another channel count, or (``Padding/valid``) `L` below the receptive
    ///   field; ``TempoCompute/TempoError/deviceMismatch(argument:expected:actual:)`` when `x` is
    ///   not on the layer's device.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try requireDevice(of: x)
        guard (x.rank == 3 || x.rank == 2), x.shape[x.rank - 2] == inputChannels, x.shape[x.rank - 1] >= 1,
              x.rank == 2 || x.shape[0] >= 1
        else {
            throw TempoError.shapeMismatch(
                argument: "x", expected: "[B, \(inputChannels), L] or [\(inputChannels), L] with B, L at least 1",
                actual: x.shape)
        }
        if x.rank == 2 {
            let y = try self(x.reshaped([1] + x.shape))
            return try y.reshaped(Array(y.shape.dropFirst()))
        }
        let length = x.shape[2]
        let history = receptiveField - 1
        switch padding {
        case .causal:
            return try convolve(x)
        case .valid:
            guard length >= receptiveField else {
                throw TempoError.shapeMismatch(
                    argument: "x",
                    expected: "L at least the receptive field (kernelSize-1)*dilation+1 = \(receptiveField) with padding .valid",
                    actual: x.shape)
            }
            // Causal output t sees x[t-history...t]; the valid outputs are those whose window
            // starts at or after 0, so drop the first `history`, which saw the implicit zeros.
            return try trimmed(convolve(x), from: history, length: length - history)
        case .same:
            // With `left` zeros before x, output t's window starts at t - left; the causal op
            // starts it at t - history, so output t is causal output t + (history - left) = t + right,
            // computed over x followed by `right` zeros so that the last windows exist.
            let right = history - history / 2
            guard right > 0 else { return try convolve(x) }
            let zeros = try Tensor.zeros([x.shape[0], inputChannels, right], device: x.device)
            let extended = try Tensor.concatenate([x, zeros], axis: 2)
            return try trimmed(convolve(extended), from: right, length: length)
        }
    }

    private func convolve(_ x: Tensor) throws -> Tensor {
        try x.causalConv1d(weight: weight.value, bias: bias?.value, dilation: dilation, groups: groups)
    }

    /// Steps `start..<start+length` of `[B, C, L]`, without a copy when that is all of it.
    private func trimmed(_ y: Tensor, from start: Int, length: Int) throws -> Tensor {
        if start == 0, length == y.shape[2] { return y }
        return try y.slice(axis: 2, range: start..<start + length)
    }
}
