import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

/// The attention layers loaded with PyTorch state_dicts reproduce PyTorch's own modules (and the
/// official tutorials' modules) in eval mode: `Fixtures/attention_torch`, written by its
/// `make_fixture.py` with torch 2.15.
@Suite("Attention layers against PyTorch fixtures")
struct AttentionTorchFixtureTests {
    static let directory = fixturesDirectory.appending(path: "attention_torch")
    /// Float32 against float32 computed in another order.
    static let tolerance = Tolerance(absolute: 2e-5, relative: 1e-4)

    struct Case {
        let name: String
        let io: SafetensorsFile

        init(_ name: String) throws {
            self.name = name
            io = try SafetensorsFile(contentsOf: AttentionTorchFixtureTests.directory.appending(path: "\(name)_io.safetensors"))
        }

        func load(into module: Module) throws {
            try module.load(safetensors: AttentionTorchFixtureTests.directory.appending(path: "\(name)_model.safetensors"))
            module.eval()
        }

        func tensor(_ key: String, device: Device) throws -> Tensor { try io.tensor(key, device: device) }

        func expect(_ actual: Tensor, matches key: String, device: Device, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let expected = try #require(io.info(key))
            #expect(actual.shape == expected.shape, "\(name).\(key) shape", sourceLocation: sourceLocation)
            expectClose(try actual.values, try io.values(key), AttentionTorchFixtureTests.tolerance, "\(name).\(key) on \(device.id)",
                        sourceLocation: sourceLocation)
        }
    }

    @Test("nn.MultiheadAttention: kdim/vdim, key padding and boolean attn_mask, per-head weights", arguments: allDevices)
    func multiheadCross(device: Device) throws {
        let fixture = try Case("mha_cross")
        let layer = try MultiheadAttention(embedDimension: 8, heads: 2, keyDimension: 5, valueDimension: 7, device: device)
        try fixture.load(into: layer)
        let (out, weights) = try layer(
            fixture.tensor("query", device: device), key: fixture.tensor("key", device: device),
            value: fixture.tensor("value", device: device), keyPaddingMask: fixture.tensor("key_padding_mask", device: device),
            attentionMask: .ignore(fixture.tensor("attn_mask", device: device)), averageAttentionWeights: false)
        try fixture.expect(out, matches: "out", device: device)
        try fixture.expect(try #require(weights), matches: "weights", device: device)
    }

    @Test("nn.TransformerEncoder: two pre-norm GELU layers, final norm, causal with key padding", arguments: allDevices)
    func encoder(device: Device) throws {
        let fixture = try Case("encoder")
        let encoder = try TransformerEncoder(layerCount: 2, norm: LayerNorm(12, device: device)) {
            try TransformerEncoderLayer(
                modelDimension: 12, heads: 3, feedforwardDimension: 10, activation: .gelu, layerNormEpsilon: 1e-4,
                batchFirst: true, normFirst: true, device: device)
        }
        try fixture.load(into: encoder)
        let out = try encoder(
            fixture.tensor("src", device: device), keyPaddingMask: fixture.tensor("src_key_padding_mask", device: device),
            isCausal: true)
        try fixture.expect(out, matches: "out", device: device)
    }

    @Test("nn.TransformerEncoderLayer: post-norm ReLU, sequence-major, key padding", arguments: allDevices)
    func encoderLayer(device: Device) throws {
        let fixture = try Case("encoder_layer")
        let layer = try TransformerEncoderLayer(modelDimension: 8, heads: 2, feedforwardDimension: 6, device: device)
        try fixture.load(into: layer)
        let out = try layer(
            fixture.tensor("src", device: device), keyPaddingMask: fixture.tensor("src_key_padding_mask", device: device))
        try fixture.expect(out, matches: "out", device: device)
    }

    @Test("the seq2seq tutorial's BahdanauAttention", arguments: allDevices)
    func bahdanau(device: Device) throws {
        let fixture = try Case("bahdanau")
        let layer = try AdditiveAttention(querySize: 6, device: device)
        try fixture.load(into: layer)
        let (context, weights) = try layer(fixture.tensor("query", device: device), keys: fixture.tensor("keys", device: device))
        try fixture.expect(context, matches: "context", device: device)
        try fixture.expect(weights, matches: "weights", device: device)
    }

    @Test("the chatbot tutorial's Luong Attn, general and concat", arguments: allDevices, [LuongAttention.Score.general, .concat])
    func luong(device: Device, score: LuongAttention.Score) throws {
        let fixture = try Case(score == .general ? "luong_general" : "luong_concat")
        let layer = try LuongAttention(score, querySize: 6, device: device)
        try fixture.load(into: layer)
        // The tutorial passes sequence-major tensors: hidden [1, B, H], encoder_outputs [S, B, H].
        let query = try fixture.tensor("hidden", device: device).reshaped([3, 1, 6])
        let keys = try Tensor(shape: [3, 5, 6], values: swappingLeadingAxes(fixture.io.values("encoder_outputs"), 5, 3, 6), device: device)
        let (context, weights) = try layer(query, keys: keys)
        try fixture.expect(context, matches: "context", device: device)
        try fixture.expect(weights, matches: "weights", device: device)
    }

    @Test("the transformer tutorial's PositionalEncoding: the same pe buffer and output", arguments: allDevices)
    func positional(device: Device) throws {
        let fixture = try Case("positional")
        let encoding = try SinusoidalPositionalEncoding(modelDimension: 8, maxLength: 50, device: device)
        encoding.eval()
        let model = try SafetensorsFile(contentsOf: Self.directory.appending(path: "positional_model.safetensors"))
        // Tempo's own table (not loaded) against the tutorial's buffer.
        expectClose(try encoding.pe.value.values, try model.values("pe"), Tolerance(absolute: 1e-6), "pe on \(device.id)")
        try fixture.expect(try encoding(fixture.tensor("x", device: device)), matches: "y", device: device)
    }
}
