import Tempo

/// One value of a case's shape: a size, or a flag such as attention's `causal`.
public enum ShapeValue: Sendable, Hashable, CustomStringConvertible {
    case int(Int)
    case bool(Bool)

    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        }
    }

    /// The size, or 0/1 for a flag.
    var intValue: Int {
        switch self {
        case .int(let value): return value
        case .bool(let value): return value ? 1 : 0
        }
    }

    /// As written in JSON: a number or a boolean, as `../shared/peers/peer_bench.py` writes them.
    var json: Any {
        switch self {
        case .int(let value): return value
        case .bool(let value): return value
        }
    }

    /// Reads `value` from the command line: an integer, or true/false (1/0 also work for flags).
    init?(parsing text: Substring) {
        switch text.lowercased() {
        case "true": self = .bool(true)
        case "false": self = .bool(false)
        default:
            guard let value = Int(text) else { return nil }
            self = .int(value)
        }
    }

    /// Equality across the two ways a flag can be written (`causal=1` matches `"causal": true`).
    func matches(_ json: Any) -> Bool {
        switch self {
        case .int(let value):
            if let number = json as? Int { return number == value }
            if let number = json as? Double { return number == Double(value) }
            return false
        case .bool(let value):
            if let flag = json as? Bool { return flag == value }
            if let number = json as? Int { return (number != 0) == value }
            return false
        }
    }
}

/// One benchmark case: an op at one shape, runnable on any device.
///
/// `prepare` builds the inputs on a device (untimed) and returns the call to time; the call's
/// output is what verification compares across devices.
public struct BenchCase: Sendable {
    /// The op's name, as `../shared/peers/peer_bench.py` spells it where it has the op.
    public let op: String
    /// The shape in display order, with the peers' key names.
    public let shape: [(key: String, value: ShapeValue)]
    /// Useful floating-point work per call (multiply-add = 2); 0 for memory-bound ops.
    public let flops: Double
    /// Bytes a call must at least read and write once (for GB/s).
    public let bytes: Double
    /// How far two devices' outputs may differ: `|a - b| <= absolute + relative * |b|`.
    public let tolerance: (absolute: Float, relative: Float)
    public let prepare: @Sendable (Device) throws -> @Sendable () throws -> Tensor
    /// Milliseconds to sleep before each timed call (untimed), so that the call starts from idle
    /// threads, as an application's occasional call does, rather than back to back; 0 for most.
    public var idleMilliseconds: Double = 0

    public init(
        op: String, shape: [(key: String, value: ShapeValue)], flops: Double, bytes: Double,
        tolerance: (absolute: Float, relative: Float),
        prepare: @escaping @Sendable (Device) throws -> @Sendable () throws -> Tensor
    ) {
        self.op = op
        self.shape = shape
        self.flops = flops
        self.bytes = bytes
        self.tolerance = tolerance
        self.prepare = prepare
    }

    /// `M=1024,N=1024,K=1024`: the form `--shape` takes.
    public var shapeText: String { shape.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }
    public var isMemoryBound: Bool { flops == 0 }
    public var name: String { "\(op) \(shapeText)" }
}
