import Foundation

/// Results set beside earlier ones: a previous tempo-bench run or `../shared/peers/peer_bench.py`
/// output, matched by op, every shape key of the case and thread count.
public enum Comparison {
    /// One line of another run: its label (peer and implementation, or device) and figures.
    public struct Entry: Sendable {
        public let label: String
        public let op: String
        public let threads: Int?
        public let medianMilliseconds: Double
        /// Every field of the line, for matching shape keys.
        let fields: [String: SendableValue]
    }

    /// A JSON value as read. Decoding keeps booleans and numbers apart (`causal: true` is a flag,
    /// `B: 1` a number), which JSONSerialization's NSNumbers do not do portably.
    enum SendableValue: Sendable, Decodable {
        case number(Double)
        case flag(Bool)
        case text(String)
        case other

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) { self = .flag(flag) }
            else if let number = try? container.decode(Double.self) { self = .number(number) }
            else if let text = try? container.decode(String.self) { self = .text(text) }
            else { self = .other }
        }

        var any: Any {
            switch self {
            case .number(let value): return value.rounded() == value && abs(value) < 1e15 ? Int(value) as Any : value as Any
            case .flag(let value): return value
            case .text(let value): return value
            case .other: return NSNull()
            }
        }

        var number: Double? {
            if case .number(let value) = self { return value }
            return nil
        }

        var text: String? {
            if case .text(let value) = self { return value }
            return nil
        }
    }

    /// Reads JSON lines; lines that are not objects with `op` and `median_ms` are skipped.
    public static func load(_ text: String) -> [Entry] {
        let decoder = JSONDecoder()
        return text.split(whereSeparator: \.isNewline).compactMap { line -> Entry? in
            guard let fields = try? decoder.decode([String: SendableValue].self, from: Data(line.utf8)),
                  let op = fields["op"]?.text, let median = fields["median_ms"]?.number
            else { return nil }
            let peer = fields["peer"]?.text ?? "?"
            let impl = fields["impl"]?.text ?? ""
            let device = fields["device"]?.text ?? ""
            // The peers label variants of one implementation with `env` (e.g. a forced OpenBLAS core).
            let variant = fields["env"]?.text.map { " [\($0)]" } ?? ""
            let label = peer == "tempo" ? "tempo \(device)" : (impl.isEmpty ? peer : "\(peer) \(impl)") + variant
            return Entry(
                label: label, op: op, threads: fields["threads"]?.number.map { Int($0) }, medianMilliseconds: median,
                fields: fields)
        }
    }

    /// Entries for the same op, the same value of every one of the case's shape keys, and the
    /// same thread count.
    static func matches(for m: Measurement, in entries: [Entry]) -> [Entry] {
        entries.filter { entry in
            entry.op == m.benchCase.op && (entry.threads == nil || entry.threads == m.threads)
                && m.benchCase.shape.allSatisfy { key, value in entry.fields[key].map { value.matches($0.any) } ?? false }
        }
    }

    /// A table of Tempo's median beside each matching entry's, with the speed ratio
    /// (their median / ours: above 1 means Tempo is faster).
    public static func table(_ outcome: RunOutcome, against entries: [Entry], source: String) -> String {
        var table = TextTable(
            ["op", "shape", "tempo device", "threads", "tempo ms", "other", "other ms", "tempo speed-up"],
            textColumns: [0, 1, 2, 5])
        var matched = 0
        for m in outcome.measurements {
            for entry in matches(for: m, in: entries) {
                matched += 1
                table.append([
                    m.benchCase.op, m.benchCase.shapeText, m.device.id, "\(m.threads)", Report.format(m.median),
                    entry.label, Report.format(entry.medianMilliseconds),
                    String(format: "%.2fx", entry.medianMilliseconds / m.median),
                ])
            }
        }
        guard matched > 0 else {
            return "Compared with \(source): no line there matches a case of this run (same op, shape keys and threads)."
        }
        return "Compared with \(source) (speed-up = other's median / Tempo's; above 1 Tempo is faster):\n" + table.render()
    }
}
