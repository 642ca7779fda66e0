import Foundation
import TempoTestSupport
import Testing

@testable import TempoCompute
import TempoKernels

@Suite("OpenCL runtime", .needsOpenCL)
struct OpenCLRuntimeTests {
    static func backend() throws -> OpenCLBackend {
        try #require(try TestDevices.openCL[0].backend() as? OpenCLBackend)
    }

    @Test("a kernel that does not compile throws with the build log")
    func buildFailure() throws {
        let backend = try Self.backend()
        let source = "__kernel void broken(__global float* x) { x[0] = undefined_function(1); }"
        do {
            _ = try backend.buildProgram(name: "broken", source: source, options: "", cache: nil)
            Issue.record("a broken kernel built")
        } catch let TempoError.kernelBuildFailed(program, device, log) {
            #expect(program == "broken" && device == backend.device.id)
            #expect(log.contains("undefined_function"), "log: \(log)")
        }
    }

    @Test("bad build options are a build failure, not a crash")
    func badOptions() throws {
        let backend = try Self.backend()
        #expect(throws: TempoError.self) {
            _ = try backend.buildProgram(name: "elementwise", source: "__kernel void k() {}", options: "-Dbroken=( -x nonsense", cache: nil)
        }
    }

    @Test("OpenCL statuses are reported by name")
    func statusNames() {
        #expect(OpenCLStatus.name(-5) == "CL_OUT_OF_RESOURCES")
        #expect(OpenCLStatus.name(-11) == "CL_BUILD_PROGRAM_FAILURE")
        #expect(OpenCLStatus.name(-54) == "CL_INVALID_WORK_GROUP_SIZE")
        #expect(OpenCLStatus.name(-1001) == "CL_PLATFORM_NOT_FOUND_KHR")
        #expect(OpenCLStatus.name(-12345) == "unknown OpenCL status")
        let error = TempoError.openCL(function: "clEnqueueNDRangeKernel(gemm)", status: OpenCLStatus.name(-5), code: -5)
        #expect(error.description == "clEnqueueNDRangeKernel(gemm) failed with CL_OUT_OF_RESOURCES (-5)")
    }

    @Test("an impossible allocation throws a named OpenCL error")
    func hugeAllocation() throws {
        let device = TestDevices.openCL[0]
        do {
            // More than the device's global memory (a fixed Int32.max floats fits where the
            // device holds 21 GiB and PoCL allows single 8 GiB buffers: it was allocated and
            // zeroed, in 48 s).
            let count = device.memoryBytes / MemoryLayout<Float>.stride + 1
            _ = try Tensor.zeros([count], device: device)
            Issue.record("allocating \(count) floats on \(device.id) (\(device.memoryBytes) bytes) did not fail")
        } catch let error as TempoError {
            // OpenCL refuses the buffer, or (on a device with more than 8 GiB) the tensor is
            // refused first for having more than Int32.max elements, which kernels index.
            let named = error.description.contains("CL_") || error.description.contains("`shape`")
            #expect(named, "\(error)")
        }
    }

    @Test("the disk cache stores a binary and the next build loads it")
    func diskCache() throws {
        let backend = try Self.backend()
        let directory = FileManager.default.temporaryDirectory.appending(path: "tempo-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = KernelBinaryCache(directory: directory)
        let source = "__kernel void twice(__global float* x) { x[get_global_id(0)] *= 2.0f; }"

        let first = try backend.buildProgram(name: "twice", source: source, options: "-DUNUSED=1", cache: cache)
        #expect(!first.loadedFromDiskCache)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files.count == 1)

        let second = try backend.buildProgram(name: "twice", source: source, options: "-DUNUSED=1", cache: cache)
        #expect(second.loadedFromDiskCache)
        // The cached program really runs.
        let x = try Tensor(shape: [3], values: [1, 2, 3], device: backend.device)
        try backend.launch(second, "twice", global: [3], [.buffer(x.buffer)])
        #expect(try x.values == [2, 4, 6])

        // Other options or source are other entries, never the cached binary.
        #expect(!(try backend.buildProgram(name: "twice", source: source, options: "-DUNUSED=2", cache: cache)).loadedFromDiskCache)

        // A damaged entry is detected and rebuilt.
        let entry = directory.appending(path: files[0])
        try Data("TEMPOCL1garbage".utf8).write(to: entry)
        #expect(!(try backend.buildProgram(name: "twice", source: source, options: "-DUNUSED=1", cache: cache)).loadedFromDiskCache)
        #expect(try backend.buildProgram(name: "twice", source: source, options: "-DUNUSED=1", cache: cache).loadedFromDiskCache)
    }

    @Test("the embedded kernels are all there and all build")
    func embeddedKernels() throws {
        let backend = try Self.backend()
        let names = Set(KernelSource.all.map(\.name))
        #expect(names.isSuperset(of: ["gemm", "elementwise", "activation", "softmax", "layer_norm", "transpose", "copy_region"]))
        for source in KernelSource.all { _ = try backend.program(source) }
    }

    @Test("uploads and downloads are counted in bytes; ops on device data move none")
    func transferCounters() throws {
        let device = TestDevices.openCL[0]
        let (_, counts) = try device.counting {
            let x = try Tensor.normal([1000], seed: 1, device: device)   // 4000 bytes up
            let y = try x.tanh().scaled(by: 2).softmax()                 // three launches, no traffic
            _ = try y.values                                             // 4000 bytes down
        }
        #expect(counts.bytesToDevice == 4000)
        #expect(counts.bytesToHost == 4000)
        #expect(counts.launches == 3)
    }
}
