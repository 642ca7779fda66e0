import Foundation

/// Float64 references for the attention layers, written from the definitions (PyTorch's
/// documentation of `nn.MultiheadAttention`, `nn.TransformerEncoderLayer`, and the Bahdanau and
/// Luong papers), on row-major host arrays. Nothing here calls Tempo.
enum AttentionReference {
    /// `x W^T + b` for `x` `[rows, inputs]`, `W` `[outputs, inputs]`.
    static func linear(_ x: [Double], _ weight: [Double], _ bias: [Double]?, inputs: Int, outputs: Int) -> [Double] {
        let rows = x.count / inputs
        var y = [Double](repeating: 0, count: rows * outputs)
        for r in 0..<rows {
            for o in 0..<outputs {
                var sum = bias?[o] ?? 0
                for i in 0..<inputs { sum += x[r * inputs + i] * weight[o * inputs + i] }
                y[r * outputs + o] = sum
            }
        }
        return y
    }

    /// Softmax of `scores` over the entries `allowed` marks; zeros when none is allowed (or all
    /// are `-inf`), the layers' stated behaviour for fully masked rows.
    static func maskedSoftmax(_ scores: [Double], allowed: [Bool]) -> [Double] {
        let kept = scores.indices.filter { allowed[$0] && scores[$0] > -Double.infinity }
        guard let maximum = kept.map({ scores[$0] }).max() else { return Array(repeating: 0, count: scores.count) }
        var result = [Double](repeating: 0, count: scores.count)
        for j in kept { result[j] = exp(scores[j] - maximum) }
        let total = result.reduce(0, +)
        return result.map { $0 / total }
    }

    struct Heads {
        /// `[B, Sq, E]`, the heads concatenated (before the output projection).
        var concatenated: [Double]
        /// `[B, h, Sq, Sk]`.
        var weights: [Double]
    }

    /// Multi-head attention of projected `q` `[B, Sq, E]` over `k` `[B, Sk, E]`, `v` `[B, Sk, E]`
    /// (head `i` = features `i*d ..< (i+1)*d`), scale `1/sqrt(d)`. `allowed(b, i, q, k)` and
    /// `added(b, i, q, k)` are the masks.
    static func heads(
        q: [Double], k: [Double], v: [Double], batch: Int, heads h: Int, queryLength: Int, keyLength: Int, embed: Int,
        allowed: (Int, Int, Int, Int) -> Bool, added: (Int, Int, Int, Int) -> Double
    ) -> Heads {
        let d = embed / h
        let scale = 1 / Double(d).squareRoot()
        var out = [Double](repeating: 0, count: batch * queryLength * embed)
        var weights = [Double](repeating: 0, count: batch * h * queryLength * keyLength)
        for b in 0..<batch {
            for head in 0..<h {
                for i in 0..<queryLength {
                    var scores = [Double](repeating: 0, count: keyLength)
                    for j in 0..<keyLength {
                        var dot = 0.0
                        for c in 0..<d { dot += q[(b * queryLength + i) * embed + head * d + c] * k[(b * keyLength + j) * embed + head * d + c] }
                        scores[j] = dot * scale + added(b, head, i, j)
                    }
                    let p = maskedSoftmax(scores, allowed: (0..<keyLength).map { allowed(b, head, i, $0) })
                    for j in 0..<keyLength {
                        weights[((b * h + head) * queryLength + i) * keyLength + j] = p[j]
                        for c in 0..<d { out[(b * queryLength + i) * embed + head * d + c] += p[j] * v[(b * keyLength + j) * embed + head * d + c] }
                    }
                }
            }
        }
        return Heads(concatenated: out, weights: weights)
    }

    /// The parameters of one `nn.MultiheadAttention`, as host arrays.
    struct MultiheadParameters {
        var embed: Int
        var heads: Int
        var queryWeight: [Double]  // [E, E]
        var keyWeight: [Double]  // [E, kdim]
        var valueWeight: [Double]  // [E, vdim]
        var inBias: [Double]?  // [3E]
        var outWeight: [Double]  // [E, E]
        var outBias: [Double]?  // [E]
    }

    /// `nn.MultiheadAttention` on batch-first host arrays: returns the output `[B, Sq, E]` and
    /// per-head weights `[B, h, Sq, Sk]`.
    static func multihead(
        _ p: MultiheadParameters, query: [Double], key: [Double], value: [Double], batch: Int, queryLength: Int,
        keyLength: Int, allowed: (Int, Int, Int, Int) -> Bool = { _, _, _, _ in true },
        added: (Int, Int, Int, Int) -> Double = { _, _, _, _ in 0 }
    ) -> (output: [Double], weights: [Double]) {
        let e = p.embed
        func bias(_ part: Int) -> [Double]? { p.inBias.map { Array($0[part * e..<(part + 1) * e]) } }
        let q = linear(query, p.queryWeight, bias(0), inputs: query.count / (batch * queryLength), outputs: e)
        let k = linear(key, p.keyWeight, bias(1), inputs: key.count / (batch * keyLength), outputs: e)
        let v = linear(value, p.valueWeight, bias(2), inputs: value.count / (batch * keyLength), outputs: e)
        let result = heads(
            q: q, k: k, v: v, batch: batch, heads: p.heads, queryLength: queryLength, keyLength: keyLength, embed: e,
            allowed: allowed, added: added)
        return (linear(result.concatenated, p.outWeight, p.outBias, inputs: e, outputs: e), result.weights)
    }

    /// The mean over heads of `[B, h, Sq, Sk]` weights.
    static func averageHeads(_ weights: [Double], batch: Int, heads: Int) -> [Double] {
        let block = weights.count / (batch * heads)
        return (0..<batch * block).map { index in
            let (b, rest) = index.quotientAndRemainder(dividingBy: block)
            return (0..<heads).reduce(0.0) { $0 + weights[(b * heads + $1) * block + rest] } / Double(heads)
        }
    }

    /// PyTorch's `nn.LayerNorm` over the last axis of size `size`.
    static func layerNorm(_ x: [Double], size: Int, weight: [Double], bias: [Double], epsilon: Double) -> [Double] {
        var y = x
        for r in 0..<x.count / size {
            let row = x[r * size..<(r + 1) * size]
            let mean = row.reduce(0, +) / Double(size)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(size)
            for c in 0..<size { y[r * size + c] = (x[r * size + c] - mean) / (variance + epsilon).squareRoot() * weight[c] + bias[c] }
        }
        return y
    }

    /// The exact (erf) GELU.
    static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }
}

extension Array where Element == Float {
    var doubles: [Double] { map(Double.init) }
}

extension Array where Element == Double {
    var floats: [Float] { map(Float.init) }
}

extension AttentionReference {
    /// `nn.TransformerEncoderLayer` in eval mode on batch-first `x` `[B, S, E]`, its parameters
    /// under `prefix` in `p` (PyTorch keys).
    static func encoderLayer(
        _ p: [String: [Double]], prefix: String = "", x: [Double], batch: Int, length: Int, embed: Int, heads: Int,
        feedforward: Int, normFirst: Bool, gelu useGELU: Bool, epsilon: Double,
        allowed: (Int, Int, Int, Int) -> Bool = { _, _, _, _ in true }
    ) throws -> [Double] {
        func get(_ key: String) throws -> [Double] {
            guard let value = p[prefix + key] else { throw ReferenceError.missing(prefix + key) }
            return value
        }
        let attention = MultiheadParameters(
            embed: embed, heads: heads, queryWeight: Array(try get("self_attn.in_proj_weight")[0..<embed * embed]),
            keyWeight: Array(try get("self_attn.in_proj_weight")[embed * embed..<2 * embed * embed]),
            valueWeight: Array(try get("self_attn.in_proj_weight")[2 * embed * embed..<3 * embed * embed]),
            inBias: try get("self_attn.in_proj_bias"), outWeight: try get("self_attn.out_proj.weight"),
            outBias: try get("self_attn.out_proj.bias"))
        func selfAttention(_ y: [Double]) -> [Double] {
            multihead(attention, query: y, key: y, value: y, batch: batch, queryLength: length, keyLength: length, allowed: allowed).output
        }
        func feedForward(_ y: [Double]) throws -> [Double] {
            let hidden = linear(y, try get("linear1.weight"), try get("linear1.bias"), inputs: embed, outputs: feedforward)
            let activated = hidden.map { useGELU ? gelu($0) : max($0, 0) }
            return linear(activated, try get("linear2.weight"), try get("linear2.bias"), inputs: feedforward, outputs: embed)
        }
        func norm(_ index: Int, _ y: [Double]) throws -> [Double] {
            layerNorm(y, size: embed, weight: try get("norm\(index).weight"), bias: try get("norm\(index).bias"), epsilon: epsilon)
        }
        func add(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map(+) }
        if normFirst {
            let y = add(x, selfAttention(try norm(1, x)))
            return add(y, try feedForward(try norm(2, y)))
        }
        let y = try norm(1, add(x, selfAttention(x)))
        return try norm(2, add(y, try feedForward(y)))
    }

    enum ReferenceError: Error {
        case missing(String)
    }
}
