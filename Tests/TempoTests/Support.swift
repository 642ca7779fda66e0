import Foundation
import Testing

@testable import Tempo

/// The CPU and every OpenCL device.
let allDevices: [Device] = [.cpu] + Device.openCLDevices

/// `TEMPO_REQUIRE_OPENCL=1` (set by CI) turns "no OpenCL device" from a skip into a failure.
let openCLRequired = ProcessInfo.processInfo.environment["TEMPO_REQUIRE_OPENCL"] == "1"
let openCLSkipReason = Comment(rawValue: "no OpenCL device: \(Device.openCLUnavailableReason ?? "none found")")

extension Trait where Self == ConditionTrait {
    /// For tests that need an OpenCL device: skipped, with the reason printed, when there is
    /// none, unless TEMPO_REQUIRE_OPENCL=1, where they run and ``OpenCLAvailability`` fails.
    static var needsOpenCL: Self {
        .enabled(if: !Device.openCLDevices.isEmpty || openCLRequired, openCLSkipReason)
    }
}

@Suite("OpenCL availability (layers)")
struct OpenCLAvailability {
    @Test("an OpenCL device exists when TEMPO_REQUIRE_OPENCL=1")
    func requiredDeviceExists() {
        if openCLRequired { #expect(!Device.openCLDevices.isEmpty, "TEMPO_REQUIRE_OPENCL=1 but \(openCLSkipReason.rawValue)") }
    }
}

/// `|actual - expected| <= absolute + relative * |expected|` element by element; one issue naming
/// the worst element when not.
func expectClose(
    _ actual: [Float], _ expected: [Float], absolute: Float, relative: Float = 0, _ what: @autoclosure () -> String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count else {
        Issue.record("\(what()): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    let failures = actual.indices.filter { !(abs(actual[$0] - expected[$0]) <= absolute + relative * abs(expected[$0])) }
    if let worst = failures.max(by: { abs(actual[$0] - expected[$0]) < abs(actual[$1] - expected[$1]) }) {
        Issue.record(
            "\(what()): \(failures.count) of \(actual.count) values off; worst at \(worst): \(actual[worst]) vs \(expected[worst])",
            sourceLocation: sourceLocation)
    }
}

/// Expects a ``TempoError`` whose description mentions every fragment.
func expectTempoError(
    containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected a TempoError mentioning \(fragments)", sourceLocation: sourceLocation)
    } catch let error as TempoError {
        for fragment in fragments where !error.description.contains(fragment) {
            Issue.record("error \"\(error.description)\" does not mention \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a TempoError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Where the committed model files are (written by `Fixtures/make_fixtures.py`).
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")

/// Bit patterns, so that NaN payloads and -0 compare exactly.
func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// The problem of the `TempoError.modelFile` that `body` throws, or `nil` (with an issue recorded)
/// when it throws something else or nothing.
func modelFileProblem(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> ModelFileProblem? {
    do {
        try body()
        Issue.record("expected a TempoError.modelFile, nothing was thrown", sourceLocation: sourceLocation)
    } catch let TempoError.modelFile(_, problem) {
        return problem
    } catch {
        Issue.record("expected a TempoError.modelFile, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
