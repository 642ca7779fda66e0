import Tempo

/// Every op tempo-bench can run: its shape keys, default shape, FLOP formula and how to build it.
public struct OpDefinition: Sendable {
    public let name: String
    /// Shape keys in display order (the peers' names where the peers have the op).
    public let keys: [String]
    /// The shape `--op NAME` runs when `--shape` leaves a key out.
    public let defaults: [String: ShapeValue]
    /// Printed once per op under the table.
    public let formula: String
    let make: @Sendable ([String: ShapeValue]) -> BenchCase
}

public enum Catalog {
    public static let ops: [OpDefinition] = [
        OpDefinition(
            name: "sgemm", keys: ["M", "N", "K"], defaults: ["M": .int(2048), "N": .int(2048), "K": .int(2048)],
            formula: "2*M*N*K FLOP"
        ) { s in sgemm(m: s.int("M"), n: s.int("N"), k: s.int("K")) },
        OpDefinition(
            name: "add", keys: ["N"], defaults: ["N": .int(1 << 24)], formula: "memory-bound: 3*N*4 bytes"
        ) { s in add(n: s.int("N")) },
        OpDefinition(
            name: "tanh", keys: ["N"], defaults: ["N": .int(1 << 24)], formula: "memory-bound: 2*N*4 bytes"
        ) { s in activation(.tanh, op: "tanh", n: s.int("N")) },
        OpDefinition(
            name: "gelu", keys: ["N"], defaults: ["N": .int(1 << 24)], formula: "memory-bound: 2*N*4 bytes"
        ) { s in activation(.gelu, op: "gelu", n: s.int("N")) },
        OpDefinition(
            name: "softmax", keys: ["R", "C"], defaults: ["R": .int(32_768), "C": .int(512)],
            formula: "memory-bound: 2*R*C*4 bytes (R rows of C)"
        ) { s in softmax(rows: s.int("R"), columns: s.int("C")) },
        OpDefinition(
            name: "layer_norm", keys: ["R", "C"], defaults: ["R": .int(4096), "C": .int(512)],
            formula: "memory-bound: 2*R*C*4 bytes (R rows of C)"
        ) { s in layerNorm(rows: s.int("R"), columns: s.int("C")) },
        OpDefinition(
            name: "transpose", keys: ["B", "M", "N"], defaults: ["B": .int(64), "M": .int(512), "N": .int(512)],
            formula: "memory-bound: 2*B*M*N*4 bytes"
        ) { s in transpose(batch: s.int("B"), rows: s.int("M"), columns: s.int("N")) },
    ] + recurrentOps + causalConvOps + tcnOps + attentionOps + transformerOps

    public static func definition(_ op: String) -> OpDefinition? {
        ops.first { $0.name == op }
    }

    /// The case for `op` with `overrides` over its default shape.
    ///
    /// - Throws: ``BenchError`` for an unknown op, an unknown key or a size below 1.
    public static func benchCase(op: String, overrides: [String: ShapeValue] = [:]) throws -> BenchCase {
        guard let definition = definition(op) else {
            throw BenchError("unknown op \"\(op)\"; known: \(ops.map(\.name).joined(separator: ", "))")
        }
        for (key, value) in overrides {
            guard definition.keys.contains(key) else {
                throw BenchError("\(op) has no shape key \"\(key)\"; its keys: \(definition.keys.joined(separator: ", "))")
            }
            if case .int(let size) = value, size < 1 {
                throw BenchError("\(op) shape key \(key) must be at least 1, got \(size)")
            }
        }
        return definition.make(definition.defaults.merging(overrides) { $1 })
    }

    /// Parses `--shape B=32,T=128,...` into key/value pairs.
    public static func parseShape(_ text: String) throws -> [String: ShapeValue] {
        var shape: [String: ShapeValue] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = ShapeValue(parsing: parts[1]) else {
                throw BenchError("--shape expects KEY=VALUE pairs separated by commas (VALUE an integer or true/false), got \"\(pair)\"")
            }
            shape[String(parts[0])] = value
        }
        return shape
    }

    // MARK: Cases

    static func sgemm(m: Int, n: Int, k: Int) -> BenchCase {
        BenchCase(
            op: "sgemm", shape: [("M", .int(m)), ("N", .int(n)), ("K", .int(k))],
            flops: 2 * Double(m) * Double(n) * Double(k), bytes: 4 * Double(m * k + k * n + m * n),
            tolerance: (1e-5 * Float(k).squareRoot(), 1e-5)
        ) { device in
            let a = try Tensor.uniform([m, k], seed: 1, device: device)
            let b = try Tensor.uniform([k, n], seed: 2, device: device)
            return { try a.matmul(b) }
        }
    }

    static func add(n: Int) -> BenchCase {
        BenchCase(op: "add", shape: [("N", .int(n))], flops: 0, bytes: 12 * Double(n), tolerance: (0, 0)) { device in
            let a = try Tensor.normal([n], seed: 1, device: device)
            let b = try Tensor.normal([n], seed: 2, device: device)
            return { try a + b }
        }
    }

    static func activation(_ function: Activation, op: String, n: Int) -> BenchCase {
        BenchCase(op: op, shape: [("N", .int(n))], flops: 0, bytes: 8 * Double(n), tolerance: (2e-6, 2e-6)) { device in
            let x = try Tensor.normal([n], standardDeviation: 3, seed: 1, device: device)
            return { try x.applying(function) }
        }
    }

    static func softmax(rows: Int, columns: Int) -> BenchCase {
        BenchCase(
            op: "softmax", shape: [("R", .int(rows)), ("C", .int(columns))], flops: 0,
            bytes: 8 * Double(rows * columns), tolerance: (1e-6, 1e-5)
        ) { device in
            let x = try Tensor.normal([rows, columns], standardDeviation: 3, seed: 1, device: device)
            return { try x.softmax() }
        }
    }

    static func layerNorm(rows: Int, columns: Int) -> BenchCase {
        BenchCase(
            op: "layer_norm", shape: [("R", .int(rows)), ("C", .int(columns))], flops: 0,
            bytes: 8 * Double(rows * columns), tolerance: (1e-5, 1e-5)
        ) { device in
            let x = try Tensor.normal([rows, columns], seed: 1, device: device)
            let gamma = try Tensor.normal([columns], seed: 2, device: device)
            let beta = try Tensor.normal([columns], seed: 3, device: device)
            return { try x.layerNorm(gamma: gamma, beta: beta) }
        }
    }

    static func transpose(batch: Int, rows: Int, columns: Int) -> BenchCase {
        BenchCase(
            op: "transpose", shape: [("B", .int(batch)), ("M", .int(rows)), ("N", .int(columns))], flops: 0,
            bytes: 8 * Double(batch * rows * columns), tolerance: (0, 0)
        ) { device in
            let x = try Tensor.normal([batch, rows, columns], seed: 1, device: device)
            return { try x.matrixTransposed() }
        }
    }
}

extension Dictionary where Key == String, Value == ShapeValue {
    /// The integer at `key` (a flag counts as 0 or 1); catalog entries only ask for their own keys.
    func int(_ key: String) -> Int {
        switch self[key] {
        case .int(let value): return value
        case .bool(let flag): return flag ? 1 : 0
        case nil: return 0
        }
    }
}

/// An error tempo-bench reports to the user and exits on.
public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
