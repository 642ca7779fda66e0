import Foundation
import Tempo

/// The human table and the machine JSON lines.
enum Report {
    static func table(_ measurements: [Measurement], sgemmPeak: [Device: Double]) -> String {
        var lines: [String] = []
        let header = ["op", "shape", "device", "threads", "median ms", "min ms", "max ms", "GFLOP/s", "GB/s", "of SGEMM peak", "launches", "bytes h<->d"]
        var rows: [[String]] = [header]
        for m in measurements {
            let peak = sgemmPeak[m.device].map { m.benchCase.flops > 0 ? String(format: "%.0f%%", 100 * m.gflops / $0) : "" } ?? ""
            rows.append([
                m.benchCase.op, m.benchCase.shapeText, m.device.id, "\(m.threads)",
                String(format: "%.3f", m.medianMilliseconds), String(format: "%.3f", m.minimumMilliseconds),
                String(format: "%.3f", m.maximumMilliseconds),
                m.benchCase.flops > 0 ? String(format: "%.1f", m.gflops) : "",
                m.benchCase.isMemoryBound ? String(format: "%.1f", m.gigabytesPerSecond) : "",
                peak, "\(m.counters.launches)", "\(m.counters.bytesToDevice + m.counters.bytesToHost)",
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for (index, row) in rows.enumerated() {
            lines.append(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
            if index == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        let ops = Array(Set(measurements.map(\.benchCase.op))).sorted()
        lines.append("")
        for op in ops { lines.append("\(op): \(FLOPFormula.byOp[op] ?? "")") }
        return lines.joined(separator: "\n")
    }

    static func jsonLine(_ m: Measurement) -> String {
        var record: [String: Any] = [
            "op": m.benchCase.op, "device": m.device.id, "device_name": m.device.name, "threads": m.threads,
            "median_ms": m.medianMilliseconds, "min_ms": m.minimumMilliseconds, "max_ms": m.maximumMilliseconds,
            "reps": m.times.count, "flops": m.benchCase.flops, "gflops": m.gflops,
            "gbps": m.gigabytesPerSecond, "launches": m.counters.launches,
            "bytes_to_device": m.counters.bytesToDevice, "bytes_to_host": m.counters.bytesToHost,
            "machine": Device.cpu.name, "impl": "tempo",
        ]
        for (key, value) in m.benchCase.shape { record[key] = value }
        guard let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
