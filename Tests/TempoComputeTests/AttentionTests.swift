import Foundation
import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("Attention")
struct AttentionTests {
    private func check(_ c: AttentionCase, probabilities: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = c.reference()
        for device in TestDevices.all {
            let y = try c.run(on: device)
            #expect(y.shape == [c.batch, c.heads, c.queryLength, c.valueDimension], sourceLocation: sourceLocation)
            expectClose(try y.values, expected.output, c.tolerance, "\(c) on \(device.id)", sourceLocation: sourceLocation)
            if probabilities {
                let p = try c.probabilities(on: device)
                #expect(p.shape == [c.batch, c.heads, c.queryLength, c.keyLength], sourceLocation: sourceLocation)
                expectClose(
                    try p.values, expected.probabilities, Tolerance(absolute: 2e-6, relative: 1e-4),
                    "probabilities \(c) on \(device.id)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("d 1, 8, 64, 80 with S 1, 7, 65, 300, full and causal, on every device", arguments: [1, 8, 64, 80])
    func sizes(headDimension: Int) throws {
        for length in [1, 7, 65, 300] {
            for causal in [false, true] {
                try check(AttentionCase(queryLength: length, headDimension: headDimension, causal: causal))
            }
        }
    }

    @Test("grouped-query and multi-query heads, Sq != Sk, dv != d")
    func groupedQueries() throws {
        for causal in [false, true] {
            try check(AttentionCase(
                batch: 2, heads: 6, keyValueHeads: 2, queryLength: 7, keyLength: 65, headDimension: 8, valueDimension: 5,
                causal: causal))
            try check(AttentionCase(
                batch: 1, heads: 4, keyValueHeads: 1, queryLength: 70, keyLength: 9, headDimension: 16, valueDimension: 24,
                causal: causal))
            try check(AttentionCase(heads: 3, keyValueHeads: 1, queryLength: 130, keyLength: 129, headDimension: 3, causal: causal))
        }
    }

    @Test("boolean masks in full and broadcast shapes, with and without causal")
    func booleanMasks() throws {
        let (b, h, sq, sk) = (2, 3, 67, 70)
        for shape in [[b, h, sq, sk], [sq, sk], [b, 1, 1, sk], [1, h, sq, 1], [sk]] {
            for causal in [false, true] {
                try check(AttentionCase(
                    batch: b, heads: h, keyValueHeads: h, queryLength: sq, keyLength: sk, headDimension: 8, causal: causal,
                    maskShape: shape), probabilities: true)
            }
        }
    }

    @Test("additive masks (with -inf entries), alone and with a boolean mask, causal and an explicit scale")
    func additiveMasks() throws {
        let (b, h, sq, sk) = (2, 2, 33, 66)
        for shape in [[b, h, sq, sk], [1, h, sq, sk], [sq, 1]] {
            try check(AttentionCase(
                batch: b, heads: h, queryLength: sq, keyLength: sk, headDimension: 16, additiveShape: shape),
                probabilities: true)
        }
        try check(AttentionCase(
            batch: b, heads: h, queryLength: sq, keyLength: sk, headDimension: 16, causal: true, scale: 0.3,
            maskShape: [b, 1, sq, sk], additiveShape: [h, sq, sk]), probabilities: true)
    }

    @Test("peaked softmax: a large scale makes the running maximum jump many times along a row")
    func peakedScores() throws {
        for causal in [false, true] {
            try check(AttentionCase(queryLength: 300, keyLength: 300, headDimension: 8, causal: causal, scale: 6))
            try check(AttentionCase(queryLength: 70, keyLength: 131, headDimension: 64, causal: causal, scale: 2))
        }
    }

    @Test("probabilities: rows sum to 1, causal rows are zero above the diagonal")
    func probabilities() throws {
        let c = AttentionCase(heads: 2, keyValueHeads: 1, queryLength: 9, keyLength: 12, headDimension: 4, causal: true)
        try check(c, probabilities: true)
        for device in TestDevices.all {
            let p = try c.probabilities(on: device).values
            for row in 0..<(2 * 9) {
                let i = row % 9
                let weights = p[row * 12..<(row + 1) * 12]
                #expect(abs(weights.reduce(0, +) - 1) < 1e-5, "row \(row) on \(device.id)")
                #expect(weights.dropFirst(i + 1).allSatisfy { $0 == 0 }, "row \(row) sees the future on \(device.id)")
            }
        }
    }

    @Test("a fully masked row gives zeros, not NaN (boolean mask, -inf additive mask)")
    func fullyMaskedRows() throws {
        let (sq, sk) = (70, 67)
        // Queries 3 and 66 see no key: rows of zeros in the boolean mask, of -inf in the additive one.
        var mask = [Float](repeating: 1, count: sq * sk)
        var additive = [Float](repeating: 0, count: sq * sk)
        for i in [3, 66] {
            for j in 0..<sk {
                mask[i * sk + j] = 0
                additive[i * sk + j] = -.infinity
            }
        }
        let c = AttentionCase(queryLength: sq, keyLength: sk, headDimension: 8, causal: true)
        for device in TestDevices.all {
            let (q, k, v, _, _) = try c.tensors(on: device)
            let booleanMask = try Tensor(shape: [sq, sk], values: mask, device: device)
            let additiveMask = try Tensor(shape: [sq, sk], values: additive, device: device)
            let masks: [(Tensor?, Tensor?)] = [(booleanMask, nil), (nil, additiveMask)]
            for (boolean, additiveMask) in masks {
                let y = try q.attention(key: k, value: v, causal: true, mask: boolean, additiveMask: additiveMask).values
                let p = try q.attentionProbabilities(key: k, causal: true, mask: boolean, additiveMask: additiveMask).values
                for head in 0..<2 {
                    for i in 0..<sq {
                        let row = head * sq + i
                        let outputs = y[row * 8..<(row + 1) * 8], weights = p[row * sk..<(row + 1) * sk]
                        #expect(outputs.allSatisfy { !$0.isNaN }, "row \(i) NaN on \(device.id)")
                        if i == 3 || i == 66 {
                            #expect(outputs.allSatisfy { $0 == 0 }, "masked row \(i) on \(device.id)")
                            #expect(weights.allSatisfy { $0 == 0 }, "masked row \(i) probabilities on \(device.id)")
                        } else {
                            #expect(outputs.contains { $0 != 0 }, "row \(i) on \(device.id)")
                        }
                    }
                }
            }
        }
    }

    @Test("parity: CPU and every OpenCL device agree on random inputs, causal with GQA")
    func parity() throws {
        try checkParity("attention", inputs: [[2, 4, 65, 24], [2, 2, 33, 24], [2, 2, 33, 40]], tolerance: Tolerance(absolute: 2e-5, relative: 1e-4)) { t in
            try t[0].attention(key: t[1], value: t[2], causal: true)
        }
    }

    @Test("matches ONNX Runtime's causal Attention (../shared/reference sdpa_causal)")
    func onnxReference() throws {
        let fixture = try AttentionFixture.sdpaCausal()
        for device in TestDevices.all {
            let shape = [2, 2, 6, 4]
            let q = try Tensor(shape: shape, values: fixture.q, device: device)
            let k = try Tensor(shape: shape, values: fixture.k, device: device)
            let v = try Tensor(shape: shape, values: fixture.v, device: device)
            let y = try q.attention(key: k, value: v, scale: 0.5, causal: true)
            expectClose(try y.values, fixture.y, Tolerance(absolute: 1e-5, relative: 1e-4), "sdpa_causal on \(device.id)")
            // 0.5 is also the default for d = 4.
            expectClose(
                try q.attention(key: k, value: v, causal: true).values, fixture.y, Tolerance(absolute: 1e-5, relative: 1e-4),
                "sdpa_causal, default scale, on \(device.id)")
        }
    }

    @Test("bad input throws naming the argument")
    func badInput() throws {
        let q = try Tensor.zeros([2, 6, 5, 8])
        let k = try Tensor.zeros([2, 2, 7, 8]), v = try Tensor.zeros([2, 2, 7, 3])
        expectTempoError(containing: ["key", "dividing", "6", "hkv = 4"]) {
            _ = try q.attention(key: try Tensor.zeros([2, 4, 7, 8]), value: try Tensor.zeros([2, 4, 7, 3]))
        }
        expectTempoError(containing: ["key", "d = 8"]) {
            _ = try q.attention(key: try Tensor.zeros([2, 2, 7, 9]), value: v)
        }
        expectTempoError(containing: ["value", "[2, 2, 7, dv]"]) { _ = try q.attention(key: k, value: try Tensor.zeros([2, 2, 6, 3])) }
        expectTempoError(containing: ["query", "[B, h, Sq, d]"]) { _ = try Tensor.zeros([6, 5, 8]).attention(key: k, value: v) }
        expectTempoError(containing: ["mask", "[2, 6, 5, 7]"]) { _ = try q.attention(key: k, value: v, mask: try Tensor.zeros([5, 6])) }
        expectTempoError(containing: ["additiveMask", "broadcastable"]) {
            _ = try q.attention(key: k, value: v, additiveMask: try Tensor.zeros([3, 1, 1]))
        }
        expectTempoError(containing: ["mask"]) { _ = try q.attention(key: k, value: v, mask: try Tensor.zeros([1, 2, 6, 5, 7])) }
        expectTempoError(containing: ["scale"]) { _ = try q.attention(key: k, value: v, scale: .nan) }
        expectTempoError(containing: ["key", "d = 8"]) { _ = try q.attentionProbabilities(key: try Tensor.zeros([2, 2, 7, 4])) }
    }
}
