import Tempo

extension Catalog {
    /// Scaled dot-product attention as `../shared/peers/peer_bench.py` times ONNX Runtime's
    /// `Attention` (and MatMul+Softmax graph) and PyTorch's `scaled_dot_product_attention`: keys
    /// B, heads, S, d, causal, with `Sq = Sk = S` and `dv = d`.
    static let attentionOps: [OpDefinition] = [
        OpDefinition(
            name: "attention", keys: ["B", "heads", "S", "d", "causal"],
            defaults: ["B": .int(8), "heads": .int(8), "S": .int(512), "d": .int(64), "causal": .bool(false)],
            formula: "4*B*heads*S*S*d FLOP (QK^T and PV), halved when causal; work MB = peak resident memory of one call above the memory before it (output included)"
        ) { s in
            attention(batch: s.int("B"), heads: s.int("heads"), length: s.int("S"), headDimension: s.int("d"), causal: s.int("causal") != 0)
        },
    ]

    static func attention(batch: Int, heads: Int, length: Int, headDimension: Int, causal: Bool) -> BenchCase {
        let full = 4 * Double(batch * heads) * Double(length) * Double(length) * Double(headDimension)
        return BenchCase(
            op: "attention",
            shape: [
                ("B", .int(batch)), ("heads", .int(heads)), ("S", .int(length)), ("d", .int(headDimension)),
                ("causal", .bool(causal)),
            ],
            flops: causal ? full / 2 : full, bytes: 4 * 4 * Double(batch * heads * length * headDimension),
            // Outputs are convex combinations of values ~N(0, 1): float32 sums of S weights.
            tolerance: (2e-5, 1e-4)
        ) { device in
            let shape = [batch, heads, length, headDimension]
            let q = try Tensor.normal(shape, seed: 1, device: device)
            let k = try Tensor.normal(shape, seed: 2, device: device)
            let v = try Tensor.normal(shape, seed: 3, device: device)
            return { try q.attention(key: k, value: v, causal: causal) }
        }
    }
}
