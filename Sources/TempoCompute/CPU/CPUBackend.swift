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

    /// Takes ownership of `pointer`, which must come from `posix_memalign` (it is `free`d).
    init(pointer: UnsafeMutablePointer<Float>, count: Int, onRelease: @escaping @Sendable () -> Void) {
        self.count = count
        self.pointer = pointer
        self.onRelease = onRelease
    }

    /// 64-byte aligned memory for `count` floats (at least one, so that empty tensors have an address).
    static func allocateMemory(count: Int) throws -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            throw TempoError.outOfMemory(bytes: bytes)
        }
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit {
        free(pointer)
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

    private init() {
        // Before any BLAS call: OpenBLAS may need its core corrected (see OpenBLASCore).
        _ = OpenBLASCore.name
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
        let memory = try CPUBuffer.allocateMemory(count: count)
        return CPUBuffer(pointer: memory, count: count, onRelease: counters.recordAllocation())
    }

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
