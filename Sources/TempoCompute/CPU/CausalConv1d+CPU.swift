import CBLAS
import CTempoCPU
import Synchronization

extension CPUBackend {
    /// The causal convolution (see ``CausalConv1dDescriptor``): input `[B, Cin, L]`, weight
    /// `[Cout, Cin/groups, K]`, bias `[Cout]` or none, output `[B, Cout, L]`.
    ///
    /// A TCN's convolution (`groups == 1`, K = 3, d a power of two up to 64) runs by Winograd's
    /// F(2,3) in C (``causalConv1dWinograd(_:input:weight:bias:output:)``, 2/3 of the FLOPs).
    /// Other groups with enough channels run as OpenBLAS GEMMs, one per tap with the tap's shift as a column offset
    /// (``causalConv1dGEMM(_:input:weight:bias:output:)``); depthwise groups, and narrow ones on
    /// short sequences, would make those GEMMs too small to pay for their calls and packing and
    /// run as a direct vector loop (``causalConv1dDirect(_:input:weight:bias:output:)``).
    func causalConv1d(
        _ descriptor: CausalConv1dDescriptor, input: any DeviceBuffer, weight: any DeviceBuffer,
        bias: (any DeviceBuffer)?, residual: (any DeviceBuffer)?, output: any DeviceBuffer
    ) throws {
        let weightBuffer = weight
        let input = UnsafePointer(pointer(input)), weight = UnsafePointer(pointer(weight))
        let bias = bias.map { UnsafePointer(pointer($0)) }, output = pointer(output)
        let residual = residual.map { UnsafePointer(pointer($0)) }
        if let winograd = CausalConv1dWinograd(descriptor, input: input, bias: bias, residual: residual, output: output) {
            try causalConv1dWinograd(winograd, weight: weightBuffer)
            return
        }
        if descriptor.usesGEMM {
            try causalConv1dGEMM(descriptor, input: input, weight: weight, bias: bias, output: output)
        } else {
            causalConv1dDirect(descriptor, input: input, weight: weight, bias: bias, output: output)
        }
        // These paths store plain sums; the epilogue is one more pass over the output.
        let epilogue = descriptor.epilogue
        if epilogue != .none {
            counters.recordLaunches(1)
            tempo_conv_epilogue(
                output, residual, descriptor.batch * descriptor.outputChannels * descriptor.length,
                epilogue.activation.cpuKernelActivation, epilogue.outputActivation.cpuKernelActivation,
                Int32(CPUThreads.count))
        }
    }

    /// For each batch element `b`, group `g` and tap `k`, with shift `s = (K-1-k)*d < L`:
    /// `Y[b, g][:, s..<L] += W_k[g] X[b, g][:, 0..<L-s]`, where `W_k` is `weight[:, :, k]` packed
    /// `[Cout, Cin/groups]`. The shift is only a column offset into X and Y, so the implicit
    /// zeros before the start are never stored. The unshifted tap `K-1` goes first with
    /// `beta = 0` and covers every column, so Y needs no clearing; the bias is added to each block
    /// while it is still in cache.
    ///
    /// The work is split into (batch element, block of steps) items that Tempo's threads share,
    /// each item calling single-threaded GEMMs: at B16 C128 L1024 K3 on 2 cores that measured
    /// ~6.3 ms against ~7.8 with OpenBLAS threading each [128, 128] x [128, 1024] product, whose
    /// split costs a thread hand-off per product and leaves the bias pass on one thread.
    func causalConv1dGEMM(
        _ d: CausalConv1dDescriptor, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) throws {
        let packedBuffer = try allocate(count: d.kernelSize * d.outputChannels * d.channelsPerGroup)
        let packed = UnsafePointer(pointer(packedBuffer))
        packCausalConv1dTaps(d, weight: weight, into: pointer(packedBuffer))
        let plan = CausalConv1dGEMMPlan(d, threads: CPUThreads.count)
        // Each GEMM, plus the bias loop as one.
        counters.recordLaunches(plan.gemmCount + (bias == nil ? 0 : 1))
        if plan.threads > 1 {
            // Each thread takes the next item when it is done with one, rather than a fixed share:
            // on a machine whose cores other processes also use, a fixed split waits for the
            // slowest thread.
            let next = Atomic<Int>(0)
            OpenBLASThreads.singleThreaded {
                CPUThreads.forEachChunk(of: plan.threads, grain: 1, alignment: 1) { _ in
                    while case let item = next.wrappingAdd(1, ordering: .relaxed).oldValue, item < plan.items {
                        plan.run(item: item, input: input, packed: packed, bias: bias, output: output)
                    }
                }
            }
        } else {
            // On this thread: OpenBLAS threads each product itself.
            for item in 0..<plan.items {
                plan.run(item: item, input: input, packed: packed, bias: bias, output: output)
            }
        }
        withExtendedLifetime(packedBuffer) {}
    }

    /// `packed[k][o][c] = weight[o][c][k]`: `[K, Cout, Cin/groups]`, so that each tap, and each
    /// group's rows within it, is a row-major matrix BLAS can read.
    private func packCausalConv1dTaps(
        _ d: CausalConv1dDescriptor, weight: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>
    ) {
        let (taps, perGroup) = (d.kernelSize, d.channelsPerGroup)
        let rows = d.outputChannels * perGroup
        for row in 0..<rows {
            let source = weight + row * taps
            for k in 0..<taps { packed[k * rows + row] = source[k] }
        }
    }
}

extension CausalConv1dDescriptor {
    /// Whether each group is wide enough for GEMMs. Measured at B16 C128 L1024 K3 with 2 threads,
    /// the GEMMs beat the direct loop from 2 channels per group on (groups 64: 0.9 ms against
    /// 1.5; groups 16: 1.15 against 3.0) and lose only for depthwise (1.1-1.6 ms against 0.95).
    /// For short sequences each GEMM is so small that its call costs more than its arithmetic,
    /// so narrow groups keep the direct loop there.
    var usesGEMM: Bool {
        let width = min(channelsPerGroup, outputsPerGroup)
        return groups == 1 || width >= 16 || (width >= 2 && length >= 256)
    }
}
