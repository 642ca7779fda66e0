import Foundation

/// Device allocations kept after their tensors die, for the next tensor of the same size class.
///
/// Every op returns a new tensor, so a model allocates the same sizes over and over (each step of
/// a sequence, each repetition of a benchmark). Fresh host memory costs a page fault per 4 KiB on
/// first touch, which made memory-bound CPU ops 2-3x slower than the loops themselves
/// (tempo-bench: tanh over 16M floats 33 ms fresh vs 11 ms reused); `clCreateBuffer` costs tens of
/// microseconds on GPU drivers. The pool hands back a block of the same size class instead.
///
/// Sizes are rounded up to classes at most 1/8 apart, so near sizes share blocks at <= 12.5%
/// waste. The pool holds at most `capacity` bytes; a block that does not fit is freed at once.
/// Reusing an OpenCL buffer whose last kernel may still be queued is safe because every
/// backend has a single in-order queue: the new owner's work runs after the old owner's.
final class BufferPool<Handle>: @unchecked Sendable {
    // `@unchecked Sendable`: `blocks` and `bytes` are only touched under `lock`, and a handle in
    // the pool belongs to no tensor, so no other thread can be using it. (An NSLock rather than a
    // Mutex: handles such as cl_mem are not Sendable, and the lock is what makes moving them sound.)
    private let lock = NSLock()
    private var blocks: [Int: [Handle]] = [:]
    private var bytes = 0
    let capacity: Int
    private let destroy: (Handle) -> Void

    /// - Parameters:
    ///   - capacity: the most bytes kept.
    ///   - destroy: frees a block for good.
    init(capacity: Int, destroy: @escaping (Handle) -> Void) {
        self.capacity = capacity
        self.destroy = destroy
    }

    deinit {
        trim()
    }

    /// The allocation size for `bytes`: multiples of 4 KiB up to 64 KiB, then eight classes per
    /// power of two.
    static func sizeClass(_ bytes: Int) -> Int {
        let page = 4096
        guard bytes > 16 * page else { return max((bytes + page - 1) / page * page, page) }
        let step = 1 << (Int.bitWidth - bytes.leadingZeroBitCount - 1 - 3)   // 1/8 of the power of two below
        return (bytes + step - 1) / step * step
    }

    /// A cached block of exactly `sizeClass` bytes, if there is one.
    func take(sizeClass: Int) -> Handle? {
        lock.withLock {
            guard let block = blocks[sizeClass]?.popLast() else { return nil }
            bytes -= sizeClass
            return block
        }
    }

    /// Keeps `block` for reuse, or frees it when the pool is full.
    func give(_ block: Handle, sizeClass: Int) {
        let kept = lock.withLock { () -> Bool in
            guard bytes + sizeClass <= capacity else { return false }
            blocks[sizeClass, default: []].append(block)
            bytes += sizeClass
            return true
        }
        if !kept { destroy(block) }
    }

    /// Bytes held for reuse now.
    var cachedBytes: Int { lock.withLock { bytes } }

    /// Frees every cached block.
    func trim() {
        let released = lock.withLock { () -> [Handle] in
            defer { (blocks, bytes) = ([:], 0) }
            return blocks.values.flatMap { $0 }
        }
        released.forEach(destroy)
    }
}

extension Device {
    /// Frees the memory this device keeps for reuse by new tensors (memory of live tensors is
    /// untouched). Tempo keeps recently freed blocks because fresh memory costs page faults (CPU)
    /// or driver calls (OpenCL); the cache is bounded, so calling this is only needed to hand
    /// memory back to the system between phases of a program.
    public func releaseCachedMemory() {
        (try? backend())?.releaseCachedMemory()
    }

    /// Bytes this device keeps cached for reuse (see ``releaseCachedMemory()``).
    public var cachedMemoryBytes: Int {
        (try? backend())?.cachedMemoryBytes ?? 0
    }
}
