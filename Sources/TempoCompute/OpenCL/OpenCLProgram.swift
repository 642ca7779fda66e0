import COpenCL
import Synchronization

/// A built OpenCL program and a pool of its `cl_kernel` objects.
///
/// `clSetKernelArg` is not thread-safe on one kernel object, and creating a kernel per launch costs
/// more than the launch itself on fast drivers. So each launch borrows a kernel object from the pool,
/// sets its arguments, enqueues it (after which OpenCL no longer needs the arguments) and returns it.
final class OpenCLProgram: @unchecked Sendable {
    // `@unchecked Sendable`: the program handle is immutable and thread-safe to use; the mutable
    // kernel pool is behind a Mutex.
    let name: String
    let program: cl_program
    /// Whether the program came from the on-disk binary cache (for tests and diagnostics).
    let loadedFromDiskCache: Bool
    private let idleKernels = Mutex<[String: [PooledKernel]]>([:])

    /// A kernel object in the pool. `@unchecked Sendable`: the pool hands each one to a single
    /// borrower at a time, so no two threads ever set its arguments at once.
    private struct PooledKernel: @unchecked Sendable {
        let handle: cl_kernel
    }

    init(name: String, program: cl_program, loadedFromDiskCache: Bool) {
        self.name = name
        self.program = program
        self.loadedFromDiskCache = loadedFromDiskCache
    }

    deinit {
        idleKernels.withLock { pool in
            for kernels in pool.values { for kernel in kernels { clReleaseKernel(kernel.handle) } }
        }
        clReleaseProgram(program)
    }

    /// Runs `body` with a kernel object for `kernelName` that no other thread is using.
    func withKernel<Result>(_ kernelName: String, _ body: (cl_kernel) throws -> Result) throws -> Result {
        let kernel = try idleKernels.withLock { pool -> PooledKernel in
            if let kernel = pool[kernelName]?.popLast() { return kernel }
            var status: cl_int = CL_SUCCESS
            let kernel = clCreateKernel(program, kernelName, &status)
            try checkCL(status, "clCreateKernel(\(name).\(kernelName))")
            guard let kernel else {
                throw TempoError.openCL(function: "clCreateKernel(\(name).\(kernelName))", status: "no kernel", code: status)
            }
            return PooledKernel(handle: kernel)
        }
        defer { idleKernels.withLock { $0[kernelName, default: []].append(kernel) } }
        return try body(kernel.handle)
    }
}

/// One kernel argument, in the order the kernel declares them.
enum KernelArgument {
    case buffer(any DeviceBuffer)
    case int(Int)
    /// A `uint` argument (bit patterns such as random keys).
    case uint(UInt32)
    case float(Float)
    /// `__local float[count]`, sized at launch.
    case localFloats(Int)

    func set(on kernel: cl_kernel, index: Int, kernelName: String) throws {
        let status: cl_int
        switch self {
        case .buffer(let buffer):
            // Front ends check devices before dispatch, so every buffer here is an OpenCLBuffer.
            var memory: cl_mem? = unsafeDowncast(buffer as AnyObject, to: OpenCLBuffer.self).memory
            status = clSetKernelArg(kernel, cl_uint(index), MemoryLayout<cl_mem>.size, &memory)
        case .int(let value):
            guard let narrow = cl_int(exactly: value) else {
                throw TempoError.invalidArgument(
                    argument: "\(kernelName) argument \(index)", expected: "a value that fits in 32 bits", actual: "\(value)")
            }
            var int = narrow
            status = clSetKernelArg(kernel, cl_uint(index), MemoryLayout<cl_int>.size, &int)
        case .uint(let value):
            var uint = value
            status = clSetKernelArg(kernel, cl_uint(index), MemoryLayout<cl_uint>.size, &uint)
        case .float(let value):
            var float = value
            status = clSetKernelArg(kernel, cl_uint(index), MemoryLayout<Float>.size, &float)
        case .localFloats(let count):
            status = clSetKernelArg(kernel, cl_uint(index), max(count, 1) * MemoryLayout<Float>.size, nil)
        }
        try checkCL(status, "clSetKernelArg(\(kernelName), \(index))")
    }
}
