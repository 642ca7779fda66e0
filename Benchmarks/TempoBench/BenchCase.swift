import Tempo

/// One benchmark case: an op at one shape, runnable on any device.
///
/// `prepare` builds the inputs on a device (untimed) and returns the call to time; the call's
/// output is what verification compares across devices.
struct BenchCase: Sendable {
    /// Op name as `../shared/peers/peer_bench.py` spells it (`sgemm`, `lstm`, ...) or Tempo's op name.
    let op: String
    /// Shape keys in display order, e.g. `[("M", 1024), ("N", 1024), ("K", 1024)]`.
    let shape: [(key: String, value: Int)]
    /// Useful floating-point work per call (multiply-add = 2), 0 when the op is memory-bound.
    let flops: Double
    /// Bytes the op must read and write at least once per call (for GB/s of memory-bound ops).
    let bytes: Double
    /// How far two devices' outputs may differ: `|a - b| <= absolute + relative * |b|`.
    let tolerance: (absolute: Float, relative: Float)
    let prepare: @Sendable (Device) throws -> @Sendable () throws -> Tensor

    var shapeText: String { shape.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }
    var isMemoryBound: Bool { flops == 0 }
}

/// The FLOP formulas, printed once per op in the report.
enum FLOPFormula {
    static let byOp: [String: String] = [
        "sgemm": "2*M*N*K",
        "add": "memory-bound: 3*N*4 bytes",
        "tanh": "memory-bound: 2*N*4 bytes",
        "gelu": "memory-bound: 2*N*4 bytes",
        "softmax": "memory-bound: 2*R*C*4 bytes",
        "layer_norm": "memory-bound: 2*R*C*4 bytes",
        "transpose": "memory-bound: 2*B*M*N*4 bytes",
    ]
}

enum Cases {
    static func sgemm(m: Int, n: Int, k: Int) -> BenchCase {
        BenchCase(
            op: "sgemm", shape: [("M", m), ("N", n), ("K", k)], flops: 2 * Double(m) * Double(n) * Double(k),
            bytes: 4 * Double(m * k + k * n + m * n),
            tolerance: (1e-5 * Float(k).squareRoot(), 1e-5)
        ) { device in
            let a = try Tensor.uniform([m, k], seed: 1, device: device)
            let b = try Tensor.uniform([k, n], seed: 2, device: device)
            return { try a.matmul(b) }
        }
    }

    static func add(n: Int) -> BenchCase {
        BenchCase(op: "add", shape: [("N", n)], flops: 0, bytes: 12 * Double(n), tolerance: (0, 0)) { device in
            let a = try Tensor.normal([n], seed: 1, device: device)
            let b = try Tensor.normal([n], seed: 2, device: device)
            return { try a + b }
        }
    }

    static func activation(_ function: Activation, op: String, n: Int) -> BenchCase {
        BenchCase(op: op, shape: [("N", n)], flops: 0, bytes: 8 * Double(n), tolerance: (2e-6, 2e-6)) { device in
            let x = try Tensor.normal([n], standardDeviation: 3, seed: 1, device: device)
            return { try x.applying(function) }
        }
    }

    static func softmax(rows: Int, columns: Int) -> BenchCase {
        BenchCase(
            op: "softmax", shape: [("R", rows), ("C", columns)], flops: 0, bytes: 8 * Double(rows * columns),
            tolerance: (1e-6, 1e-5)
        ) { device in
            let x = try Tensor.normal([rows, columns], standardDeviation: 3, seed: 1, device: device)
            return { try x.softmax() }
        }
    }

    static func layerNorm(rows: Int, columns: Int) -> BenchCase {
        BenchCase(
            op: "layer_norm", shape: [("R", rows), ("C", columns)], flops: 0, bytes: 8 * Double(rows * columns),
            tolerance: (1e-5, 1e-5)
        ) { device in
            let x = try Tensor.normal([rows, columns], seed: 1, device: device)
            let gamma = try Tensor.normal([columns], seed: 2, device: device)
            let beta = try Tensor.normal([columns], seed: 3, device: device)
            return { try x.layerNorm(gamma: gamma, beta: beta) }
        }
    }

    static func transpose(batch: Int, rows: Int, columns: Int) -> BenchCase {
        BenchCase(
            op: "transpose", shape: [("B", batch), ("M", rows), ("N", columns)], flops: 0,
            bytes: 8 * Double(batch * rows * columns), tolerance: (0, 0)
        ) { device in
            let x = try Tensor.normal([batch, rows, columns], seed: 1, device: device)
            return { try x.matrixTransposed() }
        }
    }

    /// The default suite: the SGEMM roofline at the sizes the peers use, and the memory-bound ops
    /// at sizes well past the caches.
    static let defaultSuite: [BenchCase] = [
        sgemm(m: 1024, n: 1024, k: 1024),
        sgemm(m: 2048, n: 2048, k: 2048),
        add(n: 1 << 24),
        activation(.tanh, op: "tanh", n: 1 << 24),
        activation(.gelu, op: "gelu", n: 1 << 24),
        softmax(rows: 8 * 8 * 512, columns: 512),
        layerNorm(rows: 8 * 512, columns: 512),
        transpose(batch: 64, rows: 512, columns: 512),
    ]

    /// A case built from an op name and `KEY=value` shape overrides (`--op sgemm --shape M=64,N=64,K=64`).
    static func named(_ op: String, shape: [String: Int]) -> BenchCase? {
        func value(_ key: String, _ fallback: Int) -> Int { shape[key] ?? fallback }
        switch op {
        case "sgemm": return sgemm(m: value("M", 2048), n: value("N", 2048), k: value("K", 2048))
        case "add": return add(n: value("N", 1 << 24))
        case "tanh": return activation(.tanh, op: "tanh", n: value("N", 1 << 24))
        case "gelu": return activation(.gelu, op: "gelu", n: value("N", 1 << 24))
        case "softmax": return softmax(rows: value("R", 32_768), columns: value("C", 512))
        case "layer_norm": return layerNorm(rows: value("R", 4096), columns: value("C", 512))
        case "transpose": return transpose(batch: value("B", 64), rows: value("M", 512), columns: value("N", 512))
        default: return nil
        }
    }
}
