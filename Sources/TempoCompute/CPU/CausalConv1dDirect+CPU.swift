extension CPUBackend {
    /// The causal convolution as a direct loop, for narrow groups (depthwise and the like):
    /// input `[B, Cin, L]`, weight `[Cout, Cin/groups, K]`, bias `[Cout]` or nil, output
    /// `[B, Cout, L]`.
    ///
    /// Each output row `(b, o)` is computed 32 steps at a time in two `SIMD16` accumulators that
    /// stay in registers across all `Cin/groups * K` products, so the row is stored once. Rows
    /// are independent and split across threads.
    func causalConv1dDirect(
        _ d: CausalConv1dDescriptor, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        counters.recordLaunches()
        let rows = d.batch * d.outputChannels
        // About 32k multiply-adds per thread at least, or starting threads costs more than it saves.
        let grain = max((1 << 15) / max(d.length * d.channelsPerGroup * d.kernelSize, 1), 1)
        CPUThreads.forEachChunk(of: rows, grain: grain, alignment: 1) { range in
            for row in range {
                let b = row / d.outputChannels, o = row % d.outputChannels
                let group = o / d.outputsPerGroup
                CausalConv1dRow(
                    x: input + (b * d.inputChannels + group * d.channelsPerGroup) * d.length,
                    weight: weight + o * d.channelsPerGroup * d.kernelSize,
                    bias: bias?[o] ?? 0, length: d.length, channels: d.channelsPerGroup,
                    taps: d.kernelSize, dilation: d.dilation
                ).compute(into: output + row * d.length)
            }
        }
    }
}

/// One output row of the direct loop: `y[t] = bias + sum_c sum_k w[c, k] * x[c, t - (K-1-k)*d]`.
struct CausalConv1dRow {
    /// The group's first input channel, `[Cin/groups, L]`.
    var x: UnsafePointer<Float>
    /// This output's weights, `[Cin/groups, K]`.
    var weight: UnsafePointer<Float>
    var bias: Float
    var length: Int
    var channels: Int
    var taps: Int
    var dilation: Int

    func compute(into y: UnsafeMutablePointer<Float>) {
        var t = 0
        while t < length {
            var low = SIMD16<Float>(repeating: bias), high = low
            for c in 0..<channels {
                let row = x + c * length, w = weight + c * taps
                for k in 0..<taps {
                    let start = t - (taps - 1 - k) * dilation
                    // Every lane of both vectors before the start: the tap adds nothing here.
                    guard start + 32 > 0 else { continue }
                    let scale = SIMD16<Float>(repeating: w[k])
                    low += scale * load(row, from: start)
                    high += scale * load(row, from: start + 16)
                }
            }
            store(low, y, at: t)
            store(high, y, at: t + 16)
            t += 32
        }
    }

    /// `x[start ..< start+16]` with zeros outside `0..<length`: the implicit causal padding and
    /// the end of the row.
    @inline(__always)
    private func load(_ row: UnsafePointer<Float>, from start: Int) -> SIMD16<Float> {
        if start >= 0 && start + 16 <= length {
            return UnsafeRawPointer(row + start).loadUnaligned(as: SIMD16<Float>.self)
        }
        var v = SIMD16<Float>()
        for lane in 0..<16 where start + lane >= 0 && start + lane < length { v[lane] = row[start + lane] }
        return v
    }

    @inline(__always)
    private func store(_ v: SIMD16<Float>, _ y: UnsafeMutablePointer<Float>, at start: Int) {
        if start + 16 <= length {
            UnsafeMutableRawPointer(y + start).storeBytes(of: v, as: SIMD16<Float>.self)
        } else {
            for lane in 0..<16 where start + lane < length { y[start + lane] = v[lane] }
        }
    }
}
