import TempoTestSupport
import Testing

@testable import TempoCompute

/// What is particular to the CPU convolution: its two paths (GEMMs per tap, direct loop), the
/// boundary between them, and its threads.
@Suite("Causal convolution on the CPU", .serialized)
struct CausalConv1dCPUTests {
    private func check(_ c: CausalConvCase, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let y = try c.run(on: .cpu)
        expectClose(try y.values, c.reference(), c.tolerance, "\(c)", sourceLocation: sourceLocation)
    }

    @Test("grouped GEMMs and the direct loop, on both sides of the widths that pick between them")
    func paths() throws {
        let cases: [(CausalConvCase, gemm: Bool)] = [
            // 16 channels per group: GEMMs per group at any length.
            (CausalConvCase(batch: 2, inputChannels: 48, outputChannels: 32, length: 70, kernelSize: 3, dilation: 3, groups: 2), true),
            // 15 per group on a short sequence: the direct loop.
            (CausalConvCase(batch: 2, inputChannels: 30, outputChannels: 30, length: 70, kernelSize: 3, dilation: 3, groups: 2), false),
            // 2 per group on a long one: GEMMs again.
            (CausalConvCase(batch: 2, inputChannels: 16, outputChannels: 16, length: 300, kernelSize: 3, dilation: 7, groups: 8), true),
            // Wide inputs, narrow outputs: the direct loop, with many channels per output.
            (CausalConvCase(batch: 2, inputChannels: 64, outputChannels: 8, length: 41, kernelSize: 4, dilation: 5, groups: 2, bias: false), false),
            // Depthwise and large enough to split across threads, L not a multiple of 16.
            (CausalConvCase(batch: 3, inputChannels: 96, outputChannels: 96, length: 517, kernelSize: 5, dilation: 8, groups: 96), false),
            // One sequence split into blocks of steps across threads, taps reaching back over blocks.
            (CausalConvCase(batch: 1, inputChannels: 32, outputChannels: 40, length: 1100, kernelSize: 3, dilation: 300), true),
            // A tap whose shift passes the end of the sequence is skipped on both paths.
            (CausalConvCase(batch: 1, inputChannels: 32, outputChannels: 32, length: 9, kernelSize: 3, dilation: 5), true),
            (CausalConvCase(batch: 1, inputChannels: 4, outputChannels: 4, length: 9, kernelSize: 3, dilation: 5, groups: 4), false),
        ]
        for (c, gemm) in cases {
            #expect(try CausalConv1dDescriptor.forCase(c).usesGEMM == gemm, "\(c)")
            try check(c)
        }
    }

    @Test("launches count the GEMMs actually called, skipping taps that reach past the end")
    func launches() throws {
        // Shifts 10, 5 and 0 with L = 9: two GEMMs per sequence, plus the bias loop.
        let c = CausalConvCase(batch: 2, inputChannels: 8, outputChannels: 8, length: 9, kernelSize: 3, dilation: 5)
        let input = try Tensor(shape: [2, 8, 9], values: c.x, device: .cpu)
        let weight = try Tensor(shape: [8, 8, 3], values: c.weight, device: .cpu)
        let bias = try Tensor(shape: [8], values: c.biasValues ?? [], device: .cpu)
        let (_, counts) = try Device.cpu.counting { try input.causalConv1d(weight: weight, bias: bias, dilation: 5) }
        #expect(counts.launches == 2 * 2 + 1)
    }

    @Test("one thread and two agree", arguments: [1, 64])
    func threadCountIndependent(groups: Int) throws {
        let original = Device.cpuThreadCount
        defer { try? Device.setCPUThreadCount(original) }
        let c = CausalConvCase(batch: 4, inputChannels: 64, outputChannels: 64, length: 300, kernelSize: 3, dilation: 4, groups: groups)
        try Device.setCPUThreadCount(1)
        let single = try c.run(on: .cpu).values
        try Device.setCPUThreadCount(2)
        let multi = try c.run(on: .cpu).values
        // OpenBLAS may split the sums differently with another thread count; the direct loop may not.
        if groups == 1 {
            expectClose(multi, single, c.tolerance, "\(c)")
        } else {
            #expect(multi == single, "\(c)")
        }
        expectClose(multi, c.reference(), c.tolerance, "\(c)")
    }

    @Test("Winograd F(2,3) (K 3, groups 1, d a power of two up to 64): every dilation, edge lengths and channel counts")
    func winograd() throws {
        // Lengths around the 128-step items (and below one), channel counts not multiples of the
        // 6-channel tiles, dilations from 1 to 64 (64 pairs are 128 steps for each).
        let shapes = [(1, 1, 1, 1), (2, 3, 7, 5), (1, 17, 13, 127), (3, 5, 6, 128), (2, 9, 11, 129), (1, 33, 64, 300)]
        for dilation in [1, 2, 4, 8, 16, 32, 64] {
            for (index, (batch, inputs, outputs, length)) in shapes.enumerated() {
                let c = CausalConvCase(
                    batch: batch, inputChannels: inputs, outputChannels: outputs, length: length, kernelSize: 3,
                    dilation: dilation, bias: index.isMultiple(of: 2))
                // One launch: the Winograd kernel, not a GEMM per tap.
                let (y, counts) = try Device.cpu.counting { try c.run(on: .cpu) }
                #expect(counts.launches == 1, "\(c)")
                expectClose(try y.values, c.reference(), c.tolerance, "\(c)")
            }
        }
        // Dilations that are not powers of two, or past 64, and other K keep the GEMMs.
        for (kernelSize, dilation) in [(3, 3), (3, 128), (2, 4)] {
            let c = CausalConvCase(batch: 1, inputChannels: 8, outputChannels: 8, length: 300, kernelSize: kernelSize, dilation: dilation)
            let (y, counts) = try Device.cpu.counting { try c.run(on: .cpu) }
            #expect(counts.launches > 1, "\(c)")
            expectClose(try y.values, c.reference(), c.tolerance, "\(c)")
        }
    }

    @Test("the Winograd transform of a weight is made once and kept while the weight lives")
    func winogradWeightKept() throws {
        Device.cpu.releaseCachedMemory()
        let x = try Tensor.normal([2, 16, 200], seed: 1, device: .cpu)
        let weight = try Tensor.normal([16, 16, 3], seed: 2, device: .cpu)
        let first = try x.causalConv1d(weight: weight, dilation: 2).values
        let kept = Device.cpu.cachedMemoryBytes
        let second = try x.causalConv1d(weight: weight, dilation: 2).values
        #expect(Device.cpu.cachedMemoryBytes == kept, "the second call made another transform")
        #expect(first == second)
        // A new weight tensor gets its own transform: a stale one would give the old numbers.
        let other = try Tensor.normal([16, 16, 3], seed: 3, device: .cpu)
        #expect(try x.causalConv1d(weight: other, dilation: 2).values != first)
    }

    @Test("convolutions running at once on several tasks are each right")
    func concurrent() async throws {
        let cases = (0..<4).map { index in
            CausalConvCase(
                batch: 2, inputChannels: 32, outputChannels: 32, length: 200, kernelSize: 3, dilation: 1 << index,
                groups: index.isMultiple(of: 2) ? 1 : 32)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in cases {
                group.addTask {
                    let expected = c.reference()
                    for _ in 0..<3 { expectClose(try c.run(on: .cpu).values, expected, c.tolerance, "\(c)") }
                }
            }
            try await group.waitForAll()
        }
    }
}

extension CausalConv1dDescriptor {
    /// The descriptor the front end builds for `c`, to check which path it takes.
    static func forCase(_ c: CausalConvCase) throws -> CausalConv1dDescriptor {
        try CausalConv1dDescriptor(
            input: try Tensor.zeros([c.batch, c.inputChannels, c.length]),
            weight: try Tensor.zeros([c.outputChannels, c.inputChannels / c.groups, c.kernelSize]),
            bias: nil, dilation: c.dilation, groups: c.groups)
    }
}
