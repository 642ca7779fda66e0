import Testing

@testable import TempoCompute

@Suite("CPU threads", .serialized)
struct CPUThreadTests {
    @Test("results do not depend on the thread count")
    func threadCountIndependent() throws {
        let original = Device.cpuThreadCount
        defer { try? Device.setCPUThreadCount(original) }
        func run() throws -> [[Float]] {
            let a = try Tensor.normal([200, 300], seed: 1)
            let big = try Tensor.normal([300_000], seed: 2)
            return [
                try a.matmul(a, transposeOther: true).values,
                try big.tanh().values,
                try a.softmax().values,
                try a.layerNorm().values,
                try a.matrixTransposed().values,
            ]
        }
        try Device.setCPUThreadCount(1)
        #expect(Device.cpuThreadCount == 1)
        let single = try run()
        try Device.setCPUThreadCount(2)
        let multi = try run()
        // GEMM may split K differently across threads; everything else is elementwise or per row.
        expectClose(multi[0], single[0], gemmTolerance(k: 300), "gemm 1 vs 2 threads")
        for index in 1..<single.count { #expect(multi[index] == single[index]) }
    }

    @Test("a thread count below one throws")
    func invalid() {
        expectTempoError(containing: ["`threads`", "at least 1", "0"]) { try Device.setCPUThreadCount(0) }
    }
}
