import CBLAS

extension CPUBackend {
    /// The causal convolution (see ``CausalConv1dDescriptor``): input `[B, Cin, L]`, weight
    /// `[Cout, Cin/groups, K]`, bias `[Cout]` or none, output `[B, Cout, L]`.
    ///
    /// Groups with enough channels (always the case for `groups == 1`, the TCN layer) run as
    /// OpenBLAS GEMMs, one per tap with the tap's shift as a column offset
    /// (``causalConv1dGEMM(_:input:weight:bias:output:)``); narrow groups such as depthwise ones
    /// would make those GEMMs too small to pay for their packing and run as a direct vector loop
    /// (``causalConv1dDirect(_:input:weight:bias:output:)``).
    func causalConv1d(
        _ descriptor: CausalConv1dDescriptor, input: any DeviceBuffer, weight: any DeviceBuffer,
        bias: (any DeviceBuffer)?, output: any DeviceBuffer
    ) throws {
        let input = UnsafePointer(pointer(input)), weight = UnsafePointer(pointer(weight))
        let bias = bias.map { UnsafePointer(pointer($0)) }, output = pointer(output)
        if descriptor.usesGEMM {
            try causalConv1dGEMM(descriptor, input: input, weight: weight, bias: bias, output: output)
        } else {
            causalConv1dDirect(descriptor, input: input, weight: weight, bias: bias, output: output)
        }
    }

    /// For each batch element `b`, group `g` and tap `k`, with shift `s = (K-1-k)*d < L`:
    /// `Y[b, g][:, s..<L] += W_k[g] X[b, g][:, 0..<L-s]`, where `W_k` is `weight[:, :, k]` packed
    /// `[Cout, Cin/groups]`. The shift is only a column offset into X and Y, so the implicit
    /// zeros before the start are never stored. The unshifted tap `K-1` goes first with
    /// `beta = 0` and covers every column, so Y needs no clearing; the bias is added to each
    /// batch element while it is still in cache. OpenBLAS threads each product itself.
    func causalConv1dGEMM(
        _ d: CausalConv1dDescriptor, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) throws {
        let (length, taps, perGroup, outputsPerGroup) = (d.length, d.kernelSize, d.channelsPerGroup, d.outputsPerGroup)
        let packedBuffer = try allocate(count: taps * d.outputChannels * perGroup)
        let packed = pointer(packedBuffer)
        packCausalConv1dTaps(d, weight: weight, into: packed)
        // Taps whose shift reaches past the end see only zeros.
        let liveTaps = (0..<taps).filter { (taps - 1 - $0) * d.dilation < length }
        counters.recordLaunches(d.batch * d.groups * liveTaps.count + (bias == nil ? 0 : 1))
        for b in 0..<d.batch {
            for g in 0..<d.groups {
                let x = input + (b * d.inputChannels + g * perGroup) * length
                let y = output + (b * d.outputChannels + g * outputsPerGroup) * length
                for k in liveTaps.reversed() {
                    let shift = (taps - 1 - k) * d.dilation
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasNoTrans,
                        Int32(outputsPerGroup), Int32(length - shift), Int32(perGroup),
                        1, packed + (k * d.outputChannels + g * outputsPerGroup) * perGroup, Int32(perGroup),
                        x, Int32(length),
                        k == taps - 1 ? 0 : 1, y + shift, Int32(length))
                }
            }
            if let bias {
                let y = output + b * d.outputChannels * length
                for o in 0..<d.outputChannels {
                    let row = y + o * length, value = bias[o]
                    for t in 0..<length { row[t] += value }
                }
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
    /// Whether each group is wide enough for GEMMs. The direct loop does `Cin/groups * K` vector
    /// multiply-adds per 16 outputs without register blocking across channels, so it only wins
    /// when a group's products are too thin for OpenBLAS's packing to pay off.
    var usesGEMM: Bool {
        groups == 1 || (channelsPerGroup >= 16 && outputsPerGroup >= 16)
    }
}
