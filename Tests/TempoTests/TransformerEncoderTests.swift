import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

@Suite("TransformerEncoder and positional encodings")
struct TransformerEncoderTests {
    struct Variant: CustomTestStringConvertible, Sendable {
        var normFirst: Bool
        var gelu: Bool
        var batchFirst: Bool
        var testDescription: String { "normFirst \(normFirst), \(gelu ? "GELU" : "ReLU"), batchFirst \(batchFirst)" }
    }

    static let variants = [
        Variant(normFirst: false, gelu: false, batchFirst: true), Variant(normFirst: true, gelu: false, batchFirst: false),
        Variant(normFirst: false, gelu: true, batchFirst: false), Variant(normFirst: true, gelu: true, batchFirst: true),
    ]

    @Test("an encoder layer in eval mode equals the float64 reference, with key padding", arguments: allDevices, variants)
    func encoderLayer(device: Device, variant: Variant) throws {
        let (batch, length, embed, heads, feedforward) = (2, 5, 12, 3, 10)
        let layer = try TransformerEncoderLayer(
            modelDimension: embed, heads: heads, feedforwardDimension: feedforward, activation: variant.gelu ? .gelu : .relu,
            layerNormEpsilon: 1e-4, batchFirst: variant.batchFirst, normFirst: variant.normFirst, device: device)
        let parameters = try randomizeParameters(of: layer, seed: 40)
        layer.eval()
        let shape = variant.batchFirst ? [batch, length, embed] : [length, batch, embed]
        let x = try Tensor.normal(shape, seed: 9, device: device)
        let padded: (Int, Int) -> Bool = { b, j in b == 1 && j >= 3 }
        let y = try layer(x, keyPaddingMask: maskTensor([batch, length], device: device) { padded($0 / length, $0 % length) })
        #expect(y.shape == shape)
        let xb = variant.batchFirst ? try x.values.doubles : batchFirstValues(try x.values.doubles, length: length, batch: batch)
        let expected = try AttentionReference.encoderLayer(
            parameters, x: xb, batch: batch, length: length, embed: embed, heads: heads, feedforward: feedforward,
            normFirst: variant.normFirst, gelu: variant.gelu, epsilon: 1e-4, allowed: { b, _, _, j in !padded(b, j) })
        let actual = variant.batchFirst ? try y.values : swappingLeadingAxes(try y.values, length, batch, embed)
        expectClose(actual, expected.floats, attentionTolerance, "encoder layer \(variant.testDescription) on \(device.id)")
    }

    @Test("a two-layer causal encoder with a final norm equals the reference layers in turn", arguments: allDevices)
    func encoderStack(device: Device) throws {
        let (batch, length, embed, heads, feedforward) = (3, 4, 8, 2, 6)
        let encoder = try TransformerEncoder(layerCount: 2, norm: LayerNorm(embed, device: device)) {
            try TransformerEncoderLayer(
                modelDimension: embed, heads: heads, feedforwardDimension: feedforward, batchFirst: true, device: device)
        }
        let parameters = try randomizeParameters(of: encoder, seed: 50)
        encoder.eval()
        let x = try Tensor.normal([batch, length, embed], seed: 10, device: device)
        let y = try encoder(x, isCausal: true)
        var expected = try x.values.doubles
        for index in 0..<2 {
            expected = try AttentionReference.encoderLayer(
                parameters, prefix: "layers.\(index).", x: expected, batch: batch, length: length, embed: embed, heads: heads,
                feedforward: feedforward, normFirst: false, gelu: false, epsilon: 1e-5, allowed: { _, _, i, j in j <= i })
        }
        expected = AttentionReference.layerNorm(
            expected, size: embed, weight: try #require(parameters["norm.weight"]), bias: try #require(parameters["norm.bias"]),
            epsilon: 1e-5)
        expectClose(try y.values, expected.floats, attentionTolerance, "encoder on \(device.id)")
    }

    @Test("state_dict keys and module names are PyTorch's")
    func stateDictKeys() throws {
        // By hand from torch/nn/modules/transformer.py.
        let layerKeys = [
            "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight",
            "norm2.bias",
        ]
        let layer = try TransformerEncoderLayer(modelDimension: 8, heads: 2, feedforwardDimension: 16)
        #expect(layer.namedParameters().map(\.key) == layerKeys)
        #expect(layer.namedModules().map(\.key) == [
            "", "self_attn", "self_attn.out_proj", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2",
        ])
        #expect(layer.linear1.weight.shape == [16, 8] && layer.linear2.weight.shape == [8, 16])
        let encoder = try TransformerEncoder(layerCount: 2, norm: LayerNorm(8)) {
            try TransformerEncoderLayer(modelDimension: 8, heads: 2, feedforwardDimension: 16)
        }
        #expect(encoder.namedParameters().map(\.key) ==
            layerKeys.map { "layers.0." + $0 } + layerKeys.map { "layers.1." + $0 } + ["norm.weight", "norm.bias"])
    }

    @Test("dropout acts in training mode only", arguments: allDevices)
    func trainingDropout(device: Device) throws {
        let layer = try TransformerEncoderLayer(modelDimension: 8, heads: 2, feedforwardDimension: 8, dropout: 0.3, device: device)
        let x = try Tensor.normal([3, 2, 8], seed: 11, device: device)
        layer.eval()
        let first = try layer(x).values
        #expect(try layer(x).values == first)
        layer.train()
        let trained = try layer(x).values
        #expect(trained != first)
        #expect(trained.allSatisfy { $0.isFinite })
    }

    @Test("sinusoidal table: sin on even columns, cos on odd, odd width; added per position for both layouts", arguments: allDevices)
    func sinusoidal(device: Device) throws {
        let (width, batch, length) = (7, 2, 3)
        let encoding = try SinusoidalPositionalEncoding(modelDimension: width, dropout: 0, maxLength: 20, device: device)
        #expect(encoding.namedParameters().map(\.key) == ["pe"] && encoding.pe.shape == [20, 1, width])
        let table = try encoding.pe.value.values
        for position in [0, 1, 13] {
            for column in 0..<width {
                let angle = Double(position) / pow(10000, Double(column - column % 2) / Double(width))
                let expected = column % 2 == 0 ? sin(angle) : cos(angle)
                #expect(abs(Double(table[position * width + column]) - expected) < 1e-6, "pe[\(position), \(column)]")
            }
        }
        let x = try Tensor.normal([length, batch, width], seed: 12, device: device)
        let xs = try x.values
        let y = try encoding(x, offset: 4).values
        for s in 0..<length {
            for b in 0..<batch {
                for c in 0..<width {
                    let index = (s * batch + b) * width + c
                    #expect(y[index] == xs[index] + table[(s + 4) * width + c])
                }
            }
        }
        let batchFirst = try SinusoidalPositionalEncoding(modelDimension: width, dropout: 0, maxLength: 20, batchFirst: true, device: device)
        let yb = try batchFirst(x.reshaped([batch, length, width])).values
        for index in yb.indices {
            let (s, c) = ((index / width) % length, index % width)
            #expect(yb[index] == xs[index] + table[s * width + c])
        }
        expectTempoError(containing: ["offset", "maxLength = 20"]) { _ = try encoding(x, offset: 18) }
        expectTempoError(containing: ["x", "[S, B, 7]"]) { _ = try encoding(Tensor.zeros([3, 2, 6], device: device)) }
    }

    @Test("learned encoding adds weight rows from the offset", arguments: allDevices)
    func learned(device: Device) throws {
        let encoding = try LearnedPositionalEncoding(modelDimension: 3, maxLength: 9, dropout: 0, batchFirst: true, device: device)
        #expect(encoding.namedParameters().map(\.key) == ["weight"] && encoding.weight.shape == [9, 3])
        let table = try encoding.weight.value.values
        let x = try Tensor.normal([2, 4, 3], seed: 13, device: device)
        let (xs, y) = (try x.values, try encoding(x, offset: 5).values)
        for index in y.indices {
            #expect(y[index] == xs[index] + table[((index / 3) % 4 + 5) * 3 + index % 3])
        }
    }

    @Test("bad arguments throw naming the argument")
    func badArguments() throws {
        expectTempoError(containing: ["heads", "divisor of modelDimension = 10", "3"]) {
            _ = try TransformerEncoderLayer(modelDimension: 10, heads: 3)
        }
        expectTempoError(containing: ["layers[1]", "batchFirst"]) {
            _ = try TransformerEncoder(layers: [
                TransformerEncoderLayer(modelDimension: 4, heads: 2, batchFirst: true),
                TransformerEncoderLayer(modelDimension: 4, heads: 2, batchFirst: false),
            ])
        }
        let layer = try TransformerEncoderLayer(modelDimension: 4, heads: 2, feedforwardDimension: 4)
        expectTempoError(containing: ["query", "[S, B, 4]"]) { _ = try layer(Tensor.zeros([3, 2, 5])) }
        expectTempoError(containing: ["keyPaddingMask", "[2, 3]"]) {
            _ = try layer(Tensor.zeros([3, 2, 4]), keyPaddingMask: Tensor.zeros([3, 2]))
        }
    }
}
