import Foundation
import TempoTestSupport
import Testing

@testable import TempoCompute

/// The devices tests run on, and whether OpenCL tests may skip.
enum TestDevices {
    /// Every OpenCL device this machine offers.
    static let openCL: [Device] = Device.openCLDevices

    /// The CPU and every OpenCL device.
    static let all: [Device] = allDevices

    static var hasOpenCL: Bool { !openCL.isEmpty }

    /// OpenCL backends with each kernel shape they can be forced into, for shape-specific tests.
    static var openCLShapes: [(Device, OpenCLTunables.Shape)] {
        openCL.flatMap { device in OpenCLTunables.Shape.allCases.map { (device, $0) } }
    }
}

/// The parity harness, in the spirit of ggml's test-backend-ops: the same seeded inputs go to the
/// CPU backend and to every OpenCL device; the outputs must agree in shape and, within
/// `tolerance`, in value. Returns the CPU result so the caller can also check it against an
/// independent reference.
///
/// - Parameters:
///   - inputs: shapes of the random inputs (standard normal, seeded by position and `seed`).
///   - operation: the op under test, run once per device on that device's copies of the inputs.
@discardableResult
func checkParity(
    _ name: String, inputs: [[Int]], seed: UInt64 = 1, tolerance: Tolerance,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ operation: ([Tensor]) throws -> Tensor
) throws -> (shape: [Int], values: [Float], inputs: [[Float]]) {
    let cpuInputs = try inputs.enumerated().map { index, shape in
        try Tensor.normal(shape, seed: seed &* 7919 &+ UInt64(index), device: .cpu)
    }
    let expected = try operation(cpuInputs)
    let expectedValues = try expected.values
    for device in TestDevices.openCL {
        let deviceInputs = try cpuInputs.map { try $0.to(device) }
        let actual = try operation(deviceInputs)
        #expect(actual.device == device, "\(name) ran on \(actual.device.id), not \(device.id)", sourceLocation: sourceLocation)
        #expect(actual.shape == expected.shape, "\(name) shape on \(device.id)", sourceLocation: sourceLocation)
        expectClose(try actual.values, expectedValues, tolerance, "\(name) on \(device.id) vs cpu", sourceLocation: sourceLocation)
    }
    return (expected.shape, expectedValues, try cpuInputs.map { try $0.values })
}

/// Awkward sizes: 1, odd primes-ish and one-past-a-power-of-two, so tiling edges are exercised.
let awkwardSizes = [1, 3, 17, 33, 257]
