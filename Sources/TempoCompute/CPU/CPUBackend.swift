import CBLAS
import Foundation
import Synchronization

/// Host memory for `count` floats, 64-byte aligned so that vector loads never split cache lines.
///
/// `@unchecked Sendable`: the pointer itself never changes, and the contents are written only by
/// the op that creates the tensor, before the tensor is handed out; after that they are only read.
final class CPUBuffer: DeviceBuffer, @unchecked Sendable {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>
    private let onRelease: @Sendable () -> Void

    /// Uses `pointer` for `count` floats; `onRelease` gives the memory back when the buffer dies.
    init(pointer: UnsafeMutablePointer<Float>, count: Int, onRelease: @escaping @Sendable () -> Void) {
        self.count = count
        self.pointer = pointer
        self.onRelease = onRelease
    }

    deinit {
        onRelease()
    }

    func elements(_ count: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: pointer, count: count)
    }

    func mutableElements(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }
}

/// The CPU backend: OpenBLAS for GEMM, vectorised Swift loops (``VectorMath``) for the rest, both
/// spread over ``Device/cpuThreadCount`` threads when the work is large enough to pay for it.
final class CPUBackend: Backend {
    static let shared = CPUBackend()

    let device = Device.cpu
    let counters = CounterRecorder(deviceID: Device.cpu.id)
    /// Freed blocks of 16 KiB and more, kept for reuse; smaller ones go back to malloc, which
    /// recycles them without page faults anyway.
    private let pool = BufferPool<UnsafeMutableRawPointer>(
        capacity: min(Int(clamping: ProcessInfo.processInfo.physicalMemory) / 8, 2 << 30), destroy: { free($0) })
    private static let smallestPooledBytes = 16 << 10
    /// Recurrent weights packed for `tempo_recurrent_sequence`.
    let packedRecurrentWeights = PreparedWeightCache<AlignedFloats>()
    /// Convolution weights packed for `tempo_conv_step` and transformed for `tempo_causal_conv`:
    /// one per layer of a TCN, so room for deep ones (a miss repacks the weight, which costs more
    /// than a step).
    let packedConvolutionWeights = PreparedWeightCache<AlignedFloats>(capacity: 64)

    private init() {
        // Before any BLAS call: OpenBLAS may need its core corrected (see OpenBLASCore).
        _ = OpenBLASCore.name
        OpenBLASThreads.limitSpinning()
        // OpenBLAS starts with its own idea of the thread count; align it with Tempo's.
        openblas_set_num_threads(Int32(clamping: CPUThreads.count))
    }

    var liveBufferCount: Int { counters.liveBuffers }

    /// Downcasts a buffer the front end has already checked to be on the CPU.
    @inline(__always)
    func pointer(_ buffer: any DeviceBuffer) -> UnsafeMutablePointer<Float> {
        // Front ends check devices before dispatch, so every buffer here is a CPUBuffer.
        unsafeDowncast(buffer as AnyObject, to: CPUBuffer.self).pointer
    }

    func allocate(count: Int) throws -> any DeviceBuffer {
        // At least one float, so that empty tensors have an address.
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let pooled = bytes >= Self.smallestPooledBytes
        let size = pooled ? BufferPool<UnsafeMutableRawPointer>.sizeClass(bytes) : bytes
        let memory: UnsafeMutableRawPointer
        if pooled, let reused = pool.take(sizeClass: size) {
            memory = reused
        } else {
            var raw: UnsafeMutableRawPointer?
            // 64-byte aligned so that vector loads never split cache lines.
            guard posix_memalign(&raw, 64, size) == 0, let raw else { throw TempoError.outOfMemory(bytes: size) }
            memory = raw
        }
        let recordRelease = counters.recordAllocation()
        // The closure owns the block: the buffer that holds it is its only user.
        let block = UncheckedSendable(memory)
        return CPUBuffer(pointer: memory.bindMemory(to: Float.self, capacity: size / 4), count: count) { [pool] in
            if pooled { pool.give(block.value, sizeClass: size) } else { free(block.value) }
            recordRelease()
        }
    }

    func releaseCachedMemory() {
        pool.trim()
        packedRecurrentWeights.removeAll()
        packedConvolutionWeights.removeAll()
    }

    var cachedMemoryBytes: Int { pool.cachedBytes + packedRecurrentWeights.bytes + packedConvolutionWeights.bytes }

    func upload(_ values: UnsafeBufferPointer<Float>, to buffer: any DeviceBuffer) throws {
        guard let source = values.baseAddress, !values.isEmpty else { return }
        pointer(buffer).update(from: source, count: values.count)
    }

    func download(_ buffer: any DeviceBuffer, into values: UnsafeMutableBufferPointer<Float>) throws {
        guard let destination = values.baseAddress, !values.isEmpty else { return }
        destination.update(from: pointer(buffer), count: values.count)
    }

    func copy(_ source: any DeviceBuffer, to destination: any DeviceBuffer, count: Int) throws {
        counters.recordLaunches()
        pointer(destination).update(from: pointer(source), count: count)
    }

    func fill(_ buffer: any DeviceBuffer, with value: Float, count: Int) throws {
        counters.recordLaunches()
        pointer(buffer).update(repeating: value, count: count)
    }

    /// CPU work is synchronous: nothing is ever pending.
    func synchronize() throws {}
}
