import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("Devices")
struct DeviceTests {
    @Test("the CPU is always available and first")
    func cpuIsFirst() {
        #expect(Device.available.first == .cpu)
        #expect(Device.cpu.runtime == .cpu && Device.cpu.kind == .cpu)
        #expect(Device.cpu.computeUnits >= 1)
        #expect(Device.cpu.memoryBytes > 0)
    }

    @Test("OpenCL devices have ids opencl:0, opencl:1, ... and real properties")
    func openCLDevices() {
        for (index, device) in Device.openCLDevices.enumerated() {
            #expect(device.id == "opencl:\(index)")
            #expect(device.runtime == .openCL)
            #expect(!device.name.isEmpty && device.computeUnits >= 1 && device.memoryBytes > 0)
            #expect(device.description.contains(device.name))
        }
    }

    @Test("selection by name, case-insensitive")
    func named() throws {
        #expect(try Device.named("cpu") == .cpu)
        #expect(try Device.named(" CPU ") == .cpu)
        for device in Device.openCLDevices {
            #expect(try Device.named(device.id) == device)
            #expect(try Device.named(device.id.uppercased()) == device)
        }
        if let first = Device.openCLDevices.first {
            // "opencl" prefers a GPU or accelerator, else takes the first OpenCL device.
            let preferred = Device.openCLDevices.first { $0.kind == .gpu || $0.kind == .accelerator } ?? first
            #expect(try Device.named("opencl") == preferred)
        }
    }

    @Test("an unknown device throws and lists the available ones")
    func unknown() {
        let available = Device.available.map(\.id)
        expectTempoError(containing: ["\"opencl:99\"", "available devices"] + available) { _ = try Device.named("opencl:99") }
        expectTempoError(containing: ["\"tpu\""] + available) { _ = try Device.named("tpu") }
        if Device.openCLDevices.isEmpty {
            expectTempoError(containing: ["\"opencl\"", "cpu"]) { _ = try Device.named("opencl") }
        }
    }

    @Test("best: TEMPO_DEVICE decides; else a GPU; never PoCL over OpenBLAS")
    func best() {
        let automatic = Device.best(environment: [:])
        let gpu = Device.openCLDevices.first { $0.kind == .gpu || $0.kind == .accelerator }
        #expect(automatic == (gpu ?? .cpu))
        #expect(Device.best(environment: ["TEMPO_DEVICE": "cpu"]) == .cpu)
        for device in Device.openCLDevices {
            #expect(Device.best(environment: ["TEMPO_DEVICE": device.id]) == device)
        }
        // An unusable override falls back to the automatic choice (and warns on stderr).
        #expect(Device.best(environment: ["TEMPO_DEVICE": "nonsense"]) == automatic)
    }

    @Test("devices are values compared by id")
    func identity() throws {
        #expect(Device.cpu == (try Device.named("cpu")))
        #expect(Set(Device.available).count == Device.available.count)
    }
}

@Suite("OpenCL availability")
struct OpenCLAvailabilityTests {
    /// Under TEMPO_REQUIRE_OPENCL=1 (CI), a machine without an OpenCL device is a failure, so the
    /// OpenCL tests cannot skip unnoticed.
    @Test("an OpenCL device exists when TEMPO_REQUIRE_OPENCL=1")
    func requiredDeviceExists() {
        checkOpenCLRequirement()
    }
}
