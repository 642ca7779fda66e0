import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

@Suite("MultiheadAttention")
struct MultiheadAttentionTests {
    @Test("mha_self_key_padding: ONNX Runtime's and PyTorch's output and head-averaged weights", arguments: allDevices)
    func referenceFixture(device: Device) throws {
        let reference = try ReferenceCase("mha_self_key_padding")
        let layer = try MultiheadAttention(embedDimension: 8, heads: 2, batchFirst: true, device: device)
        try layer.load(stateDict: [
            "in_proj_weight": reference.tensor("in_proj_weight", device: device),
            "in_proj_bias": reference.tensor("in_proj_bias", device: device),
            "out_proj.weight": reference.tensor("out_proj_weight", device: device),
            "out_proj.bias": reference.tensor("out_proj_bias", device: device),
        ])
        layer.eval()
        let x = try reference.tensor("query", device: device)
        let (output, weights) = try layer(x, key: x, value: x, keyPaddingMask: reference.tensor("key_padding_mask", device: device))
        #expect(output.shape == [2, 5, 8])
        let averaged = try #require(weights)
        #expect(averaged.shape == [2, 5, 5])
        expectClose(try output.values, try reference.values("out"), reference.tolerance, "out on \(device.id)")
        expectClose(try averaged.values, try reference.values("attn_weights"), reference.tolerance, "attn_weights on \(device.id)")
        // The fused path (no weights) gives the same output.
        let fused = try layer(x, key: x, value: x, keyPaddingMask: reference.tensor("key_padding_mask", device: device), needWeights: false)
        #expect(fused.weights == nil)
        expectClose(try fused.output.values, try reference.values("out"), reference.tolerance, "fused out on \(device.id)")
    }

    @Test("self-attention, sequence-major, causal and key padding, per-head weights", arguments: allDevices)
    func selfAttentionCausal(device: Device) throws {
        let (batch, length, embed, heads) = (3, 7, 12, 3)
        let (layer, parameters) = try randomMultihead(embed: embed, heads: heads, batchFirst: false, seed: 10, device: device)
        let x = try Tensor.normal([length, batch, embed], seed: 1, device: device)
        // Batch element 1 ignores its last 3 keys, element 2 its first key.
        let padded: (Int, Int) -> Bool = { b, j in (b == 1 && j >= 4) || (b == 2 && j == 0) }
        let padding = try maskTensor([batch, length], device: device) { padded($0 / length, $0 % length) }
        let (output, weights) = try layer(x, key: x, value: x, keyPaddingMask: padding, averageAttentionWeights: false, isCausal: true)
        let xb = batchFirstValues(try x.values.doubles, length: length, batch: batch)
        let expected = AttentionReference.multihead(
            parameters, query: xb, key: xb, value: xb, batch: batch, queryLength: length, keyLength: length,
            allowed: { b, _, i, j in j <= i && !padded(b, j) })
        #expect(output.shape == [length, batch, embed])
        expectClose(swappingLeadingAxes(try output.values, length, batch, embed), expected.output.floats, attentionTolerance, "output")
        let perHead = try #require(weights)
        #expect(perHead.shape == [batch, heads, length, length])
        expectClose(try perHead.values, expected.weights.floats, attentionTolerance, "weights")
        // Element 2's query 0 sees only key 0, which is padded: a fully masked row gives zero
        // weights and a zero attention output, so the output is out_proj.bias alone.
        let row = Array(try perHead.values[((2 * heads) * length) * length..<((2 * heads) * length + 1) * length])
        #expect(row.allSatisfy { $0 == 0 })
    }

    @Test("cross-attention with kdim and vdim, boolean attn_mask with key padding, averaged weights", arguments: allDevices)
    func crossAttention(device: Device) throws {
        let (batch, queryLength, keyLength, embed, heads) = (2, 5, 9, 8, 4)
        let (layer, parameters) = try randomMultihead(
            embed: embed, heads: heads, keyDimension: 5, valueDimension: 7, batchFirst: true, seed: 20, device: device)
        #expect(layer.namedParameters().map(\.key) == [
            "q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias",
        ])
        let query = try Tensor.normal([batch, queryLength, embed], seed: 2, device: device)
        let key = try Tensor.normal([batch, keyLength, 5], seed: 3, device: device)
        let value = try Tensor.normal([batch, keyLength, 7], seed: 4, device: device)
        let banned: (Int, Int) -> Bool = { i, j in (i + 2 * j) % 5 == 0 }
        let padded: (Int, Int) -> Bool = { b, j in b == 0 && j >= 6 }
        let (output, weights) = try layer(
            query, key: key, value: value,
            keyPaddingMask: maskTensor([batch, keyLength], device: device) { padded($0 / keyLength, $0 % keyLength) },
            attentionMask: .ignore(maskTensor([queryLength, keyLength], device: device) { banned($0 / keyLength, $0 % keyLength) }))
        let expected = AttentionReference.multihead(
            parameters, query: try query.values.doubles, key: try key.values.doubles, value: try value.values.doubles,
            batch: batch, queryLength: queryLength, keyLength: keyLength, allowed: { b, _, i, j in !banned(i, j) && !padded(b, j) })
        expectClose(try output.values, expected.output.floats, attentionTolerance, "output")
        let averaged = AttentionReference.averageHeads(expected.weights, batch: batch, heads: heads)
        expectClose(try #require(weights).values, averaged.floats, attentionTolerance, "averaged weights")
    }

    @Test("per-head additive attn_mask [B*h, Sq, Sk] with key padding, fused path, no bias", arguments: allDevices)
    func perHeadAdditiveMask(device: Device) throws {
        let (batch, queryLength, keyLength, embed, heads) = (2, 3, 6, 6, 2)
        let (layer, parameters) = try randomMultihead(embed: embed, heads: heads, bias: false, batchFirst: true, seed: 30, device: device)
        #expect(layer.namedParameters().map(\.key) == ["in_proj_weight", "out_proj.weight"])
        let query = try Tensor.normal([batch, queryLength, embed], seed: 5, device: device)
        let memory = try Tensor.normal([batch, keyLength, embed], seed: 6, device: device)
        let additive = try Tensor.normal([batch * heads, queryLength, keyLength], seed: 7, device: device)
        let added = try additive.values.doubles
        let padded: (Int, Int) -> Bool = { b, j in b == 1 && j == 2 }
        let (output, weights) = try layer(
            query, key: memory, value: memory,
            keyPaddingMask: maskTensor([batch, keyLength], device: device) { padded($0 / keyLength, $0 % keyLength) },
            needWeights: false, attentionMask: .additive(additive))
        #expect(weights == nil)
        let expected = AttentionReference.multihead(
            parameters, query: try query.values.doubles, key: try memory.values.doubles, value: try memory.values.doubles,
            batch: batch, queryLength: queryLength, keyLength: keyLength, allowed: { b, _, _, j in !padded(b, j) },
            added: { b, h, i, j in added[((b * heads + h) * queryLength + i) * keyLength + j] })
        expectClose(try output.values, expected.output.floats, attentionTolerance, "output")
    }

    @Test("unbatched [S, E] inputs, [S] padding and [h, Sq, Sk] mask match the float64 reference without a batch axis", arguments: allDevices, [false, true])
    func unbatched(device: Device, batchFirst: Bool) throws {
        let (layer, parameters) = try randomMultihead(
            embed: 6, heads: 2, valueDimension: 5, batchFirst: batchFirst, seed: 35, device: device)
        let query = try Tensor.normal([4, 6], seed: 15, device: device)
        let key = try Tensor.normal([3, 6], seed: 16, device: device), value = try Tensor.normal([3, 5], seed: 17, device: device)
        let padding = try maskTensor([3], device: device) { $0 == 1 }
        let heads = try Tensor.normal([2, 4, 3], seed: 18, device: device)
        let single = try layer(
            query, key: key, value: value, keyPaddingMask: padding, attentionMask: .additive(heads), averageAttentionWeights: false)
        let added = try heads.values.doubles
        let expected = AttentionReference.multihead(
            parameters, query: try query.values.doubles, key: try key.values.doubles, value: try value.values.doubles, batch: 1,
            queryLength: 4, keyLength: 3, allowed: { _, _, _, j in j != 1 }, added: { _, h, i, j in added[(h * 4 + i) * 3 + j] })
        #expect(single.output.shape == [4, 6])
        #expect(single.weights?.shape == [2, 4, 3])
        expectClose(try single.output.values, expected.output.floats, attentionTolerance, "unbatched output")
        expectClose(try #require(single.weights).values, expected.weights.floats, attentionTolerance, "unbatched weights")
        func batched(_ x: Tensor) throws -> Tensor { try x.reshaped(batchFirst ? [1] + x.shape : [x.shape[0], 1, x.shape[1]]) }
        expectTempoError(containing: ["keyPaddingMask", "[Sk]"]) {
            _ = try layer(query, key: key, value: value, keyPaddingMask: padding.reshaped([1, 3]))
        }
        expectTempoError(containing: ["value", "unbatched"]) { _ = try layer(query, key: key, value: batched(value)) }
    }

    @Test("dropout on the weights in training: kept weights scaled by 1/(1-p), dropped ones zero; eval is deterministic")
    func attentionDropout() throws {
        let layer = try MultiheadAttention(embedDimension: 4, heads: 2, dropout: 0.5, batchFirst: true)
        let x = try Tensor.normal([2, 5, 4], seed: 8)
        layer.eval()
        let exact = try #require(layer(x, key: x, value: x, averageAttentionWeights: false).weights).values
        layer.train()
        let dropped = try #require(layer(x, key: x, value: x, averageAttentionWeights: false).weights).values
        #expect(dropped.contains(0) && dropped.contains { $0 != 0 })
        for (kept, full) in zip(dropped, exact) where kept != 0 {
            #expect(abs(kept - 2 * full) <= 1e-6 * (1 + abs(full)))
        }
    }

    @Test("state_dict keys are nn.MultiheadAttention's, in its order")
    func stateDictKeys() throws {
        // By hand from torch/nn/modules/activation.py: in_proj_weight or q/k/v_proj_weight, then
        // in_proj_bias, then the out_proj Linear.
        let packed = try MultiheadAttention(embedDimension: 6, heads: 3)
        #expect(packed.namedParameters().map(\.key) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
        #expect(packed.namedParameters().map(\.parameter.shape) == [[18, 6], [18], [6, 6], [6]])
        let separate = try MultiheadAttention(embedDimension: 6, heads: 3, keyDimension: 6, valueDimension: 2)
        #expect(separate.namedParameters().map(\.parameter.shape) == [[6, 6], [6, 6], [6, 2], [18], [6, 6], [6]])
        // PyTorch's initialisation: zero biases.
        #expect(try packed.inProjectionBias?.value.values.allSatisfy { $0 == 0 } == true)
        #expect(try packed.outProjection.bias?.value.values.allSatisfy { $0 == 0 } == true)
    }

    @Test("bad arguments throw naming the argument")
    func badArguments() throws {
        expectTempoError(containing: ["heads", "divisor of embedDimension = 10", "4"]) {
            _ = try MultiheadAttention(embedDimension: 10, heads: 4)
        }
        expectTempoError(containing: ["dropout"]) { _ = try MultiheadAttention(embedDimension: 4, heads: 2, dropout: 1.5) }
        let layer = try MultiheadAttention(embedDimension: 4, heads: 2, keyDimension: 3, batchFirst: true)
        let query = try Tensor.zeros([2, 5, 4]), key = try Tensor.zeros([2, 6, 3]), value = try Tensor.zeros([2, 6, 4])
        expectTempoError(containing: ["query", "[B, S, 4]", "[2, 5, 3]"]) {
            _ = try layer(Tensor.zeros([2, 5, 3]), key: key, value: value)
        }
        expectTempoError(containing: ["key", "[B, S, 3]"]) { _ = try layer(query, key: value, value: value) }
        expectTempoError(containing: ["value", "S = 6"]) { _ = try layer(query, key: key, value: Tensor.zeros([2, 7, 4])) }
        expectTempoError(containing: ["key", "B = 2"]) { _ = try layer(query, key: Tensor.zeros([3, 6, 3]), value: value) }
        expectTempoError(containing: ["keyPaddingMask", "[2, 6]", "[2, 5]"]) {
            _ = try layer(query, key: key, value: value, keyPaddingMask: Tensor.zeros([2, 5]))
        }
        expectTempoError(containing: ["attentionMask", "[5, 6]", "[4, 5, 6]", "[5, 5]"]) {
            _ = try layer(query, key: key, value: value, attentionMask: .additive(Tensor.zeros([5, 5])))
        }
    }
}
