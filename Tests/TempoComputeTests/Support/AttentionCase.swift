import TempoTestSupport

@testable import TempoCompute

/// One attention call with seeded inputs: sizes, flags and the shapes of the masks (nil: none).
struct AttentionCase: CustomStringConvertible, Sendable {
    var batch = 1
    var heads = 2
    var keyValueHeads = 2
    var queryLength: Int
    var keyLength: Int
    var headDimension: Int
    var valueDimension: Int
    var causal = false
    var scale: Float?
    /// Shape of the boolean mask (0/1 floats, about a quarter of the keys masked).
    var maskShape: [Int]?
    /// Shape of the additive mask (normal values, about one in ten `-inf`).
    var additiveShape: [Int]?

    init(
        batch: Int = 1, heads: Int = 2, keyValueHeads: Int = 2, queryLength: Int, keyLength: Int? = nil,
        headDimension: Int, valueDimension: Int? = nil, causal: Bool = false, scale: Float? = nil,
        maskShape: [Int]? = nil, additiveShape: [Int]? = nil
    ) {
        self.batch = batch
        self.heads = heads
        self.keyValueHeads = keyValueHeads
        self.queryLength = queryLength
        self.keyLength = keyLength ?? queryLength
        self.headDimension = headDimension
        self.valueDimension = valueDimension ?? headDimension
        self.causal = causal
        self.scale = scale
        self.maskShape = maskShape
        self.additiveShape = additiveShape
    }

    var description: String {
        var text = "B\(batch) h\(heads)/\(keyValueHeads) Sq\(queryLength) Sk\(keyLength) d\(headDimension) dv\(valueDimension)"
        if causal { text += " causal" }
        if let scale { text += " scale \(scale)" }
        if let maskShape { text += " mask \(maskShape)" }
        if let additiveShape { text += " additive \(additiveShape)" }
        return text
    }

    var queryShape: [Int] { [batch, heads, queryLength, headDimension] }
    var keyShape: [Int] { [batch, keyValueHeads, keyLength, headDimension] }
    var valueShape: [Int] { [batch, keyValueHeads, keyLength, valueDimension] }

    private func values(_ count: Int, _ seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in generator.nextNormal() }
    }

    var q: [Float] { values(queryShape.reduce(1, *), 11) }
    var k: [Float] { values(keyShape.reduce(1, *), 12) }
    var v: [Float] { values(valueShape.reduce(1, *), 13) }
    var mask: [Float]? {
        maskShape.map { shape in
            var generator = SeededGenerator(seed: 14)
            return (0..<shape.reduce(1, *)).map { _ in generator.nextUnitFloat() < 0.25 ? 0 : 1 }
        }
    }
    var additive: [Float]? {
        additiveShape.map { shape in
            var generator = SeededGenerator(seed: 15)
            return (0..<shape.reduce(1, *)).map { _ in
                generator.nextUnitFloat() < 0.1 ? -.infinity : generator.nextNormal()
            }
        }
    }

    func run(on device: Device) throws -> Tensor {
        let (query, key, value, mask, additive) = try tensors(on: device)
        return try query.attention(
            key: key, value: value, scale: scale, causal: causal, mask: mask, additiveMask: additive)
    }

    func probabilities(on device: Device) throws -> Tensor {
        let (query, key, _, mask, additive) = try tensors(on: device)
        return try query.attentionProbabilities(key: key, scale: scale, causal: causal, mask: mask, additiveMask: additive)
    }

    func tensors(on device: Device) throws -> (Tensor, Tensor, Tensor, Tensor?, Tensor?) {
        (
            try Tensor(shape: queryShape, values: q, device: device),
            try Tensor(shape: keyShape, values: k, device: device),
            try Tensor(shape: valueShape, values: v, device: device),
            try mask.map { try Tensor(shape: maskShape ?? [], values: $0, device: device) },
            try additive.map { try Tensor(shape: additiveShape ?? [], values: $0, device: device) }
        )
    }

    /// Element `(b, head, i, j)` of a mask of `shape` broadcast to `[B, h, Sq, Sk]`: NumPy's rule
    /// spelled out (right-aligned; an axis of size 1 always reads index 0).
    private static func element(_ values: [Float], shape: [Int], _ index: [Int]) -> Float {
        var offset = 0
        for (axis, size) in shape.enumerated() {
            let coordinate = index[index.count - shape.count + axis]
            offset = offset * size + (size == 1 ? 0 : coordinate)
        }
        return values[offset]
    }

    func reference() -> (output: [Float], probabilities: [Float]) {
        let maskValues = mask, additiveValues = additive
        let maskShape = maskShape ?? [], additiveShape = additiveShape ?? []
        return Reference.attention(
            q: q, k: k, v: v, batch: batch, heads: heads, keyValueHeads: keyValueHeads, queryLength: queryLength,
            keyLength: keyLength, headDimension: headDimension, valueDimension: valueDimension,
            scale: Double(scale ?? 1 / Float(headDimension).squareRoot()), causal: causal,
            mask: maskValues.map { m in { b, h, i, j in Self.element(m, shape: maskShape, [b, h, i, j]) != 0 } },
            additive: additiveValues.map { a in { b, h, i, j in Self.element(a, shape: additiveShape, [b, h, i, j]) } })
    }

    /// Float32 dot products of d terms, exp2 to ~2e-7 and sums of Sk weights, against Double.
    var tolerance: Tolerance {
        Tolerance(absolute: 2e-6 * Float(headDimension + keyLength).squareRoot() + 2e-6, relative: 1e-4)
    }
}
