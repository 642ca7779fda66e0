import Tempo

extension Catalog {
    /// One `TransformerEncoderLayer` forward (post-norm, ReLU, eval, batch-first), as a model
    /// runs it: keys B, S, E, heads, F.
    static let transformerOps: [OpDefinition] = [
        OpDefinition(
            name: "transformer", keys: ["B", "S", "E", "heads", "F"],
            defaults: ["B": .int(8), "S": .int(512), "E": .int(512), "heads": .int(8), "F": .int(2048)],
            formula: "8*B*S*E^2 (Q, K, V and output projections) + 4*B*S^2*E (QK^T and PV) + 4*B*S*E*F (feed-forward) FLOP; biases, softmax, layer norms and layout copies not counted"
        ) { s in
            transformer(batch: s.int("B"), length: s.int("S"), width: s.int("E"), heads: s.int("heads"), feedforward: s.int("F"))
        },
    ]

    static func transformer(batch: Int, length: Int, width: Int, heads: Int, feedforward: Int) -> BenchCase {
        let (b, s, e, f) = (Double(batch), Double(length), Double(width), Double(feedforward))
        return BenchCase(
            op: "transformer",
            shape: [("B", .int(batch)), ("S", .int(length)), ("E", .int(width)), ("heads", .int(heads)), ("F", .int(feedforward))],
            flops: 8 * b * s * e * e + 4 * b * s * s * e + 4 * b * s * e * f,
            bytes: 4 * (2 * b * s * e + 4 * e * e + 2 * e * f),
            // Layer-normed outputs of order 1 after sums of E and F products.
            tolerance: (1e-4, 1e-3)
        ) { device in
            let layer = try TransformerEncoderLayer(
                modelDimension: width, heads: heads, feedforwardDimension: feedforward, batchFirst: true, device: device)
            // Seeded weights (not the global Random stream), so that every device runs the same
            // layer: matrices U(±1/sqrt(fan-in)) as PyTorch's, vectors U(±1) so that the layer
            // norms' outputs are of order 1 and the tolerance means something.
            var weights: [String: Tensor] = [:]
            for (index, entry) in layer.namedParameters().enumerated() {
                let shape = entry.parameter.shape
                let bound = shape.count == 2 ? 1 / Float(shape[1]).squareRoot() : 1
                weights[entry.key] = try Tensor.uniform(shape, in: -bound...bound, seed: 100 + UInt64(index), device: device)
            }
            try layer.load(stateDict: weights)
            layer.eval()
            let x = try Tensor.normal([batch, length, width], seed: 1, device: device)
            let model = EvalModel(layer: layer)
            return { try model.layer(x) }
        }
    }
}

/// A layer the timed closure may capture. `@unchecked Sendable`: in eval mode a forward only
/// reads the layer (no dropout counters move), and the runner calls one case's closure from one
/// task at a time.
private final class EvalModel: @unchecked Sendable {
    let layer: TransformerEncoderLayer

    init(layer: TransformerEncoderLayer) {
        self.layer = layer
    }
}
