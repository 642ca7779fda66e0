import Foundation
import Tempo

/// The human report: the results table, the verification summary and the FLOP formulas.
public enum Report {
    public static func text(_ outcome: RunOutcome) -> String {
        var table = TextTable([
            "op", "shape", "device", "threads", "median ms", "min ms", "max ms", "GFLOP/s", "GB/s", "of SGEMM peak",
            "launches", "bytes h<->d", "work MB",
        ])
        for m in outcome.measurements {
            table.append([
                m.benchCase.op, m.benchCase.shapeText, m.device.id, "\(m.threads)",
                format(m.median), format(m.minimum), format(m.maximum),
                m.benchCase.flops > 0 ? String(format: "%.1f", m.gflops) : "",
                String(format: "%.1f", m.gigabytesPerSecond),
                m.peakFraction.map { String(format: "%.0f%%", 100 * $0) } ?? "",
                "\(m.counters.launches)", "\(m.counters.bytesToDevice + m.counters.bytesToHost)",
                m.workingMemoryBytes.map { String(format: "%.1f", Double($0) / 1_048_576) } ?? "",
            ])
        }
        var lines = [table.render(), ""]

        let checked = outcome.measurements.filter { $0.verification != nil }
        if !checked.isEmpty {
            lines.append("Verification (each device's output against \(checked[0].verification?.reference.id ?? "")'s):")
            var seen = Set<String>()
            for m in checked {
                guard let v = m.verification, seen.insert("\(m.benchCase.name) \(m.device.id)").inserted else { continue }
                lines.append(
                    "  \(v.passed ? "ok      " : "MISMATCH") \(m.benchCase.name) on \(m.device.id): max abs \(v.maxAbsolute), "
                        + "max rel \(v.maxRelative) (tolerance abs \(m.benchCase.tolerance.absolute) + rel \(m.benchCase.tolerance.relative))")
            }
            lines.append("")
        }

        let savings = streamingSavings(outcome.measurements)
        if !savings.isEmpty {
            lines.append("Streaming TCN: a step (tcn_step) against recomputing the window it sees (tcn at L = the receptive field), medians:")
            lines += savings.map { "  " + $0 }
            lines.append("")
        }

        lines.append("FLOP counts and bytes:")
        var ops: [String] = []
        for m in outcome.measurements where !ops.contains(m.benchCase.op) { ops.append(m.benchCase.op) }
        for op in ops { lines.append("  \(op): \(Catalog.definition(op)?.formula ?? "")") }
        lines.append("  GB/s counts the bytes an op must read and write at least once; h<->d bytes are per call.")
        lines.append("  work MB: peak resident memory during one call above the memory before it (output included).")
        return lines.joined(separator: "\n")
    }

    /// One line per `tcn_step` that has a `tcn` of the same network over its receptive field
    /// (`1 + 2(K-1)(2^blocks - 1)` samples) on the same device and threads: the saving a stream
    /// gets, which issue 6 asks to be at least 50x.
    static func streamingSavings(_ measurements: [Measurement]) -> [String] {
        func value(_ m: Measurement, _ key: String) -> Int? { m.benchCase.shape.first { $0.key == key }?.value.intValue }
        var lines: [String] = []
        for step in measurements where step.benchCase.op == "tcn_step" {
            guard let k = value(step, "K"), let blocks = value(step, "blocks") else { continue }
            let window = 1 + 2 * (k - 1) * ((1 << blocks) - 1)
            let recompute = measurements.first { m in
                m.benchCase.op == "tcn" && m.device == step.device && m.threads == step.threads
                    && ["B", "C", "K", "blocks"].allSatisfy { value(m, $0) == value(step, $0) } && value(m, "L") == window
            }
            guard let recompute, step.median > 0 else { continue }
            lines.append(
                "\(step.benchCase.shapeText) on \(step.device.id), \(step.threads) threads: \(format(step.median)) ms a sample, "
                    + "\(format(recompute.median)) ms to recompute L = \(window): "
                    + String(format: "%.1fx", recompute.median / step.median))
        }
        return lines
    }

    static func format(_ milliseconds: Double) -> String {
        milliseconds >= 100 ? String(format: "%.1f", milliseconds) : String(format: "%.3f", milliseconds)
    }
}
