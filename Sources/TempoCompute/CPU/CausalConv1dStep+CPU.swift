import CTempoCPU

extension CPUBackend {
    /// One convolution step in `tempo_conv_step` (C, `causal_conv1d_step.c`): register-tiled
    /// products reading the taps in place from the input `[B, Cin]` and the history ring, with the
    /// epilogue fused, then the input copied into its ring slot. The weight `[Cout, Cin, K]` is
    /// packed into panels once per weight buffer and kept in ``packedConvolutionWeights`` (and by the
    /// history, for its next step); grouped convolutions read it in place.
    func causalConv1dStep(
        _ step: CausalConv1dStepDescriptor, input: any DeviceBuffer, weight: any DeviceBuffer,
        bias: (any DeviceBuffer)?, residual: (any DeviceBuffer)?, history: CausalConv1dHistory,
        output: any DeviceBuffer
    ) throws {
        let d = step.convolution
        var arguments = tempo_conv_step_args()
        arguments.batch = Int32(d.batch)
        arguments.input = Int32(d.inputChannels)
        arguments.output = Int32(d.outputChannels)
        arguments.taps = Int32(d.kernelSize)
        arguments.dilation = Int32(d.dilation)
        arguments.groups = Int32(d.groups)
        arguments.slots = Int32(step.slots)
        arguments.position = Int32(step.position)
        arguments.x = UnsafePointer(pointer(input))
        arguments.history = history.storage.map { pointer($0) }
        arguments.w = UnsafePointer(pointer(weight))
        arguments.bias = bias.map { UnsafePointer(pointer($0)) }
        arguments.residual = residual.map { UnsafePointer(pointer($0)) }
        arguments.activation = d.epilogue.activation.cpuKernelActivation
        arguments.output_activation = d.epilogue.outputActivation.cpuKernelActivation
        arguments.y = pointer(output)

        var packed: AlignedFloats?
        let packedCount = tempo_conv_step_packed_size(&arguments)
        if packedCount > 0 {
            // The packing depends on how the buffer is viewed, so the shape is part of the key.
            packed = try history.preparedWeight(for: weight, sizes: d) {
                try packedConvolutionWeights.prepared(
                    for: [weight], variant: "\(d.outputChannels),\(d.inputChannels),\(d.kernelSize)", bytes: packedCount * 4
                ) {
                    let panels = try AlignedFloats(count: packedCount)
                    tempo_conv_step_pack(&arguments, panels.pointer)
                    return panels
                }
            }
        }
        counters.recordLaunches(1)
        _ = tempo_conv_step(&arguments, packed.map { UnsafePointer($0.pointer) }, Int32(CPUThreads.count))
        withExtendedLifetime(packed) {}
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
