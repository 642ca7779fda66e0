import Testing
import TempoCompute

/// How close two float results must be: `|actual - expected| <= absolute + relative * |expected|`.
public struct Tolerance: CustomStringConvertible, Sendable {
    public var absolute: Float
    public var relative: Float

    public init(absolute: Float, relative: Float = 0) {
        self.absolute = absolute
        self.relative = relative
    }

    public static let exact = Tolerance(absolute: 0, relative: 0)

    /// NaN matches only NaN, and an infinity only itself.
    public func accepts(_ actual: Float, _ expected: Float) -> Bool {
        if actual.isNaN || expected.isNaN { return actual.isNaN && expected.isNaN }
        if actual.isInfinite || expected.isInfinite { return actual == expected }
        return abs(actual - expected) <= absolute + relative * abs(expected)
    }

    public var description: String { "abs \(absolute) + rel \(relative)" }
}

/// Compares two result arrays element by element and records one issue naming the worst element.
public func expectClose(
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

/// Expects `body` to throw a ``TempoError`` whose description contains every one of `fragments`.
public func expectTempoError(
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
