import Foundation
import Tempo

/// The machine-readable outputs: JSON lines (one object per case and device, with the shape keys
/// at top level, as `../shared/peers/peer_bench.py` writes them) and CSV.
public enum ResultFiles {
    /// Where and when the run happened, stamped on every record.
    public struct Context: Sendable {
        public var machine: String
        public var date: String

        public static var current: Context {
            let formatter = ISO8601DateFormatter()
            return Context(
                machine: "\(Device.cpu.name), \(Device.cpu.computeUnits) cores", date: formatter.string(from: Date()))
        }
    }

    public static func record(_ m: Measurement, context: Context) -> [String: Any] {
        var record: [String: Any] = [
            "peer": "tempo", "impl": "tempo", "op": m.benchCase.op,
            "device": m.device.id, "device_name": m.device.name, "device_kind": m.device.kind.rawValue,
            "threads": m.threads, "median_ms": m.median, "min_ms": m.minimum, "max_ms": m.maximum,
            "reps": m.times.count, "flops": m.benchCase.flops, "gflops": m.gflops, "gbps": m.gigabytesPerSecond,
            "launches": m.counters.launches, "bytes_to_device": m.counters.bytesToDevice,
            "bytes_to_host": m.counters.bytesToHost, "machine": context.machine, "date": context.date,
        ]
        for (key, value) in m.benchCase.shape { record[key] = value.json }
        if let fraction = m.peakFraction { record["sgemm_peak_fraction"] = fraction }
        if let sgemmPeak = m.sgemmPeak { record["sgemm_peak_gflops"] = sgemmPeak }
        if let bytes = m.workingMemoryBytes { record["working_memory_bytes"] = bytes }
        if let v = m.verification {
            record["verified_against"] = v.reference.id
            record["max_abs_diff"] = Double(v.maxAbsolute)
            record["max_rel_diff"] = Double(v.maxRelative)
            record["verified"] = v.passed
        }
        return record
    }

    public static func jsonLines(_ outcome: RunOutcome, context: Context) throws -> String {
        try outcome.measurements.map { m in
            let data = try JSONSerialization.data(withJSONObject: record(m, context: context), options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }.joined(separator: "\n") + "\n"
    }

    static let csvColumns = [
        "op", "shape", "device", "device_name", "threads", "median_ms", "min_ms", "max_ms", "reps", "flops", "gflops",
        "gbps", "sgemm_peak_fraction", "launches", "bytes_to_device", "bytes_to_host", "working_memory_bytes", "max_abs_diff", "max_rel_diff",
        "machine", "date",
    ]

    /// RFC 4180 CSV: a header row, then one row per case and device; the shape is one column
    /// written as `M=1024 N=1024 K=1024`.
    public static func csv(_ outcome: RunOutcome, context: Context) -> String {
        var lines = [csvColumns.joined(separator: ",")]
        for m in outcome.measurements {
            let record = record(m, context: context)
            let shape = m.benchCase.shape.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let cells = csvColumns.map { column -> String in
                if column == "shape" { return shape }
                guard let value = record[column] else { return "" }
                return "\(value)"
            }
            lines.append(cells.map(escape).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func escape(_ cell: String) -> String {
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
