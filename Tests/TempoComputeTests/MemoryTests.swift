import Foundation
import Synchronization
import TempoTestSupport
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

@Suite("Buffer pool")
struct BufferPoolTests {
    @Test("size classes are at most 1/8 apart and never smaller than asked")
    func sizeClasses() {
        for bytes in [1, 4095, 4096, 4097, 65_536, 65_537, 100_000, 1 << 20, (1 << 20) + 1, 123_456_789] {
            let size = BufferPool<Int>.sizeClass(bytes)
            #expect(size >= bytes)
            #expect(size % 4096 == 0)
            #expect(Double(size) <= Double(bytes) * 1.125 + 4096)
        }
    }

    @Test("a freed block is reused for the next tensor of its size", arguments: TestDevices.all)
    func reuse(device: Device) throws {
        // A size no other test uses, so that the reuse observed is this test's own.
        let shape = [1, 262_147]
        do { _ = try Tensor(shape: shape, repeating: 1, device: device) }
        #expect(device.cachedMemoryBytes >= 262_147 * 4)
        // Reused memory holds the old values until written: every op writes its whole output.
        let reused = try Tensor.zeros(shape, device: device)
        #expect(try reused.values.allSatisfy { $0 == 0 })
        // Releasing is checked on a pool of its own (below): other tests run in parallel and
        // refill this device's caches at any moment. Here: memory after a release still works.
        device.releaseCachedMemory()
        #expect(try Tensor(shape: shape, repeating: 2, device: device).values.allSatisfy { $0 == 2 })
    }

    @Test("the pool keeps no more than its capacity and frees the rest")
    func capacity() {
        let freed = Mutex<[Int]>([])
        let pool = BufferPool<Int>(capacity: 8192) { block in freed.withLock { $0.append(block) } }
        pool.give(1, sizeClass: 4096)
        pool.give(2, sizeClass: 4096)
        pool.give(3, sizeClass: 4096)   // over capacity: freed at once
        #expect(pool.cachedBytes == 8192)
        #expect(freed.withLock { $0 } == [3])
        #expect(pool.take(sizeClass: 4096) == 2)   // the block is the caller's now
        #expect(pool.take(sizeClass: 8192) == nil)
        pool.trim()
        #expect(pool.cachedBytes == 0)
        #expect(freed.withLock { $0.sorted() } == [1, 3])
    }
}
