import Foundation
import Testing

@testable import TempoCompute

/// The devices tests run on, and whether OpenCL tests may skip.
enum TestDevices {
    /// Every OpenCL device this machine offers.
    static let openCL: [Device] = Device.openCLDevices

    /// `TEMPO_REQUIRE_OPENCL=1` (set by CI) turns "no OpenCL device" from a skip into a failure.
    static let openCLRequired = ProcessInfo.processInfo.environment["TEMPO_REQUIRE_OPENCL"] == "1"

    /// Why OpenCL tests are skipped, printed by Swift Testing next to each skipped test.
    static var skipReason: Comment {
        Comment(rawValue: "no OpenCL device: \(Device.openCLUnavailableReason ?? "none found")")
    }

    /// The CPU and every OpenCL device.
    static let all: [Device] = [.cpu] + openCL

    static var hasOpenCL: Bool { !openCL.isEmpty }

    /// OpenCL backends with each kernel shape they can be forced into, for shape-specific tests.
    static var openCLShapes: [(Device, OpenCLTunables.Shape)] {
        openCL.flatMap { device in OpenCLTunables.Shape.allCases.map { (device, $0) } }
    }
}

/// How close two float results must be: `|actual - expected| <= absolute + relative * |expected|`.
struct Tolerance: CustomStringConvertible {
    var absolute: Float
    var relative: Float

    static let exact = Tolerance(absolute: 0, relative: 0)

    func accepts(_ actual: Float, _ expected: Float) -> Bool {
        if actual.isNaN || expected.isNaN { return actual.isNaN && expected.isNaN }
        if actual.isInfinite || expected.isInfinite { return actual == expected }
        return abs(actual - expected) <= absolute + relative * abs(expected)
    }

    var description: String { "abs \(absolute) + rel \(relative)" }
}

/// Compares two result arrays element by element and records one issue naming the worst element.
func expectClose(
    _ actual: [Float], _ expected: [Float], _ tolerance: Tolerance, _ what: @autoclosure () -> String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count else {
        Issue.record("\(what()): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var failures = 0
    var worst = (index: 0, excess: -Float.infinity)
    for index in actual.indices where !tolerance.accepts(actual[index], expected[index]) {
        failures += 1
        let excess = abs(actual[index] - expected[index]) - tolerance.absolute - tolerance.relative * abs(expected[index])
        if !(excess <= worst.excess) { worst = (index, excess) }
    }
    if failures > 0 {
        let i = worst.index
        Issue.record(
            "\(what()): \(failures) of \(actual.count) values outside \(tolerance); worst at \(i): \(actual[i]) vs \(expected[i])",
            sourceLocation: sourceLocation)
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

/// Expects `body` to throw a ``TempoError`` whose description contains every one of `fragments`.
func expectTempoError(
    containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected a TempoError mentioning \(fragments)", sourceLocation: sourceLocation)
    } catch let error as TempoError {
        let text = error.description
        for fragment in fragments where !text.contains(fragment) {
            Issue.record("error \"\(text)\" does not mention \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a TempoError, got \(error)", sourceLocation: sourceLocation)
    }
}

extension Trait where Self == ConditionTrait {
    /// For tests that compare OpenCL with the CPU: skipped, with the reason printed, when this
    /// machine has no OpenCL device. (`OpenCLAvailabilityTests` fails instead under
    /// `TEMPO_REQUIRE_OPENCL=1`.)
    static var needsOpenCL: Self {
        .enabled(if: TestDevices.hasOpenCL, TestDevices.skipReason)
    }
}
