import CBLAS
import Dispatch
import Foundation
import Synchronization

/// The CPU backend's thread count, shared by OpenBLAS and Tempo's own loops.
enum CPUThreads {
    private static let current = Atomic<Int>(defaultCount)

    static var defaultCount: Int { max(ProcessInfo.processInfo.activeProcessorCount, 1) }

    static var count: Int { current.load(ordering: .relaxed) }

    static func set(_ threads: Int) {
        current.store(threads, ordering: .relaxed)
        openblas_set_num_threads(Int32(clamping: threads))
    }

    /// Runs `body` over `0..<count` split into contiguous chunks, on up to `count` threads, once
    /// each chunk has at least `grain` items: below that, starting threads costs more than it saves.
    /// Chunk boundaries are multiples of `alignment`, so SIMD loops see whole vectors except at the end.
    static func forEachChunk(
        of total: Int, grain: Int, alignment: Int = 16, _ body: (Range<Int>) -> Void
    ) {
        let threads = min(count, total / max(grain, 1))
        guard threads > 1 else {
            if total > 0 { body(0..<total) }
            return
        }
        let perThread = (total + threads - 1) / threads
        let chunk = (perThread + alignment - 1) / alignment * alignment
        withoutActuallyEscaping(body) { body in
            // concurrentPerform returns only after every iteration has run, so `body` does not
            // outlive this call, and the iterations work on disjoint ranges.
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: threads) { index in
                let start = index * chunk
                let end = min(start + chunk, total)
                if start < end { shared.value(start..<end) }
            }
        }
    }
}

extension Device {
    /// Threads the CPU device uses, for OpenBLAS and for Tempo's own loops alike. Defaults to every
    /// active core.
    ///
    /// - Throws: ``TempoError/invalidArgument(argument:expected:actual:)`` for a count below 1.
    public static func setCPUThreadCount(_ threads: Int) throws {
        guard threads >= 1 else {
            throw TempoError.invalidArgument(argument: "threads", expected: "at least 1", actual: "\(threads)")
        }
        // Make sure OpenBLAS has been configured once before overriding.
        _ = CPUBackend.shared
        CPUThreads.set(threads)
    }

    /// The current CPU thread count (see ``setCPUThreadCount(_:)``).
    public static var cpuThreadCount: Int { CPUThreads.count }
}

/// Carries a value across a `@Sendable` boundary whose safety the compiler cannot see; each use
/// says why it is sound.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
