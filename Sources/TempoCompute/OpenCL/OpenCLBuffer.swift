import COpenCL

/// A `cl_mem` of `count` floats, released when the last tensor holding it dies.
///
/// `@unchecked Sendable`: a `cl_mem` handle may be used from any thread (OpenCL API calls are
/// thread-safe apart from `clSetKernelArg` on one kernel object, which the kernel pool guards), and
/// the handle never changes. Releasing while kernels that use it are still queued is safe: OpenCL
/// frees the memory only after those commands finish.
final class OpenCLBuffer: DeviceBuffer, @unchecked Sendable {
    let count: Int
    let memory: cl_mem
    private let onRelease: @Sendable () -> Void

    /// Takes ownership of `memory` (one reference, released in deinit).
    init(memory: cl_mem, count: Int, onRelease: @escaping @Sendable () -> Void) {
        self.count = count
        self.memory = memory
        self.onRelease = onRelease
    }

    /// A new read-write `cl_mem` for `count` floats.
    static func createMemory(context: cl_context, count: Int) throws -> cl_mem {
        var status: cl_int = CL_SUCCESS
        // A zero-sized cl_mem is invalid; empty tensors get one unused float.
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let memory = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status)
        try checkCL(status, "clCreateBuffer(\(bytes) bytes)")
        guard let memory else {
            throw TempoError.openCL(function: "clCreateBuffer(\(bytes) bytes)", status: "no buffer returned", code: status)
        }
        return memory
    }

    deinit {
        clReleaseMemObject(memory)
        onRelease()
    }
}
