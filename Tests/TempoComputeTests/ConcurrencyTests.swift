import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("Concurrency")
struct ConcurrencyTests {
    /// Many tasks share one context and queue per device; each launch borrows its own kernel
    /// object. Every task must get exactly the sequential answer.
    @Test("concurrent ops on one device give the sequential results", arguments: TestDevices.all)
    func concurrentOps(device: Device) async throws {
        func work(_ seed: UInt64) throws -> [Float] {
            let a = try Tensor.normal([17, 33], seed: seed, device: device)
            let b = try Tensor.normal([33, 9], seed: seed + 1, device: device)
            let h = try a.matmul(b).addingBias(Tensor.normal([9], seed: seed + 2, device: device)).tanh()
            return try Tensor.concatenate([h.softmax(), h.layerNorm()], axis: 1).matrixTransposed().values
        }
        let expected = try (0..<16).map { try work(UInt64($0) * 10) }
        let results = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for index in 0..<16 {
                group.addTask { (index, try work(UInt64(index) * 10)) }
            }
            var results = [[Float]](repeating: [], count: 16)
            for try await (index, values) in group { results[index] = values }
            return results
        }
        #expect(results == expected)
    }

    @Test("first use of every device from many tasks at once", arguments: TestDevices.all)
    func concurrentFirstUse(device: Device) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<8 {
                group.addTask {
                    let x = try Tensor(shape: [4], values: [1, 2, 3, Float(index)], device: device)
                    #expect(try x.relu().values == [1, 2, 3, Float(index)])
                }
            }
            try await group.waitForAll()
        }
    }
}
