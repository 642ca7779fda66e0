import Foundation
import Synchronization

/// A compute device: the CPU (OpenBLAS and vectorised Swift) or one OpenCL device.
///
/// Devices are values: two `Device`s are equal when they name the same device (`id`). A tensor
/// lives on exactly one device; ops take tensors on one device and run there.
///
/// ```swift
/// let device = Device.best                       // first OpenCL GPU, else the CPU; TEMPO_DEVICE overrides
/// let gpu = try Device.named("opencl:0")         // or "cpu", "opencl"
/// for device in Device.available { print(device) }
/// ```
public struct Device: Sendable, Hashable, Identifiable, CustomStringConvertible {
    /// Which runtime executes a device's ops.
    public enum Runtime: String, Sendable, Hashable {
        /// The host CPU through OpenBLAS and vectorised Swift.
        case cpu
        /// An OpenCL device, driven by the kernels in `Kernels/*.cl`.
        case openCL = "opencl"
    }

    /// What kind of hardware the device is; OpenCL kernels pick their shape by it.
    public enum Kind: String, Sendable, Hashable {
        case cpu, gpu, accelerator, other
    }

    /// The selection name: `"cpu"` or `"opencl:N"`, N counting OpenCL devices across platforms.
    public let id: String
    public let runtime: Runtime
    public let kind: Kind
    /// The device's own name, e.g. `pthread-skylake-avx512-Intel(R) Xeon(R) Processor`.
    public let name: String
    public let vendor: String
    /// Driver version for OpenCL devices; the OpenBLAS configuration for the CPU.
    public let driverVersion: String
    /// Cores (CPU) or OpenCL compute units.
    public let computeUnits: Int
    /// Global memory in bytes.
    public let memoryBytes: Int
    /// Position in the process's OpenCL device list (`nil` for the CPU).
    let openCLIndex: Int?

    public static func == (lhs: Device, rhs: Device) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    public var description: String {
        let memory = String(format: "%.1f GiB", Double(memoryBytes) / 1_073_741_824)
        return "\(id): \(name) (\(vendor), \(kind.rawValue), \(computeUnits) compute units, \(memory))"
    }
}

extension Device {
    /// The CPU: OpenBLAS for matrix products, vectorised Swift loops for the rest. Always available.
    public static let cpu = Device(
        id: "cpu",
        runtime: .cpu,
        kind: .cpu,
        name: HostMachine.processorName,
        vendor: HostMachine.processorVendor,
        driverVersion: HostMachine.openBLASConfiguration,
        computeUnits: ProcessInfo.processInfo.activeProcessorCount,
        memoryBytes: Int(clamping: ProcessInfo.processInfo.physicalMemory),
        openCLIndex: nil
    )

    /// The CPU followed by every OpenCL device of every platform, in platform order.
    ///
    /// OpenCL platforms are discovered once per process, on first use.
    public static var available: [Device] {
        [cpu] + OpenCLDiscovery.shared.devices.map(\.device)
    }

    /// The OpenCL devices only (empty when there is no OpenCL driver).
    public static var openCLDevices: [Device] {
        OpenCLDiscovery.shared.devices.map(\.device)
    }

    /// Why OpenCL offers no device, when it offers none (no ICD loader, no platform, a failing driver).
    public static var openCLUnavailableReason: String? {
        OpenCLDiscovery.shared.unavailableReason
    }

    /// The device to use when the caller has no preference.
    ///
    /// `TEMPO_DEVICE=cpu|opencl|opencl:N` decides when set. Otherwise the first OpenCL GPU or
    /// accelerator, else the CPU: an OpenCL CPU device (such as PoCL) is not preferred over OpenBLAS.
    /// An unusable `TEMPO_DEVICE` is reported once on standard error and ignored; call
    /// ``named(_:)`` to get the error thrown instead.
    public static var best: Device {
        best(environment: ProcessInfo.processInfo.environment)
    }

    /// ``best`` as decided by the given environment variables.
    static func best(environment: [String: String]) -> Device {
        if let requested = environment["TEMPO_DEVICE"], !requested.isEmpty {
            do {
                return try named(requested)
            } catch {
                BestDeviceWarning.once("tempo: ignoring TEMPO_DEVICE: \(error)")
            }
        }
        return openCLDevices.first { $0.kind == .gpu || $0.kind == .accelerator } ?? cpu
    }

    /// The device with the selection name `name`: `"cpu"`, `"opencl"` (the first OpenCL GPU or
    /// accelerator, else the first OpenCL device) or `"opencl:N"`. Case is ignored.
    ///
    /// - Throws: ``TempoError/unknownDevice(requested:available:)`` listing the available devices.
    public static func named(_ name: String) throws -> Device {
        let wanted = name.trimmingCharacters(in: .whitespaces).lowercased()
        let devices = available
        if wanted == "opencl" {
            let openCL = openCLDevices
            if let device = openCL.first(where: { $0.kind == .gpu || $0.kind == .accelerator }) ?? openCL.first {
                return device
            }
        } else if let device = devices.first(where: { $0.id == wanted }) {
            return device
        }
        throw TempoError.unknownDevice(requested: name, available: devices.map(\.id))
    }
}

/// Prints the `TEMPO_DEVICE` warning at most once per process.
private enum BestDeviceWarning {
    private static let printed = Mutex(false)
    static func once(_ message: String) {
        let first = printed.withLock { printed in
            defer { printed = true }
            return !printed
        }
        if first { FileHandle.standardError.write(Data((message + "\n").utf8)) }
    }
}
