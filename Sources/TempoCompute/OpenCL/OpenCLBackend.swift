import COpenCL
import Foundation
import Synchronization
import TempoKernels

/// The OpenCL backend of one device: one context, one in-order queue, built programs, buffers.
///
/// `@unchecked Sendable`: the context, queue and device handles are immutable and OpenCL allows
/// them on any thread (all API calls except `clSetKernelArg` on a shared kernel object are
/// thread-safe; see ``OpenCLProgram``). The mutable state, the program cache, is behind a Mutex.
/// The queue is in order, so work submitted from several threads runs in submission order and a
/// blocking read sees every write enqueued before it.
final class OpenCLBackend: Backend, @unchecked Sendable {
    let device: Device
    let record: OpenCLDeviceRecord
    let context: cl_context
    let queue: cl_command_queue
    let counters: CounterRecorder
    /// Kernel shapes and `-D` tunables for this device.
    let tunables: OpenCLTunables
    private let programs = Mutex<[ProgramKey: OpenCLProgram]>([:])
    /// Freed buffers kept for reuse: up to a quarter of the device's memory, at most 1 GiB.
    private let pool: BufferPool<cl_mem>
    /// Recurrent weights packed by `rec_pack`, kept while the weights live.
    let packedRecurrentWeights = PreparedWeightCache<RecurrentPackedWeights>()
    /// Convolution step weights packed by `conv_step_pack`: one per layer of a streaming TCN.
    let packedConvolutionWeights = PreparedWeightCache<PackedWeight>(capacity: 64)

    /// The tunables' options are a function of the file name, so the name and any extra options
    /// identify a program; keeping the full option string out of the key keeps the per-launch
    /// lookup cheap.
    private struct ProgramKey: Hashable {
        let name: String
        let extraOptions: String
    }

    // MARK: Registry: one backend per device per process

    private static let registry = Mutex<[String: OpenCLBackend]>([:])

    static func backend(for device: Device) throws -> OpenCLBackend {
        try registry.withLock { backends in
            if let backend = backends[device.id] { return backend }
            guard let index = device.openCLIndex, OpenCLDiscovery.shared.devices.indices.contains(index) else {
                throw TempoError.unknownDevice(requested: device.id, available: Device.available.map(\.id))
            }
            let backend = try OpenCLBackend(record: OpenCLDiscovery.shared.devices[index])
            backends[device.id] = backend
            return backend
        }
    }

    private init(record: OpenCLDeviceRecord) throws {
        self.record = record
        device = record.device
        counters = CounterRecorder(deviceID: record.device.id)
        tunables = OpenCLTunables(record: record)

        var status: cl_int = CL_SUCCESS
        var deviceID: cl_device_id? = record.deviceID
        let context = clCreateContext(nil, 1, &deviceID, nil, nil, &status)
        try checkCL(status, "clCreateContext(\(record.device.name))")
        guard let context else {
            throw TempoError.openCL(function: "clCreateContext", status: "no context returned", code: status)
        }
        let queue = clCreateCommandQueue(context, record.deviceID, 0, &status)
        if status != CL_SUCCESS { clReleaseContext(context) }
        try checkCL(status, "clCreateCommandQueue(\(record.device.name))")
        guard let queue else {
            clReleaseContext(context)
            throw TempoError.openCL(function: "clCreateCommandQueue", status: "no queue returned", code: status)
        }
        self.context = context
        self.queue = queue
        pool = BufferPool(capacity: min(record.device.memoryBytes / 4, 1 << 30), destroy: { clReleaseMemObject($0) })
    }

    deinit {
        pool.trim()
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
    }

    var liveBufferCount: Int { counters.liveBuffers }

    // MARK: Programs

    /// The program built from `source` with this device's tunables (plus `extraOptions`), built
    /// on first use and kept for the life of the process.
    func program(_ source: KernelSource, extraOptions: String = "") throws -> OpenCLProgram {
        let key = ProgramKey(name: source.name, extraOptions: extraOptions)
        // Holding the lock while building means concurrent first users build a program once.
        return try programs.withLock { programs in
            if let program = programs[key] { return program }
            let options = [tunables.options(for: source), extraOptions].filter { !$0.isEmpty }.joined(separator: " ")
            let program = try buildProgram(
                name: source.name, source: source.text, options: options, cache: KernelBinaryCache.fromEnvironment)
            programs[key] = program
            return program
        }
    }

    /// Builds a program, from the on-disk binary cache when it holds a valid binary for exactly
    /// this device, driver, options and source; otherwise from source, storing the binary.
    ///
    /// - Throws: ``TempoError/kernelBuildFailed(program:device:log:)`` with the build log.
    func buildProgram(name: String, source: String, options: String, cache: KernelBinaryCache?) throws -> OpenCLProgram {
        let key = KernelBinaryCache.Key(
            deviceName: record.device.name, driverVersion: record.device.driverVersion,
            platformVersion: record.platformVersion, options: options, source: source)
        if let cache, let binary = cache.binary(for: key) {
            if let program = try? programFromBinary(binary, options: options) {
                return OpenCLProgram(name: name, program: program, loadedFromDiskCache: true)
            }
            cache.remove(for: key)
        }
        let program = try programFromSource(name: name, source: source, options: options)
        if let cache, let binary = try? binary(of: program) {
            cache.store(binary, for: key)
        }
        return OpenCLProgram(name: name, program: program, loadedFromDiskCache: false)
    }

    private func programFromSource(name: String, source: String, options: String) throws -> cl_program {
        var status: cl_int = CL_SUCCESS
        let program = source.withCString { text -> cl_program? in
            var pointer: UnsafePointer<CChar>? = text
            return clCreateProgramWithSource(context, 1, &pointer, nil, &status)
        }
        try checkCL(status, "clCreateProgramWithSource(\(name))")
        guard let program else {
            throw TempoError.openCL(function: "clCreateProgramWithSource(\(name))", status: "no program", code: status)
        }
        var deviceID: cl_device_id? = record.deviceID
        let buildStatus = clBuildProgram(program, 1, &deviceID, options, nil, nil)
        if buildStatus != CL_SUCCESS {
            let log = buildLog(program)
            clReleaseProgram(program)
            if buildStatus == CL_BUILD_PROGRAM_FAILURE || buildStatus == CL_INVALID_BUILD_OPTIONS || !log.isEmpty {
                throw TempoError.kernelBuildFailed(
                    program: name, device: device.id,
                    log: log.isEmpty ? "\(OpenCLStatus.name(buildStatus)) with options \"\(options)\"" : log)
            }
            try checkCL(buildStatus, "clBuildProgram(\(name))")
        }
        return program
    }

    private func programFromBinary(_ binary: [UInt8], options: String) throws -> cl_program {
        var status: cl_int = CL_SUCCESS
        var binaryStatus: cl_int = CL_SUCCESS
        var deviceID: cl_device_id? = record.deviceID
        var length = binary.count
        let program = binary.withUnsafeBufferPointer { bytes -> cl_program? in
            var pointer: UnsafePointer<UInt8>? = bytes.baseAddress
            return clCreateProgramWithBinary(context, 1, &deviceID, &length, &pointer, &binaryStatus, &status)
        }
        try checkCL(status, "clCreateProgramWithBinary")
        try checkCL(binaryStatus, "clCreateProgramWithBinary")
        guard let program else {
            throw TempoError.openCL(function: "clCreateProgramWithBinary", status: "no program", code: status)
        }
        let buildStatus = clBuildProgram(program, 1, &deviceID, options, nil, nil)
        if buildStatus != CL_SUCCESS {
            clReleaseProgram(program)
            try checkCL(buildStatus, "clBuildProgram(binary)")
        }
        return program
    }

    private func binary(of program: cl_program) throws -> [UInt8] {
        var size = 0
        try checkCL(
            clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil),
            "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES)")
        guard size > 0 else { return [] }
        var binary = [UInt8](repeating: 0, count: size)
        try binary.withUnsafeMutableBufferPointer { bytes in
            var pointer: UnsafeMutablePointer<UInt8>? = bytes.baseAddress
            try checkCL(
                clGetProgramInfo(
                    program, cl_program_info(CL_PROGRAM_BINARIES), MemoryLayout<UnsafeMutablePointer<UInt8>>.size,
                    &pointer, nil),
                "clGetProgramInfo(CL_PROGRAM_BINARIES)")
        }
        return binary
    }

    private func buildLog(_ program: cl_program) -> String {
        var size = 0
        let info = cl_program_build_info(CL_PROGRAM_BUILD_LOG)
        guard clGetProgramBuildInfo(program, record.deviceID, info, 0, nil, &size) == CL_SUCCESS, size > 0 else {
            return ""
        }
        var bytes = [CChar](repeating: 0, count: size)
        guard clGetProgramBuildInfo(program, record.deviceID, info, size, &bytes, nil) == CL_SUCCESS else { return "" }
        return OpenCLInfo.string(fromNulTerminated: bytes).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: Launching

    /// Enqueues `kernelName` of `program` over `global` work-items (rounded up to whole
    /// work-groups when `local` is given). Kernels guard their own edges.
    func launch(
        _ program: OpenCLProgram, _ kernelName: String, global: [Int], local: [Int]? = nil,
        _ arguments: [KernelArgument]
    ) throws {
        guard global.allSatisfy({ $0 > 0 }) else { return }
        var globalSize = global
        if let local {
            for axis in globalSize.indices { globalSize[axis] = (globalSize[axis] + local[axis] - 1) / local[axis] * local[axis] }
        }
        try program.withKernel(kernelName) { kernel in
            for (index, argument) in arguments.enumerated() {
                try argument.set(on: kernel, index: index, kernelName: kernelName)
            }
            let status: cl_int
            if var localSize = local {
                status = clEnqueueNDRangeKernel(
                    queue, kernel, cl_uint(globalSize.count), nil, &globalSize, &localSize, 0, nil, nil)
            } else {
                status = clEnqueueNDRangeKernel(queue, kernel, cl_uint(globalSize.count), nil, &globalSize, nil, 0, nil, nil)
            }
            try checkCL(status, "clEnqueueNDRangeKernel(\(program.name).\(kernelName))")
        }
        counters.recordLaunches()
    }

    // MARK: Memory

    func allocate(count: Int) throws -> any DeviceBuffer {
        // A zero-sized cl_mem is invalid; empty tensors get one unused float.
        let size = BufferPool<cl_mem>.sizeClass(max(count, 1) * MemoryLayout<Float>.stride)
        let memory = try pool.take(sizeClass: size) ?? OpenCLBuffer.createMemory(context: context, bytes: size)
        let recordRelease = counters.recordAllocation()
        // The closure owns the handle: the buffer that holds it is its only user.
        let handle = UncheckedSendable(memory)
        return OpenCLBuffer(memory: memory, count: count) { [pool] in
            pool.give(handle.value, sizeClass: size)
            recordRelease()
        }
    }

    func releaseCachedMemory() {
        packedRecurrentWeights.removeAll()
        packedConvolutionWeights.removeAll()
        pool.trim()
    }

    var cachedMemoryBytes: Int { pool.cachedBytes + packedRecurrentWeights.bytes + packedConvolutionWeights.bytes }

    @inline(__always)
    func memory(_ buffer: any DeviceBuffer) -> cl_mem {
        // Front ends check devices before dispatch, so every buffer here is an OpenCLBuffer.
        unsafeDowncast(buffer as AnyObject, to: OpenCLBuffer.self).memory
    }

    func upload(_ values: UnsafeBufferPointer<Float>, to buffer: any DeviceBuffer) throws {
        guard let source = values.baseAddress, !values.isEmpty else { return }
        let bytes = values.count * MemoryLayout<Float>.stride
        // Blocking: the caller's array may be gone as soon as this returns.
        try checkCL(
            clEnqueueWriteBuffer(queue, memory(buffer), cl_bool(CL_TRUE), 0, bytes, source, 0, nil, nil),
            "clEnqueueWriteBuffer(\(bytes) bytes)")
        counters.recordToDevice(bytes: bytes)
    }

    func download(_ buffer: any DeviceBuffer, into values: UnsafeMutableBufferPointer<Float>) throws {
        guard let destination = values.baseAddress, !values.isEmpty else { return }
        let bytes = values.count * MemoryLayout<Float>.stride
        try checkCL(
            clEnqueueReadBuffer(queue, memory(buffer), cl_bool(CL_TRUE), 0, bytes, destination, 0, nil, nil),
            "clEnqueueReadBuffer(\(bytes) bytes)")
        counters.recordToHost(bytes: bytes)
    }

    func copy(_ source: any DeviceBuffer, to destination: any DeviceBuffer, count: Int) throws {
        guard count > 0 else { return }
        let bytes = count * MemoryLayout<Float>.stride
        try checkCL(
            clEnqueueCopyBuffer(queue, memory(source), memory(destination), 0, 0, bytes, 0, nil, nil),
            "clEnqueueCopyBuffer(\(bytes) bytes)")
        counters.recordLaunches()
    }

    func fill(_ buffer: any DeviceBuffer, with value: Float, count: Int) throws {
        guard count > 0 else { return }
        var pattern = value
        try checkCL(
            clEnqueueFillBuffer(
                queue, memory(buffer), &pattern, MemoryLayout<Float>.size, 0, count * MemoryLayout<Float>.stride, 0, nil, nil),
            "clEnqueueFillBuffer")
        counters.recordLaunches()
    }

    func synchronize() throws {
        try checkCL(clFinish(queue), "clFinish")
    }
}
