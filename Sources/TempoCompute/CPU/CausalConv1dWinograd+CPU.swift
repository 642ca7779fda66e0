import CTempoCPU

/// The arguments of `tempo_causal_conv` (C, `causal_conv1d.c`: Winograd's F(2,3), K = 3), for a
/// convolution it takes: `groups == 1`, K = 3, d a power of two up to
/// `TEMPO_CAUSAL_CONV_MAX_DILATION`, sizes that fit its 32-bit ints.
struct CausalConv1dWinograd {
    let descriptor: CausalConv1dDescriptor
    var arguments: tempo_causal_conv_args

    init?(
        _ d: CausalConv1dDescriptor, input: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        guard d.groups == 1, [d.batch, d.inputChannels, d.outputChannels, d.length].allSatisfy({ $0 < Int(Int32.max) / 8 })
        else { return nil }
        var arguments = tempo_causal_conv_args()
        arguments.batch = Int32(d.batch)
        arguments.input = Int32(d.inputChannels)
        arguments.output = Int32(d.outputChannels)
        arguments.length = Int32(d.length)
        arguments.taps = Int32(d.kernelSize)
        arguments.dilation = Int32(clamping: d.dilation)
        arguments.x = input
        arguments.bias = bias
        arguments.residual = residual
        arguments.activation = d.epilogue.activation.cpuKernelActivation
        arguments.output_activation = d.epilogue.outputActivation.cpuKernelActivation
        arguments.y = output
        guard tempo_causal_conv_supported(&arguments) != 0 else { return nil }
        self.descriptor = d
        self.arguments = arguments
    }
}

extension CPUBackend {
    /// The causal convolution by Winograd's F(2,3) on Tempo's thread team. The weight's transform
    /// (`U = G g`, packed by blocks of output channels) is made once per weight buffer and kept
    /// in ``packedConvolutionWeights``, as a TCN layer calls with the same weight every time.
    func causalConv1dWinograd(_ winograd: CausalConv1dWinograd, weight: any DeviceBuffer) throws {
        var arguments = winograd.arguments
        let d = winograd.descriptor
        let packedCount = tempo_causal_conv_packed_size(&arguments)
        let packed = try packedConvolutionWeights.prepared(
            for: [weight],
            variant: "winograd \(d.outputChannels),\(d.inputChannels)", bytes: packedCount * 4
        ) {
            let transformed = try AlignedFloats(count: packedCount)
            tempo_causal_conv_pack(&arguments, pointer(weight), transformed.pointer)
            return transformed
        }
        let threads = CPUThreads.count
        // Pooled, as the other ops' scratch: a TCN calls this for every layer.
        let workspace = try allocate(count: tempo_causal_conv_workspace_size(&arguments, Int32(threads)))
        counters.recordLaunches(1)
        _ = tempo_causal_conv(&arguments, packed.pointer, pointer(workspace), Int32(threads))
        withExtendedLifetime((packed, workspace)) {}
    }
}
