import TempoTestSupport
import Testing

@testable import TempoCompute

/// What is particular to the CPU recurrence: its thread team and its cache of packed weights.
@Suite("Recurrent sequence on the CPU", .serialized)
struct RecurrentSequenceCPUTests {
    @Test("one thread and two give the same numbers (the team splits units, not sums)")
    func threadCountIndependent() throws {
        let original = Device.cpuThreadCount
        defer { try? Device.setCPUThreadCount(original) }
        for cell in [RecurrentCell.lstm(peephole: true), .gru(.resetBeforeMatmul)] {
            let c = RecurrentCase(cell: cell, steps: 6, batch: 13, inputSize: 20, hiddenSize: 70, directions: 2)
            try Device.setCPUThreadCount(1)
            let single = try c.run(on: .cpu)
            try Device.setCPUThreadCount(2)
            let multi = try c.run(on: .cpu)
            // Each output is summed by one thread in the same order either way: bit for bit.
            #expect(try multi.output.values == single.output.values, "\(cell)")
            #expect(try multi.state.hidden.values == single.state.hidden.values, "\(cell)")
        }
    }

    @Test("sequences running at once on several tasks are each right")
    func concurrentSequences() async throws {
        let cases = (0..<6).map { index in
            RecurrentCase(
                cell: index.isMultiple(of: 2) ? .lstm() : .gru(.resetAfterMatmul), steps: 7, batch: 9,
                inputSize: 16, hiddenSize: 48, seed: UInt64(index + 1))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in cases {
                group.addTask {
                    for _ in 0..<5 {
                        let (output, _) = try c.run(on: .cpu)
                        expectClose(try output.values, c.reference().output, recurrentTolerance, "\(c)")
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("new weights are packed anew: the cache never serves stale panels")
    func cacheFollowsWeights() throws {
        // The same shapes and variant with different values, alternately, so a cache keyed on
        // anything but the weights themselves would return the other panels.
        let a = RecurrentCase(cell: .lstm(), steps: 3, batch: 2, inputSize: 5, hiddenSize: 17, seed: 11)
        let b = RecurrentCase(cell: .lstm(), steps: 3, batch: 2, inputSize: 5, hiddenSize: 17, seed: 12)
        for c in [a, b, a, b] {
            let (output, _) = try c.run(on: .cpu)
            expectClose(try output.values, c.reference().output, recurrentTolerance, "\(c)")
        }
        #expect(CPUBackend.shared.packedRecurrentWeights.bytes > 0)
        Device.cpu.releaseCachedMemory()
        #expect(CPUBackend.shared.packedRecurrentWeights.bytes == 0)
    }
}
