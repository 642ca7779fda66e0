import Foundation
import Testing
import TempoCompute

/// The CPU and every OpenCL device.
public let allDevices: [Device] = [.cpu] + Device.openCLDevices

/// `TEMPO_REQUIRE_OPENCL=1` (set by CI) turns "no OpenCL device" from a skip into a failure.
public let openCLRequired = ProcessInfo.processInfo.environment["TEMPO_REQUIRE_OPENCL"] == "1"

/// Why OpenCL tests are skipped, printed by Swift Testing next to each skipped test.
public var openCLSkipReason: Comment {
    Comment(rawValue: "no OpenCL device: \(Device.openCLUnavailableReason ?? "none found")")
}

extension Trait where Self == ConditionTrait {
    /// For tests that need an OpenCL device: skipped, with the reason printed, when there is
    /// none; under TEMPO_REQUIRE_OPENCL=1 they run instead, and each suite's availability test fails.
    public static var needsOpenCL: Self {
        .enabled(if: !Device.openCLDevices.isEmpty || openCLRequired, openCLSkipReason)
    }
}

/// Fails when TEMPO_REQUIRE_OPENCL=1 and there is no OpenCL device; prints why OpenCL tests are
/// skipped otherwise. Each test target calls it from one test.
public func checkOpenCLRequirement(sourceLocation: SourceLocation = #_sourceLocation) {
    if openCLRequired {
        #expect(!Device.openCLDevices.isEmpty, "TEMPO_REQUIRE_OPENCL=1 but \(openCLSkipReason.rawValue)", sourceLocation: sourceLocation)
    } else if Device.openCLDevices.isEmpty {
        print("OpenCL tests skipped: \(openCLSkipReason.rawValue)")
    }
}
