import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

@Suite("OpenCL availability (layers)")
struct OpenCLAvailability {
    @Test("an OpenCL device exists when TEMPO_REQUIRE_OPENCL=1")
    func requiredDeviceExists() {
        checkOpenCLRequirement()
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
