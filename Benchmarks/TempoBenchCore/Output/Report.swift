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

        lines.append("FLOP counts and bytes:")
        var ops: [String] = []
        for m in outcome.measurements where !ops.contains(m.benchCase.op) { ops.append(m.benchCase.op) }
        for op in ops { lines.append("  \(op): \(Catalog.definition(op)?.formula ?? "")") }
        lines.append("  GB/s counts the bytes an op must read and write at least once; h<->d bytes are per call.")
        lines.append("  work MB: peak resident memory during one call above the memory before it (output included).")
        return lines.joined(separator: "\n")
    }

    static func format(_ milliseconds: Double) -> String {
        milliseconds >= 100 ? String(format: "%.1f", milliseconds) : String(format: "%.3f", milliseconds)
    }
}
