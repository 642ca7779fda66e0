extension Tensor {
    /// One streaming step of ``causalConv1d(weight:bias:dilation:groups:)``: the output column of
    /// the newest sample, with the epilogue of a TCN block fused in, and the sample appended to
    /// `history`.
    ///
    /// With `x_t` = `self`, and the earlier samples read from `history`:
    ///
    /// `conv[b, o] = bias[o] + sum_c sum_k weight[o, c, k] * x[b, g*Cin/groups + c, t - (K-1-k)*d]`
    ///
    /// `y[b, o] = outputActivation(activation(conv[b, o]) + residual[b, o])`
    ///
    /// each of `activation`, `residual` and `outputActivation` left out when nil. Stepping a
    /// sequence through from a new (or reset) history gives, step by step, exactly the columns of
    /// the whole-sequence convolution with the same epilogue. A TCN block's two convolutions are
    /// `relu` for the first and `relu`, the block input as `residual`, `relu` for the second.
    ///
    /// - Parameters:
    ///   - self: the new sample `x_t`, `[B, Cin]`.
    ///   - weight: `[Cout, Cin/groups, K]`, PyTorch's `Conv1d.weight` layout.
    ///   - bias: `[Cout]`, or nil.
    ///   - dilation: `d >= 1`; must be the history's.
    ///   - groups: divides `Cin` and `Cout`.
    ///   - history: the last `(K-1)*d` samples of these B sequences, made for this B, Cin, K and d
    ///     on this device; advanced by one sample when the step returns (not when it throws).
    ///   - activation: applied to `conv`, or nil.
    ///   - residual: `[B, Cout]` added after `activation`, or nil.
    ///   - outputActivation: applied last, or nil.
    /// - Returns: `y_t`, `[B, Cout]`.
    public func causalConv1dStep(
        weight: Tensor, bias: Tensor? = nil, dilation: Int = 1, groups: Int = 1, history: CausalConv1dHistory,
        activation: Activation? = nil, residual: Tensor? = nil, outputActivation: Activation? = nil
    ) throws -> Tensor {
        let d = try CausalConv1dStepDescriptor(
            input: self, weight: weight, bias: bias, dilation: dilation, groups: groups, history: history,
            activation: activation, residual: residual, outputActivation: outputActivation)
        let (result, backend) = try output([d.convolution.batch, d.convolution.outputChannels])
        let call = CausalConv1dStepCall(
            descriptor: d, input: buffer, weight: weight.buffer, bias: bias?.buffer, residual: residual?.buffer,
            history: history, output: result.buffer)
        try backend.prepareCausalConv1dSteps([call], sample: buffer).run(sample: buffer, output: result.buffer)
        history.advance()
        return result
    }
}

/// One step as a backend runs it: the validated sizes and the buffers (see
/// ``CausalConv1dStepDescriptor`` for their shapes). In a chain of calls, a call's input or
/// residual may be an earlier call's output.
struct CausalConv1dStepCall {
    var descriptor: CausalConv1dStepDescriptor
    var input: any DeviceBuffer
    var weight: any DeviceBuffer
    var bias: (any DeviceBuffer)?
    var residual: (any DeviceBuffer)?
    var history: CausalConv1dHistory
    var output: any DeviceBuffer
}

/// The sizes and epilogue of one convolution step, validated: what a backend needs besides the
/// buffers (input `[B, Cin]`, weight `[Cout, Cin/groups, K]`, bias `[Cout]` or none, residual
/// `[B, Cout]` or none, history `[S, B, Cin]` (see ``CausalConv1dHistory``), output `[B, Cout]`,
/// all row-major float32).
struct CausalConv1dStepDescriptor: Sendable, Hashable {
    /// The convolution's sizes, as a sequence of one step (L = 1), and its epilogue.
    var convolution: CausalConv1dDescriptor
    /// S: slots of the history ring, `(K-1)*d + 1`, or 0 when K = 1.
    var slots: Int
    /// The slot this step's sample is written to; tap `k` reads slot
    /// `(position - (K-1-k)*d + S) % S`, and tap `K-1` the input itself.
    var position: Int

    init(
        input: Tensor, weight: Tensor, bias: Tensor?, dilation: Int, groups: Int, history: CausalConv1dHistory,
        activation: Activation?, residual: Tensor?, outputActivation: Activation?
    ) throws {
        guard input.rank == 2, input.shape.allSatisfy({ $0 >= 1 }) else {
            throw TempoError.shapeMismatch(argument: "input", expected: "[B, Cin] with every size at least 1", actual: input.shape)
        }
        let filter = try CausalConv1dFilter(input: input, weight: weight, bias: bias, dilation: dilation, groups: groups)
        guard history.device == input.device else {
            throw TempoError.deviceMismatch(argument: "history", expected: input.device.id, actual: history.device.id)
        }
        // Field by field: this runs every step, and the words are only needed for the error.
        guard history.batch == input.shape[0], history.channels == filter.inputChannels,
              history.kernelSize == filter.kernelSize, history.dilation == dilation
        else {
            throw TempoError.invalidArgument(
                argument: "history",
                expected: "a history for B = \(input.shape[0]), Cin = \(filter.inputChannels), K = \(filter.kernelSize), d = \(dilation)",
                actual: history.summary)
        }
        if let residual {
            try input.requireSameDevice(residual, argument: "residual")
            guard residual.shape == [input.shape[0], filter.outputChannels] else {
                throw TempoError.shapeMismatch(
                    argument: "residual", expected: "[B, Cout] = [\(input.shape[0]), \(filter.outputChannels)]",
                    actual: residual.shape)
            }
        }
        convolution = CausalConv1dDescriptor(
            batch: input.shape[0], length: 1, filter: filter, dilation: dilation, groups: groups, hasBias: bias != nil)
        convolution.epilogue = ConvolutionEpilogue(
            activation: activation, hasResidual: residual != nil, outputActivation: outputActivation)
        slots = history.slots
        position = history.position
    }
}
