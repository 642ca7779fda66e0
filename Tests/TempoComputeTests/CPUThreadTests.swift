import Foundation
import TempoTestSupport
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

@Suite("OpenBLAS core")
struct OpenBLASCoreTests {
    /// Debian's OpenBLAS 0.3.21 names recent Xeons "Prescott" (SSE3) and runs 5x slower; Tempo must
    /// have corrected that before any GEMM.
    @Test("OpenBLAS runs kernels that use this CPU's vector units")
    func coreMatchesCPU() throws {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return }
        let flags = Set(line.split(separator: " ").map(String.init))
        let core = OpenBLASCore.name.lowercased()
        if flags.isSuperset(of: ["avx512f", "avx512dq", "avx512bw", "avx512vl"]) {
            #expect(["skylakex", "cooperlake", "sapphirerapids"].contains(core), "OpenBLAS core \(core)")
        } else if flags.isSuperset(of: ["avx2", "fma"]) {
            #expect(!["prescott", "core2", "nehalem", "katmai", "atom"].contains(core), "OpenBLAS core \(core)")
        }
        #expect(Device.cpu.driverVersion.lowercased().contains(core))
    }
}
