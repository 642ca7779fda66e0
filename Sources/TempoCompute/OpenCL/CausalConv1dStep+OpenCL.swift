import TempoKernels

extension OpenCLBackend {
    /// One launch per step, in order on the queue (a chain's steps read earlier outputs).
    func prepareCausalConv1dSteps(_ calls: [CausalConv1dStepCall], sample: any DeviceBuffer) throws
        -> any PreparedCausalConv1dSteps
    {
        OpenCLPreparedConvolutionSteps(backend: self, calls: calls, standIn: sample)
    }

    /// `causalConv1dStep` in a given kernel shape (tests force each one; see ``OpenCLTunables``).
    ///
    /// One launch per step, which also writes the input `[B, Cin]` into its history slot (see
    /// `Kernels/causal_conv1d.cl` for why that cannot race with the taps): `conv_step_cpu` over
    /// the weight packed into panels for the CPU shape with one group, else `conv_step_direct`
    /// reading the weight in place. The packing is one more launch, on the first step with a
    /// weight buffer only; it is kept in ``packedConvolutionWeights``. Nothing moves between host
    /// and device: the ring position is a kernel argument.
    func causalConv1dStep(
        _ step: CausalConv1dStepDescriptor, input: any DeviceBuffer, weight: any DeviceBuffer,
        bias: (any DeviceBuffer)?, residual: (any DeviceBuffer)?, history: CausalConv1dHistory,
        output: any DeviceBuffer, shape: OpenCLTunables.Shape
    ) throws {
        let d = step.convolution
        let program = try program(.causalConv1d)
        // Absent buffers are never read (their flags are off, or S = 0); valid buffers stand in.
        let head: [KernelArgument] = [.buffer(input), .buffer(history.storage ?? input)]
        let epilogue: [KernelArgument] = [
            .buffer(bias ?? weight), .int(d.hasBias ? 1 : 0), .buffer(residual ?? weight), .int(d.epilogue.hasResidual ? 1 : 0),
            .buffer(output), .int(d.batch), .int(d.inputChannels), .int(d.outputChannels), .int(d.kernelSize),
            .int(d.dilation),
        ]
        let tail: [KernelArgument] = [
            .int(step.slots), .int(step.position), .int(d.epilogue.activation.kernelCode), .int(d.epilogue.outputActivation.kernelCode),
        ]
        guard shape == .cpu, d.groups == 1 else {
            try launch(
                program, "conv_step_direct", global: [d.outputChannels, d.batch],
                head + [.buffer(weight)] + epilogue + [.int(d.groups)] + tail)
            return
        }
        let width = 16 * tunables.convStepCPUVectors
        let panels = (d.outputChannels + width - 1) / width
        let packedCount = panels * width * d.inputChannels * d.kernelSize
        let packed = try history.preparedWeight(for: weight, sizes: d) {
            try packedConvolutionWeights.prepared(
                for: [weight], variant: "\(d.outputChannels),\(d.inputChannels),\(d.kernelSize),\(width)",
                bytes: 4 * packedCount
            ) {
                let buffer = try allocate(count: packedCount)
                try launch(
                    program, "conv_step_pack", global: [panels * width, d.inputChannels],
                    [.buffer(weight), .buffer(buffer), .int(d.inputChannels), .int(d.outputChannels), .int(d.kernelSize)])
                return PackedWeight(buffer)
            }
        }
        let rows = tunables.convStepCPURows
        try launch(
            program, "conv_step_cpu", global: [panels, (d.batch + rows - 1) / rows, 1], local: [1, 1, 1],
            head + [.buffer(packed.buffer)] + epilogue + tail)
    }
}

/// One packed weight buffer, as a class so that a ``PreparedWeightCache`` can keep it.
final class PackedWeight: Sendable {
    let buffer: any DeviceBuffer

    init(_ buffer: any DeviceBuffer) {
        self.buffer = buffer
    }
}

extension Optional where Wrapped == Activation {
    /// The activation codes of `causal_conv1d.cl`'s step epilogue (0 for none).
    var kernelCode: Int {
        switch self {
        case nil: 0
        case .relu: 1
        case .tanh: 2
        case .sigmoid: 3
        case .gelu: 4
        case .geluTanh: 5
        }
    }
}

/// A chain of steps as launches: a sample replaces the stand-in's buffer and the last output.
private final class OpenCLPreparedConvolutionSteps: PreparedCausalConv1dSteps {
    private let backend: OpenCLBackend
    private let calls: [CausalConv1dStepCall]
    private let standIn: any DeviceBuffer

    init(backend: OpenCLBackend, calls: [CausalConv1dStepCall], standIn: any DeviceBuffer) {
        self.backend = backend
        self.calls = calls
        self.standIn = standIn
    }

    func run(sample: any DeviceBuffer, output: any DeviceBuffer) throws {
        for (index, call) in calls.enumerated() {
            var step = call.descriptor
            step.position = call.history.position
            try backend.causalConv1dStep(
                step, input: call.input === standIn ? sample : call.input, weight: call.weight, bias: call.bias,
                residual: call.residual.map { $0 === standIn ? sample : $0 }, history: call.history,
                output: index == calls.count - 1 ? output : call.output, shape: backend.tunables.shape)
        }
    }
}
