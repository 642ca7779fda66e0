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
        var pairings: [StepPairing?] = []
        for call in calls {
            var step = stepArguments(call)
            packed.append(try packedWeight(for: call, arguments: &step))
            pairings.append(tempo_conv_step_pairs(&step) != 0 ? try StepPairing.current(for: call) : nil)
            arguments.append(step)
        }
        return CPUPreparedConvolutionSteps(
            backend: self, arguments: arguments, packed: packed, pairings: pairings, calls: calls, standIn: pointer(sample))
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

/// The stash of a stream's paired steps (K = 3: see `causal_conv1d_step.c`): `[d, B, Cout]`, the
/// halves that the first step of each pair leaves for the second, d steps later. Kept by the
/// history (``CausalConv1dHistory/backendState``) for one weight; a second step may use a slot
/// only if this weight's first step wrote it.
private final class StepPairing {
    /// The weight the stash's halves were made with (held, so its identity cannot be reused).
    let weight: any DeviceBuffer
    let stash: AlignedFloats
    let outputs: Int
    /// The first step of the stream whose half is in the stash: earlier slots hold another
    /// weight's halves, or none.
    var firstValidStep: Int

    private init(weight: any DeviceBuffer, outputs: Int, slots: Int, firstValidStep: Int) throws {
        self.weight = weight
        self.outputs = outputs
        stash = try AlignedFloats(count: slots)
        self.firstValidStep = firstValidStep
    }

    /// The history's pairing for `call`'s weight, or a new one from the history's next step.
    static func current(for call: CausalConv1dStepCall) throws -> StepPairing {
        let history = call.history, outputs = call.descriptor.convolution.outputChannels
        if let pairing = history.backendState as? StepPairing, pairing.weight === call.weight, pairing.outputs == outputs {
            return pairing
        }
        let pairing = try StepPairing(
            weight: call.weight, outputs: outputs, slots: history.dilation * history.batch * outputs,
            firstValidStep: history.steps)
        history.backendState = pairing
        return pairing
    }

    /// Fills in the pairing arguments of step `t` of `history`, taking the history back first if
    /// another weight's steps took it meanwhile.
    func prepare(_ arguments: inout tempo_conv_step_args, history: CausalConv1dHistory) {
        let t = history.steps, d = history.dilation
        if history.backendState !== self {
            history.backendState = self
            firstValidStep = t
        }
        arguments.stash = stash.pointer
        arguments.stash_slot = Int32(t % d)
        arguments.paired = (t / d) % 2 == 1 && t - d >= firstValidStep ? 1 : 0
    }
}

/// The C arguments of a chain of steps, built once: a sample changes only the pointers that read
/// it, the last output, the ring positions and the pairing of paired steps.
private final class CPUPreparedConvolutionSteps: PreparedCausalConv1dSteps {
    private let backend: CPUBackend
    private var arguments: [tempo_conv_step_args]
    private var panels: [UnsafePointer<Float>?]
    /// What the pointers point into: the packed weights, the stashes and every call's buffers.
    private let packed: [AlignedFloats?]
    private let pairings: [StepPairing?]
    private let calls: [CausalConv1dStepCall]
    private let histories: [CausalConv1dHistory]
    /// The calls whose input, and whose residual, is the sample.
    private let sampleInputs: [Int]
    private let sampleResiduals: [Int]

    init(
        backend: CPUBackend, arguments: [tempo_conv_step_args], packed: [AlignedFloats?], pairings: [StepPairing?],
        calls: [CausalConv1dStepCall], standIn: UnsafeMutablePointer<Float>
    ) {
        self.backend = backend
        self.arguments = arguments
        self.packed = packed
        panels = packed.map { $0.map { UnsafePointer($0.pointer) } }
        self.pairings = pairings
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
        for index in arguments.indices {
            arguments[index].position = Int32(histories[index].position)
            pairings[index]?.prepare(&arguments[index], history: histories[index])
        }
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
