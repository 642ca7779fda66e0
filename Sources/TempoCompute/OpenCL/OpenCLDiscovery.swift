import COpenCL
import Foundation

/// One OpenCL device as found at discovery, with the raw handles the backend needs.
///
/// `cl_platform_id` and `cl_device_id` are process-wide handles that the OpenCL API allows on any
/// thread and that are never released (they are not reference-counted for root devices), so
/// sharing them across threads is sound.
struct OpenCLDeviceRecord: @unchecked Sendable {
    let device: Device
    let platformID: cl_platform_id
    let deviceID: cl_device_id
    let platformName: String
    let platformVersion: String
    let maxWorkGroupSize: Int
    let localMemoryBytes: Int
}

/// Finds every OpenCL platform and device, once per process.
///
/// Discovery runs inside a `static let` initialiser, which Swift runs exactly once even when many
/// threads ask at the same moment: PoCL answers `CL_DEVICE_NOT_FOUND` to concurrent first calls of
/// `clGetDeviceIDs`, so asking once is a correctness matter, not only a speed one.
struct OpenCLDiscovery: Sendable {
    let devices: [OpenCLDeviceRecord]
    /// Why there are no devices, when there are none.
    let unavailableReason: String?

    static let shared: OpenCLDiscovery = discover()

    private static func discover() -> OpenCLDiscovery {
        do {
            let devices = try platforms().flatMap(devices(of:))
            let enumerated = devices.enumerated().map { index, pending in pending.record(withIndex: index) }
            return OpenCLDiscovery(
                devices: enumerated,
                unavailableReason: enumerated.isEmpty ? "no OpenCL platform offers a device" : nil
            )
        } catch {
            return OpenCLDiscovery(devices: [], unavailableReason: "OpenCL discovery failed: \(error)")
        }
    }

    private static func platforms() throws -> [cl_platform_id] {
        var count: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &count)
        // The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR when no driver is installed: not an error.
        if status == -1001 || count == 0 { return [] }
        try checkCL(status, "clGetPlatformIDs")
        var ids = [cl_platform_id?](repeating: nil, count: Int(count))
        try checkCL(clGetPlatformIDs(count, &ids, nil), "clGetPlatformIDs")
        return ids.compactMap { $0 }
    }

    /// A platform's devices with their properties; `Device.id` is filled in later, once all are known.
    private static func devices(of platform: cl_platform_id) throws -> [PendingRecord] {
        var count: cl_uint = 0
        let status = clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &count)
        if status == CL_DEVICE_NOT_FOUND || count == 0 { return [] }
        try checkCL(status, "clGetDeviceIDs")
        var ids = [cl_device_id?](repeating: nil, count: Int(count))
        try checkCL(clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), count, &ids, nil), "clGetDeviceIDs")
        let platformName = try platformString(platform, cl_platform_info(CL_PLATFORM_NAME))
        let platformVersion = try platformString(platform, cl_platform_info(CL_PLATFORM_VERSION))
        return try ids.compactMap { $0 }.map { id in
            let type: cl_device_type = try OpenCLInfo.deviceValue(id, CL_DEVICE_TYPE)
            let kind: Device.Kind =
                type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 ? .gpu
                : type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 ? .accelerator
                : type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 ? .cpu
                : .other
            let computeUnits: cl_uint = try OpenCLInfo.deviceValue(id, CL_DEVICE_MAX_COMPUTE_UNITS)
            let memory: cl_ulong = try OpenCLInfo.deviceValue(id, CL_DEVICE_GLOBAL_MEM_SIZE)
            let localMemory: cl_ulong = try OpenCLInfo.deviceValue(id, CL_DEVICE_LOCAL_MEM_SIZE)
            let workGroup: Int = try OpenCLInfo.deviceValue(id, CL_DEVICE_MAX_WORK_GROUP_SIZE)
            return PendingRecord(
                platformID: platform,
                deviceID: id,
                platformName: platformName,
                platformVersion: platformVersion,
                kind: kind,
                name: try OpenCLInfo.deviceString(id, CL_DEVICE_NAME),
                vendor: try OpenCLInfo.deviceString(id, CL_DEVICE_VENDOR),
                driverVersion: try OpenCLInfo.deviceString(id, CL_DRIVER_VERSION),
                computeUnits: Int(computeUnits),
                memoryBytes: Int(clamping: memory),
                localMemoryBytes: Int(clamping: localMemory),
                maxWorkGroupSize: workGroup
            )
        }
    }

    private static func platformString(_ platform: cl_platform_id, _ parameter: cl_platform_info) throws -> String {
        var size = 0
        try checkCL(clGetPlatformInfo(platform, parameter, 0, nil, &size), "clGetPlatformInfo")
        var bytes = [CChar](repeating: 0, count: max(size, 1))
        try checkCL(clGetPlatformInfo(platform, parameter, size, &bytes, nil), "clGetPlatformInfo")
        return OpenCLInfo.string(fromNulTerminated: bytes)
    }
}

/// A device record before its process-wide index is known.
private struct PendingRecord {
    let platformID: cl_platform_id
    let deviceID: cl_device_id
    let platformName: String
    let platformVersion: String
    let kind: Device.Kind
    let name: String
    let vendor: String
    let driverVersion: String
    let computeUnits: Int
    let memoryBytes: Int
    let localMemoryBytes: Int
    let maxWorkGroupSize: Int

    func record(withIndex index: Int) -> OpenCLDeviceRecord {
        OpenCLDeviceRecord(
            device: Device(
                id: "opencl:\(index)",
                runtime: .openCL,
                kind: kind,
                name: name,
                vendor: vendor,
                driverVersion: driverVersion,
                computeUnits: computeUnits,
                memoryBytes: memoryBytes,
                openCLIndex: index
            ),
            platformID: platformID,
            deviceID: deviceID,
            platformName: platformName,
            platformVersion: platformVersion,
            maxWorkGroupSize: maxWorkGroupSize,
            localMemoryBytes: localMemoryBytes
        )
    }
}

/// Typed readers for `clGetDeviceInfo`.
enum OpenCLInfo {
    static func deviceValue<Value>(_ device: cl_device_id, _ parameter: Int32) throws -> Value {
        try withUnsafeTemporaryAllocation(of: Value.self, capacity: 1) { value in
            try checkCL(
                clGetDeviceInfo(device, cl_device_info(parameter), MemoryLayout<Value>.size, value.baseAddress, nil),
                "clGetDeviceInfo(\(parameter))")
            return value[0]
        }
    }

    static func deviceString(_ device: cl_device_id, _ parameter: Int32) throws -> String {
        var size = 0
        try checkCL(clGetDeviceInfo(device, cl_device_info(parameter), 0, nil, &size), "clGetDeviceInfo(\(parameter))")
        var bytes = [CChar](repeating: 0, count: max(size, 1))
        try checkCL(clGetDeviceInfo(device, cl_device_info(parameter), size, &bytes, nil), "clGetDeviceInfo(\(parameter))")
        return string(fromNulTerminated: bytes)
    }

    static func string(fromNulTerminated bytes: [CChar]) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingCharacters(in: .whitespaces)
    }
}
