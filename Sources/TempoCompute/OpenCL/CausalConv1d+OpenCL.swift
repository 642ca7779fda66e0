import TempoKernels

extension OpenCLBackend {
    func causalConv1d(
        _ descriptor: CausalConv1dDescriptor, input: any DeviceBuffer, weight: any DeviceBuffer,
        bias: (any DeviceBuffer)?, residual: (any DeviceBuffer)?, output: any DeviceBuffer
    ) throws {
        try causalConv1d(
            descriptor, input: input, weight: weight, bias: bias, residual: residual, output: output, shape: tunables.shape)
    }

    /// `causalConv1d` in a given kernel shape (tests force each one; see ``OpenCLTunables``).
    ///
    /// One launch, reading the input `[B, Cin, L]` and the weight `[Cout, Cin/groups, K]` where
    /// they are (the causal padding is implicit in the kernels) and writing the output
    /// `[B, Cout, L]`: `conv_cpu` or `conv_gpu` of `Kernels/causal_conv1d.cl`, whose header gives
    /// the geometry. The GPU shape falls back to `conv_cpu`, which is correct on any device, when
    /// even a one-channel input window (the time tile plus `(K-1)*d` steps of history) would not
    /// fit the device's local memory.
    func causalConv1d(
        _ d: CausalConv1dDescriptor, input: any DeviceBuffer, weight: any DeviceBuffer,
        bias: (any DeviceBuffer)?, residual: (any DeviceBuffer)?, output: any DeviceBuffer, shape: OpenCLTunables.Shape
    ) throws {
        let program = try program(.causalConv1d)
        // Without a bias (or residual) the flag is off and the weight stands in, so the argument
        // is a valid buffer.
        let arguments: [KernelArgument] = [
            .buffer(input), .buffer(weight), .buffer(bias ?? weight), .int(d.hasBias ? 1 : 0), .buffer(output),
            .int(d.inputChannels), .int(d.outputChannels), .int(d.length), .int(d.kernelSize), .int(d.dilation),
            .int(d.groups), .buffer(residual ?? weight), .int(d.epilogue.hasResidual ? 1 : 0),
            .int(d.epilogue.activation.kernelCode), .int(d.epilogue.outputActivation.kernelCode),
        ]
        if shape == .gpu, let slice = gpuInputSlice(d) {
            let (channels, steps) = (tunables.convGPUChannels, tunables.convGPUSteps)
            let local = [steps, channels / tunables.convGPUChannelsPerItem, 1]
            let channelTiles = d.groups * ((d.outputsPerGroup + channels - 1) / channels)
            try launch(
                program, "conv_gpu", global: [(d.length + steps - 1) / steps * steps, channelTiles * local[1], d.batch],
                local: local,
                arguments + [
                    .int(slice), .localFloats(channels * slice * d.kernelSize), .localFloats(slice * (steps + d.history)),
                ])
            return
        }
        let (channels, steps) = (tunables.convCPUChannels, 16 * tunables.convCPUVectors)
        let channelTiles = d.groups * ((d.outputsPerGroup + channels - 1) / channels)
        let timeTiles = (d.length + steps - 1) / steps
        let span = cpuTimeSpan(d, channelTiles: channelTiles, timeTiles: timeTiles)
        try launch(
            program, "conv_cpu", global: [channelTiles, (timeTiles + span - 1) / span, d.batch], local: [1, 1, 1],
            arguments + [.int(span)])
    }

    /// Time tiles per `conv_cpu` work-item: enough for about `minimumWork` vector FMAs each (a
    /// depthwise tile is a few dozen, and PoCL's cost per work-item then outweighs it: B16, C128,
    /// L1024, K3 depthwise ran ~2x faster with whole rows per work-item), while leaving at least
    /// 16 work-items per compute unit.
    private func cpuTimeSpan(_ d: CausalConv1dDescriptor, channelTiles: Int, timeTiles: Int) -> Int {
        let minimumWork = 1024
        let tileWork = d.channelsPerGroup * d.kernelSize * min(tunables.convCPUChannels, d.outputsPerGroup)
            * tunables.convCPUVectors
        let balanced = channelTiles * timeTiles * d.batch / (16 * max(record.device.computeUnits, 1))
        return max(1, min((minimumWork + tileWork - 1) / tileWork, timeTiles, balanced))
    }

    /// The input channels `conv_gpu` stages per barrier pair: the tunable, halved until the weight
    /// tile and the input window fit the device's local memory; nil when one channel does not.
    private func gpuInputSlice(_ d: CausalConv1dDescriptor) -> Int? {
        let budget = record.localMemoryBytes / MemoryLayout<Float>.stride
        var slice = min(tunables.convGPUSlice, d.channelsPerGroup)
        while slice >= 1 {
            if slice * (tunables.convGPUChannels * d.kernelSize + tunables.convGPUSteps + d.history) <= budget {
                return slice
            }
            slice /= 2
        }
        return nil
    }
}
