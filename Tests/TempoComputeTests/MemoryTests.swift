import Foundation
import Testing

@testable import TempoCompute

@Suite("Memory")
struct MemoryTests {
    /// Resident set size from /proc, in bytes.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test("10,000 create/drop cycles release every buffer", arguments: TestDevices.all)
    func noLeak(device: Device) throws {
        let before = Self.residentBytes()
        let (_, counts) = try device.counting {
            for cycle in 0..<10_000 {
                // 16K floats (64 KiB) each: 10,000 leaked would be 640 MB, hard to miss.
                let x = try Tensor(shape: [16_384], repeating: Float(cycle), device: device)
                let y = try x.scaled(by: 2)
                if cycle % 1000 == 0 { #expect(try y.values[0] == Float(2 * cycle)) }
            }
            try device.synchronize()
        }
        #expect(counts.buffersAllocated == 20_000)
        #expect(counts.buffersReleased == counts.buffersAllocated)
        // Allocators keep some memory around; a leak would be ~1.3 GB here.
        let growth = Self.residentBytes() - before
        #expect(growth < 200 << 20, "resident memory grew by \(growth >> 20) MiB")
    }

    @Test("a failing op releases what it allocated", arguments: TestDevices.all)
    func failuresDoNotLeak(device: Device) throws {
        let a = try Tensor.zeros([2, 3], device: device)
        let (_, counts) = device.counting {
            for _ in 0..<100 { _ = try? a.matmul(Tensor.zeros([4, 5], device: device)) }
        }
        #expect(counts.buffersReleased == counts.buffersAllocated)
    }

    @Test("scratch buffers (GEMM's packed panels) are released too", .needsOpenCL)
    func scratchReleased() throws {
        for device in TestDevices.openCL {
            let a = try Tensor.normal([33, 65], seed: 1, device: device)
            let (_, counts) = try device.counting {
                for _ in 0..<50 { _ = try a.matmul(a, transposeOther: true) }
                try device.synchronize()
            }
            #expect(counts.buffersReleased == counts.buffersAllocated)
        }
    }
}
