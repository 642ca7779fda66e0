import CBLAS

/// How the GEMM path of the causal convolution splits its work: items are (batch element, block
/// of output steps), each computing every group and tap for its block of `[B, Cout, L]`.
struct CausalConv1dGEMMPlan: Sendable {
    let descriptor: CausalConv1dDescriptor
    /// Blocks of steps per sequence, each `blockLength` long (the last one shorter).
    let blocks: Int
    let blockLength: Int
    /// Threads worth starting: each gets about 4 MFLOP at least, below which a team's start-up is
    /// a large share of the time.
    let threads: Int

    var items: Int { descriptor.batch * blocks }

    /// The GEMMs ``run(item:input:packed:bias:output:)`` calls over all items: taps that reach
    /// no column of a block are skipped.
    var gemmCount: Int {
        let d = descriptor
        var perSequence = 0
        for block in 0..<blocks {
            let start = block * blockLength, end = min(start + blockLength, d.length)
            for k in 0..<d.kernelSize where max(start, (d.kernelSize - 1 - k) * d.dilation) < end { perSequence += 1 }
        }
        return d.batch * d.groups * perSequence
    }

    init(_ d: CausalConv1dDescriptor, threads available: Int) {
        descriptor = d
        // Whole sequences while there are at least 4 per thread (so that the threads finish
        // close together); otherwise blocks of steps, but not so short that each GEMM is too
        // thin to run at full speed.
        let wanted = (4 * available + d.batch - 1) / d.batch
        blocks = max(1, min(wanted, d.length / 256))
        blockLength = (d.length + blocks - 1) / blocks
        let flopsPerItem = max(Int(d.flops) / (d.batch * blocks), 1)
        let grain = max(1, (1 << 22) / flopsPerItem)
        threads = min(available, d.batch * blocks / grain)
    }

    /// One item: every group and tap for one block of steps of one batch element, on the calling
    /// thread.
    func run(
        item: Int, input: UnsafePointer<Float>, packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>
    ) {
        let d = descriptor
        let (length, taps, perGroup, outputsPerGroup) = (d.length, d.kernelSize, d.channelsPerGroup, d.outputsPerGroup)
        let b = item / blocks
        let start = (item % blocks) * blockLength, end = min(start + blockLength, length)
        guard start < end else { return }
        for g in 0..<d.groups {
            let x = input + (b * d.inputChannels + g * perGroup) * length
            let y = output + (b * d.outputChannels + g * outputsPerGroup) * length
            // Tap K-1 (no shift) first, writing every column of the block with beta = 0.
            for k in (0..<taps).reversed() {
                let shift = (taps - 1 - k) * d.dilation
                // Columns before `shift` see only zeros through this tap.
                let first = max(start, shift)
                guard first < end else { continue }
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    Int32(outputsPerGroup), Int32(end - first), Int32(perGroup),
                    1, packed + (k * d.outputChannels + g * outputsPerGroup) * perGroup, Int32(perGroup),
                    x + (first - shift), Int32(length),
                    k == taps - 1 ? 0 : 1, y + first, Int32(length))
            }
        }
        if let bias {
            let y = output + b * d.outputChannels * length
            for o in 0..<d.outputChannels {
                let row = y + o * length, value = bias[o]
                for t in start..<end { row[t] += value }
            }
        }
    }
}

extension OpenBLASThreads {
    /// Runs `body` with OpenBLAS on one thread, for callers that run GEMMs on a team of their own.
    ///
    /// OpenBLAS 0.3.21 has no per-call thread count, and threaded level-3 calls made from several
    /// threads at once take turns on one lock, each using every worker: a team calling threaded
    /// GEMMs would run them one after the other. Ops running GEMMs at the same moment on other
    /// threads run them single-threaded meanwhile: slower, never wrong. When two such teams
    /// overlap, the first to finish restores the count early and the other's GEMMs take turns
    /// again: also only slower.
    static func singleThreaded(_ body: () -> Void) {
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(clamping: CPUThreads.count)) }
        body()
    }
}
