import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

/// Bahdanau, Luong and cosine attention against float64 versions of the papers' scores.
@Suite("Additive, Luong and cosine attention")
struct AlignmentAttentionTests {
    static let (batch, queryLength, sourceLength, querySize, keySize, valueSize) = (3, 2, 5, 4, 6, 3)

    /// Element 0 attends everything, element 1 ignores source positions 3 and 4, element 2 ignores
    /// all of them (a fully masked row: zero weights and context).
    static func ignored(_ b: Int, _ j: Int) -> Bool { (b == 1 && j >= 3) || b == 2 }

    struct Inputs {
        var query: Tensor, keys: Tensor, values: Tensor, mask: Tensor
        var q: [Double], k: [Double], v: [Double]

        init(keySize: Int, device: Device) throws {
            query = try Tensor.normal([batch, queryLength, querySize], seed: 21, device: device)
            keys = try Tensor.normal([batch, sourceLength, keySize], seed: 22, device: device)
            values = try Tensor.normal([batch, sourceLength, valueSize], seed: 23, device: device)
            mask = try maskTensor([batch, sourceLength], device: device) { ignored($0 / sourceLength, $0 % sourceLength) }
            (q, k, v) = (try query.values.doubles, try keys.values.doubles, try values.values.doubles)
        }

        func queryRow(_ b: Int, _ i: Int) -> [Double] { Array(q[(b * queryLength + i) * querySize..<(b * queryLength + i + 1) * querySize]) }
        func keyRow(_ b: Int, _ j: Int, _ size: Int) -> [Double] { Array(k[(b * sourceLength + j) * size..<(b * sourceLength + j + 1) * size]) }
    }

    /// Softmax of `score` over the unmasked positions, then the context; compared with `result`.
    func check(
        _ result: (context: Tensor, weights: Tensor), _ inputs: Inputs, _ what: String, score: (Int, Int, Int) -> Double
    ) throws {
        var weights: [Double] = [], context: [Double] = []
        for b in 0..<Self.batch {
            for i in 0..<Self.queryLength {
                let scores = (0..<Self.sourceLength).map { score(b, i, $0) }
                let p = AttentionReference.maskedSoftmax(scores, allowed: (0..<Self.sourceLength).map { !Self.ignored(b, $0) })
                weights += p
                context += (0..<Self.valueSize).map { c in
                    (0..<Self.sourceLength).reduce(0.0) { $0 + p[$1] * inputs.v[(b * Self.sourceLength + $1) * Self.valueSize + c] }
                }
            }
        }
        #expect(result.weights.shape == [Self.batch, Self.queryLength, Self.sourceLength])
        #expect(result.context.shape == [Self.batch, Self.queryLength, Self.valueSize])
        expectClose(try result.weights.values, weights.floats, attentionTolerance, "\(what) weights")
        expectClose(try result.context.values, context.floats, attentionTolerance, "\(what) context")
        // The fully masked element: exactly zero.
        #expect(try result.weights.values.suffix(Self.queryLength * Self.sourceLength).allSatisfy { $0 == 0 })
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    @Test("Bahdanau: v^T tanh(W1 q + W2 k)", arguments: allDevices)
    func additive(device: Device) throws {
        let layer = try AdditiveAttention(querySize: Self.querySize, keySize: Self.keySize, attentionSize: 7, device: device)
        #expect(layer.namedParameters().map(\.key) == ["Wa.weight", "Wa.bias", "Ua.weight", "Ua.bias", "Va.weight", "Va.bias"])
        let p = try randomizeParameters(of: layer, seed: 60)
        let inputs = try Inputs(keySize: Self.keySize, device: device)
        let result = try layer(inputs.query, keys: inputs.keys, values: inputs.values, keyPaddingMask: inputs.mask)
        let (wa, ua, va) = try (#require(p["Wa.weight"]), #require(p["Ua.weight"]), #require(p["Va.weight"]))
        let (waBias, uaBias, vaBias) = try (#require(p["Wa.bias"]), #require(p["Ua.bias"]), #require(p["Va.bias"]))
        try check(result, inputs, "additive on \(device.id)") { b, i, j in
            let w1 = AttentionReference.linear(inputs.queryRow(b, i), wa, waBias, inputs: Self.querySize, outputs: 7)
            let w2 = AttentionReference.linear(inputs.keyRow(b, j, Self.keySize), ua, uaBias, inputs: Self.keySize, outputs: 7)
            return Self.dot(va, zip(w1, w2).map { Foundation.tanh($0 + $1) }) + vaBias[0]
        }
    }

    @Test("Luong dot: q · k", arguments: allDevices)
    func luongDot(device: Device) throws {
        let layer = try LuongAttention(.dot, querySize: Self.querySize)
        #expect(layer.namedParameters().isEmpty)
        let inputs = try Inputs(keySize: Self.querySize, device: device)
        let result = try layer(inputs.query, keys: inputs.keys, values: inputs.values, keyPaddingMask: inputs.mask)
        try check(result, inputs, "dot on \(device.id)") { b, i, j in Self.dot(inputs.queryRow(b, i), inputs.keyRow(b, j, Self.querySize)) }
    }

    @Test("Luong general: q · (W k + b)", arguments: allDevices)
    func luongGeneral(device: Device) throws {
        let layer = try LuongAttention(.general, querySize: Self.querySize, keySize: Self.keySize, device: device)
        #expect(layer.namedParameters().map(\.key) == ["attn.weight", "attn.bias"])
        let p = try randomizeParameters(of: layer, seed: 70)
        let inputs = try Inputs(keySize: Self.keySize, device: device)
        let result = try layer(inputs.query, keys: inputs.keys, values: inputs.values, keyPaddingMask: inputs.mask)
        let (w, bias) = try (#require(p["attn.weight"]), #require(p["attn.bias"]))
        try check(result, inputs, "general on \(device.id)") { b, i, j in
            Self.dot(inputs.queryRow(b, i), AttentionReference.linear(inputs.keyRow(b, j, Self.keySize), w, bias, inputs: Self.keySize, outputs: Self.querySize))
        }
    }

    @Test("Luong concat: v · tanh(W [q; k] + b)", arguments: allDevices)
    func luongConcat(device: Device) throws {
        let layer = try LuongAttention(.concat, querySize: Self.querySize, keySize: Self.keySize, attentionSize: 5, device: device)
        #expect(layer.namedParameters().map(\.key) == ["attn.weight", "attn.bias", "v"])
        let p = try randomizeParameters(of: layer, seed: 80)
        let inputs = try Inputs(keySize: Self.keySize, device: device)
        let result = try layer(inputs.query, keys: inputs.keys, values: inputs.values, keyPaddingMask: inputs.mask)
        let (w, bias, v) = try (#require(p["attn.weight"]), #require(p["attn.bias"]), #require(p["v"]))
        try check(result, inputs, "concat on \(device.id)") { b, i, j in
            let joined = inputs.queryRow(b, i) + inputs.keyRow(b, j, Self.keySize)
            let hidden = AttentionReference.linear(joined, w, bias, inputs: Self.querySize + Self.keySize, outputs: 5)
            return Self.dot(v, hidden.map { Foundation.tanh($0) })
        }
    }

    @Test("cosine: sharpness * q·k / (|q| |k|); a zero key scores 0", arguments: allDevices)
    func cosine(device: Device) throws {
        let layer = try CosineAttention(size: Self.querySize, sharpness: 3.5)
        var inputs = try Inputs(keySize: Self.querySize, device: device)
        // Source position 2 of element 0 is a zero key.
        var keys = inputs.k
        for c in 0..<Self.querySize { keys[2 * Self.querySize + c] = 0 }
        inputs.k = keys
        inputs.keys = try Tensor(shape: inputs.keys.shape, values: keys.floats, device: device)
        let result = try layer(inputs.query, keys: inputs.keys, values: inputs.values, keyPaddingMask: inputs.mask)
        try check(result, inputs, "cosine on \(device.id)") { b, i, j in
            let (q, k) = (inputs.queryRow(b, i), inputs.keyRow(b, j, Self.querySize))
            let norms = Self.dot(q, q).squareRoot() * Self.dot(k, k).squareRoot()
            return norms == 0 ? 0 : 3.5 * Self.dot(q, k) / norms
        }
    }

    @Test("values default to the keys; bad shapes throw naming the argument")
    func shapesAndErrors() throws {
        let layer = try LuongAttention(.dot, querySize: 4)
        let query = try Tensor.normal([2, 3, 4], seed: 1), keys = try Tensor.normal([2, 5, 4], seed: 2)
        #expect(try layer(query, keys: keys).context.values == layer(query, keys: keys, values: keys).context.values)
        expectTempoError(containing: ["keySize", "querySize = 4", "6"]) { _ = try LuongAttention(.dot, querySize: 4, keySize: 6) }
        expectTempoError(containing: ["query", "[B, Tq, 4]", "[2, 3, 5]"]) { _ = try layer(Tensor.zeros([2, 3, 5]), keys: keys) }
        expectTempoError(containing: ["keys", "B = 2"]) { _ = try layer(query, keys: Tensor.zeros([3, 5, 4])) }
        expectTempoError(containing: ["values", "Ts = 5"]) { _ = try layer(query, keys: keys, values: Tensor.zeros([2, 4, 3])) }
        expectTempoError(containing: ["keyPaddingMask", "[2, 5]"]) { _ = try layer(query, keys: keys, keyPaddingMask: Tensor.zeros([2, 3])) }
        expectTempoError(containing: ["size"]) { _ = try CosineAttention(size: 0) }
    }
}
