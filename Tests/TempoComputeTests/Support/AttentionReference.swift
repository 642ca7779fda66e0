import Foundation

extension Reference {
    /// Scaled dot-product attention in Double, from its definition in `Tensor.attention`: per
    /// query, the scores `q·k * scale + additive` of the keys that `causal` and `mask` leave, a
    /// softmax over them, and the weighted sum of the values. A query with no key left gets zeros
    /// (probabilities and output).
    ///
    /// q `[B, h, Sq, d]`, k `[B, hkv, Sk, d]`, v `[B, hkv, Sk, dv]`; `mask` and `additive` are
    /// functions of `(b, head, query, key)` so that broadcasting is the test's business, stated
    /// independently of the op's strides. Returns the output `[B, h, Sq, dv]` and the
    /// probabilities `[B, h, Sq, Sk]`.
    static func attention(
        q: [Float], k: [Float], v: [Float], batch: Int, heads: Int, keyValueHeads: Int, queryLength: Int,
        keyLength: Int, headDimension: Int, valueDimension: Int, scale: Double, causal: Bool,
        mask: ((Int, Int, Int, Int) -> Bool)? = nil, additive: ((Int, Int, Int, Int) -> Float)? = nil
    ) -> (output: [Float], probabilities: [Float]) {
        let (sq, sk, d, dv) = (queryLength, keyLength, headDimension, valueDimension)
        var output = [Float](repeating: 0, count: batch * heads * sq * dv)
        var probabilities = [Float](repeating: 0, count: batch * heads * sq * sk)
        for b in 0..<batch {
            for head in 0..<heads {
                // PyTorch's enable_gqa: K and V repeated with repeat_interleave along the heads.
                let kvHead = head / (heads / keyValueHeads)
                let kBase = (b * keyValueHeads + kvHead) * sk * d, vBase = (b * keyValueHeads + kvHead) * sk * dv
                for i in 0..<sq {
                    let qBase = ((b * heads + head) * sq + i) * d
                    var scores = [Double](repeating: -.infinity, count: sk)
                    for j in 0..<sk {
                        if causal && j > i { continue }
                        if let mask, !mask(b, head, i, j) { continue }
                        var dot = 0.0
                        for c in 0..<d { dot += Double(q[qBase + c]) * Double(k[kBase + j * d + c]) }
                        scores[j] = dot * scale + Double(additive?(b, head, i, j) ?? 0)
                    }
                    let maximum = scores.max() ?? -.infinity
                    guard maximum > -.infinity else { continue }
                    let weights = scores.map { exp($0 - maximum) }
                    let total = weights.reduce(0, +)
                    let row = (b * heads + head) * sq + i
                    for j in 0..<sk { probabilities[row * sk + j] = Float(weights[j] / total) }
                    for c in 0..<dv {
                        var sum = 0.0
                        for j in 0..<sk where weights[j] > 0 { sum += weights[j] * Double(v[vBase + j * dv + c]) }
                        output[row * dv + c] = Float(sum / total)
                    }
                }
            }
        }
        return (output, probabilities)
    }
}
