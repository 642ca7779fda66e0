import COpenCL

/// A `cl_mem` of (at least) `count` floats, given back when the last tensor holding it dies.
///
/// `@unchecked Sendable`: a `cl_mem` handle may be used from any thread (OpenCL API calls are
/// thread-safe apart from `clSetKernelArg` on one kernel object, which the kernel pool guards), and
/// the handle never changes. Releasing while kernels that use it are still queued is safe: OpenCL
/// frees the memory only after those commands finish.
final class OpenCLBuffer: DeviceBuffer, @unchecked Sendable {
    let count: Int
    let memory: cl_mem
    private let onRelease: @Sendable () -> Void

    /// Uses `memory` for `count` floats; `onRelease` gives it back (to the pool or the driver).
    init(memory: cl_mem, count: Int, onRelease: @escaping @Sendable () -> Void) {
        self.count = count
        self.memory = memory
        self.onRelease = onRelease
    }

    /// A new read-write `cl_mem` of `bytes` bytes.
    static func createMemory(context: cl_context, bytes: Int) throws -> cl_mem {
        var status: cl_int = CL_SUCCESS
        let memory = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status)
        try checkCL(status, "clCreateBuffer(\(bytes) bytes)")
        guard let memory else {
            throw TempoError.openCL(function: "clCreateBuffer(\(bytes) bytes)", status: "no buffer returned", code: status)
        }
        return memory
    }

    deinit {
        onRelease()
    }
}
