import CTempoCPU

extension CPUBackend {
    /// Steps for `tempo_conv_steps` (C, `causal_conv1d_step.c`): register-tiled products reading
    /// the taps in place from the input `[B, Cin]` and the history ring, with the epilogue fused,
    /// then each input copied into its ring slot. A chain's steps run as dependent phases of one
    /// job on the thread team, so a TCN's sample costs one hand-off, not one per convolution.
    /// Each weight `[Cout, Cin, K]` is packed into panels here, once per weight buffer, and kept in
    /// ``packedConvolutionWeights`` (and by the history, for its next preparation); grouped
    /// convolutions read it in place.
    func prepareCausalConv1dSteps(_ calls: [CausalConv1dStepCall], sample: any DeviceBuffer) throws
        -> any PreparedCausalConv1dSteps
    {
        var arguments: [tempo_conv_step_args] = []
        var packed: [AlignedFloats?] = []
        for call in calls {
            var step = stepArguments(call)
            packed.append(try packedWeight(for: call, arguments: &step))
            arguments.append(step)
        }
        return CPUPreparedConvolutionSteps(
            backend: self, arguments: arguments, packed: packed, calls: calls, standIn: pointer(sample))
    }

    private func stepArguments(_ call: CausalConv1dStepCall) -> tempo_conv_step_args {
        let d = call.descriptor.convolution
        var arguments = tempo_conv_step_args()
        arguments.batch = Int32(d.batch)
        arguments.input = Int32(d.inputChannels)
        arguments.output = Int32(d.outputChannels)
        arguments.taps = Int32(d.kernelSize)
        arguments.dilation = Int32(d.dilation)
        arguments.groups = Int32(d.groups)
        arguments.slots = Int32(call.descriptor.slots)
        arguments.position = Int32(call.descriptor.position)
        arguments.x = UnsafePointer(pointer(call.input))
        arguments.history = call.history.storage.map { pointer($0) }
        arguments.w = UnsafePointer(pointer(call.weight))
        arguments.bias = call.bias.map { UnsafePointer(pointer($0)) }
        arguments.residual = call.residual.map { UnsafePointer(pointer($0)) }
        arguments.activation = d.epilogue.activation.cpuKernelActivation
        arguments.output_activation = d.epilogue.outputActivation.cpuKernelActivation
        arguments.y = pointer(call.output)
        return arguments
    }

    /// The call's weight in panels, or nil for a grouped step (which reads it in place).
    private func packedWeight(for call: CausalConv1dStepCall, arguments: inout tempo_conv_step_args) throws -> AlignedFloats? {
        let packedCount = tempo_conv_step_packed_size(&arguments)
        guard packedCount > 0 else { return nil }
        let d = call.descriptor.convolution
        // The packing depends on how the buffer is viewed, so the shape is part of the key.
        return try call.history.preparedWeight(for: call.weight, sizes: d) {
            try packedConvolutionWeights.prepared(
                for: [call.weight], variant: "\(d.outputChannels),\(d.inputChannels),\(d.kernelSize)", bytes: packedCount * 4
            ) {
                let panels = try AlignedFloats(count: packedCount)
                tempo_conv_step_pack(&arguments, panels.pointer)
                return panels
            }
        }
    }
}

/// The C arguments of a chain of steps, built once: a sample changes only the pointers that read
/// it, the last output, and the ring positions.
private final class CPUPreparedConvolutionSteps: PreparedCausalConv1dSteps {
    private let backend: CPUBackend
    private var arguments: [tempo_conv_step_args]
    private var panels: [UnsafePointer<Float>?]
    /// What the pointers point into: the packed weights and every call's buffers.
    private let packed: [AlignedFloats?]
    private let calls: [CausalConv1dStepCall]
    private let histories: [CausalConv1dHistory]
    /// The calls whose input, and whose residual, is the sample.
    private let sampleInputs: [Int]
    private let sampleResiduals: [Int]

    init(
        backend: CPUBackend, arguments: [tempo_conv_step_args], packed: [AlignedFloats?], calls: [CausalConv1dStepCall],
        standIn: UnsafeMutablePointer<Float>
    ) {
        self.backend = backend
        self.arguments = arguments
        self.packed = packed
        panels = packed.map { $0.map { UnsafePointer($0.pointer) } }
        self.calls = calls
        histories = calls.map(\.history)
        sampleInputs = arguments.indices.filter { arguments[$0].x == UnsafePointer(standIn) }
        sampleResiduals = arguments.indices.filter { arguments[$0].residual == UnsafePointer(standIn) }
    }

    func run(sample: any DeviceBuffer, output: any DeviceBuffer) throws {
        let x = UnsafePointer(backend.pointer(sample))
        for index in sampleInputs { arguments[index].x = x }
        for index in sampleResiduals { arguments[index].residual = x }
        arguments[arguments.count - 1].y = backend.pointer(output)
        for index in arguments.indices { arguments[index].position = Int32(histories[index].position) }
        backend.counters.recordLaunches(1)
        _ = tempo_conv_steps(&arguments, &panels, Int32(arguments.count), Int32(CPUThreads.count))
    }
}

extension Optional where Wrapped == Activation {
    var cpuKernelActivation: tempo_activation {
        switch self {
        case nil: TEMPO_ACTIVATION_NONE
        case .relu: TEMPO_ACTIVATION_RELU
        case .tanh: TEMPO_ACTIVATION_TANH
        case .sigmoid: TEMPO_ACTIVATION_SIGMOID
        case .gelu: TEMPO_ACTIVATION_GELU
        case .geluTanh: TEMPO_ACTIVATION_GELU_TANH
        }
    }
}
