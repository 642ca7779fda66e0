import Foundation

/// Straightforward Double-precision versions of the ops, written from their definitions and
/// independent of the code under test: the expected values for semantic checks.
enum Reference {
    /// `alpha * op(A) op(B) + beta * C` for each batch element; A, B, C dense row-major.
    static func gemm(
        _ a: [Float], _ b: [Float], batch: Int, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
        broadcastA: Bool = false, broadcastB: Bool = false, alpha: Double = 1, beta: Double = 0, c: [Float]? = nil
    ) -> [Float] {
        var out = [Float](repeating: 0, count: batch * m * n)
        for p in 0..<batch {
            let aBase = broadcastA ? 0 : p * m * k, bBase = broadcastB ? 0 : p * k * n
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for kk in 0..<k {
                        let av = transposeA ? a[aBase + kk * m + i] : a[aBase + i * k + kk]
                        let bv = transposeB ? b[bBase + j * k + kk] : b[bBase + kk * n + j]
                        sum += Double(av) * Double(bv)
                    }
                    let index = p * m * n + i * n + j
                    out[index] = Float(alpha * sum + beta * Double(c?[index] ?? 0))
                }
            }
        }
        return out
    }

    static func activation(_ name: String, _ x: Float) -> Float {
        let v = Double(x)
        switch name {
        case "sigmoid": return Float(1 / (1 + exp(-v)))
        case "tanh": return Float(tanh(v))
        case "relu": return x.isNaN ? x : Float(max(v, 0))
        case "gelu": return Float(0.5 * v * (1 + erf(v / 2.0.squareRoot())))
        case "geluTanh": return Float(0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))))
        default: return .nan
        }
    }

    static func softmax(_ x: [Float], columns: Int) -> [Float] {
        stride(from: 0, to: x.count, by: columns).flatMap { start -> [Float] in
            let row = x[start..<start + columns].map(Double.init)
            let maximum = row.max() ?? 0
            let exps = row.map { exp($0 - maximum) }
            let sum = exps.reduce(0, +)
            return exps.map { Float($0 / sum) }
        }
    }

    static func layerNorm(_ x: [Float], columns: Int, gamma: [Float]?, beta: [Float]?, epsilon: Double) -> [Float] {
        stride(from: 0, to: x.count, by: columns).flatMap { start -> [Float] in
            let row = x[start..<start + columns].map(Double.init)
            let mean = row.reduce(0, +) / Double(columns)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(columns)
            return row.enumerated().map { c, v in
                let normalized = (v - mean) / (variance + epsilon).squareRoot()
                return Float(normalized * Double(gamma?[c] ?? 1) + Double(beta?[c] ?? 0))
            }
        }
    }

    static func transpose(_ x: [Float], batch: Int, rows: Int, columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        for p in 0..<batch {
            for r in 0..<rows {
                for c in 0..<columns { out[p * rows * columns + c * rows + r] = x[p * rows * columns + r * columns + c] }
            }
        }
        return out
    }

    /// Row-major index arithmetic for a shape.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        return strides
    }

    /// The multi-index of flat position `flat` in `shape`.
    static func index(_ flat: Int, in shape: [Int]) -> [Int] {
        zip(strides(shape), shape).map { stride, extent in (flat / stride) % max(extent, 1) }
    }

    static func flat(_ index: [Int], in shape: [Int]) -> Int {
        zip(index, strides(shape)).reduce(0) { $0 + $1.0 * $1.1 }
    }
}
