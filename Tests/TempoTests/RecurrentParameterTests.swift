import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

/// Parameter keys, shapes and order as PyTorch's `state_dict()`, written out by hand from
/// PyTorch's documentation of `nn.RNN`, `nn.LSTM` and `nn.GRU` (`weight_ih_l[k]`: `(G*hidden_size,
/// input_size)` for k = 0, else `(G*hidden_size, num_directions * hidden_size)` or `proj_size`;
/// `weight_hh_l[k]`: `(G*hidden_size, hidden_size)` or `proj_size`; `weight_hr_l[k]`:
/// `(proj_size, hidden_size)`; `_reverse` for the backward direction).
@Suite("Recurrent layer parameters")
struct RecurrentParameterTests {
    private func keysAndShapes(_ module: Module) -> [String] {
        module.namedParameters().map { "\($0.key) \(TempoError.format($0.parameter.shape))" }
    }

    @Test("nn.LSTM(5, 4, num_layers=2, bidirectional=True)")
    func bidirectionalTwoLayerLSTM() throws {
        let layer = try LSTM(inputSize: 5, hiddenSize: 4, layers: 2, bidirectional: true)
        #expect(keysAndShapes(layer) == [
            "weight_ih_l0 [16, 5]", "weight_hh_l0 [16, 4]", "bias_ih_l0 [16]", "bias_hh_l0 [16]",
            "weight_ih_l0_reverse [16, 5]", "weight_hh_l0_reverse [16, 4]", "bias_ih_l0_reverse [16]", "bias_hh_l0_reverse [16]",
            "weight_ih_l1 [16, 8]", "weight_hh_l1 [16, 4]", "bias_ih_l1 [16]", "bias_hh_l1 [16]",
            "weight_ih_l1_reverse [16, 8]", "weight_hh_l1_reverse [16, 4]", "bias_ih_l1_reverse [16]", "bias_hh_l1_reverse [16]",
        ])
        #expect(layer.parameterCount == 2 * (16 * 5 + 16 * 4 + 32) + 2 * (16 * 8 + 16 * 4 + 32))
    }

    @Test("nn.LSTM(5, 4, proj_size=3)")
    func projectedLSTM() throws {
        let layer = try LSTM(inputSize: 5, hiddenSize: 4, projectionSize: 3)
        #expect(keysAndShapes(layer) == [
            "weight_ih_l0 [16, 5]", "weight_hh_l0 [16, 3]", "bias_ih_l0 [16]", "bias_hh_l0 [16]", "weight_hr_l0 [3, 4]",
        ])
        #expect(layer.stateSize == 3)
    }

    @Test("nn.GRU(5, 4)")
    func gru() throws {
        #expect(keysAndShapes(try GRU(inputSize: 5, hiddenSize: 4)) == [
            "weight_ih_l0 [12, 5]", "weight_hh_l0 [12, 4]", "bias_ih_l0 [12]", "bias_hh_l0 [12]",
        ])
    }

    @Test("nn.RNN(5, 4, nonlinearity='relu', bias=False)")
    func rnn() throws {
        let layer = try RNN(inputSize: 5, hiddenSize: 4, nonlinearity: .relu, bias: false)
        #expect(keysAndShapes(layer) == ["weight_ih_l0 [4, 5]", "weight_hh_l0 [4, 4]"])
        #expect(layer.cell == .rnn(.relu))
    }

    @Test("LSTM extensions: projection above the first layer, peepholes, coupled gates")
    func lstmExtensions() throws {
        let layer = try LSTM(inputSize: 5, hiddenSize: 4, layers: 2, bidirectional: true, projectionSize: 3, peephole: true)
        #expect(keysAndShapes(layer).filter { $0.contains("_l1") } == [
            "weight_ih_l1 [16, 6]", "weight_hh_l1 [16, 3]", "bias_ih_l1 [16]", "bias_hh_l1 [16]", "weight_hr_l1 [3, 4]",
            "weight_peephole_l1 [12]",
            "weight_ih_l1_reverse [16, 6]", "weight_hh_l1_reverse [16, 3]", "bias_ih_l1_reverse [16]", "bias_hh_l1_reverse [16]",
            "weight_hr_l1_reverse [3, 4]", "weight_peephole_l1_reverse [12]",
        ])
        let coupled = try LSTM(inputSize: 5, hiddenSize: 4, bias: false, peephole: true, coupledGates: true)
        #expect(keysAndShapes(coupled) == ["weight_ih_l0 [12, 5]", "weight_hh_l0 [12, 4]", "weight_peephole_l0 [8]"])
    }

    @Test("every weight and bias starts in U(-1/sqrt(H), 1/sqrt(H)), reproducibly from the seed")
    func initialisation() throws {
        let make = { try LSTM(inputSize: 7, hiddenSize: 16, layers: 2, bidirectional: true, projectionSize: 5, peephole: true) }
        let layer = try Random.withSeed(3, make)
        let bound: Float = 0.25
        for (key, tensor) in layer.stateDict() {
            let values = try tensor.values
            #expect(values.allSatisfy { abs($0) <= bound }, "\(key) outside ±\(bound)")
            #expect(values.contains { abs($0) > bound / 2 }, "\(key) does not spread over the range")
        }
        let again = try Random.withSeed(3, make)
        for ((key, a), (_, b)) in zip(layer.stateDict(), again.stateDict()) {
            #expect(try a.values == b.values, "\(key) differs with the same seed")
        }
    }

    @Test("a PyTorch state dict saved as safetensors round-trips through a layer")
    func safetensorsRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appending(path: "tempo-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let original = try Random.withSeed(4) { try GRU(inputSize: 3, hiddenSize: 2, layers: 2, bidirectional: true) }
        try original.save(safetensors: url)
        let copy = try Random.withSeed(5) { try GRU(inputSize: 3, hiddenSize: 2, layers: 2, bidirectional: true) }
        try copy.load(safetensors: url)
        for ((key, a), (_, b)) in zip(original.stateDict(), copy.stateDict()) {
            #expect(try a.values == b.values, "\(key)")
        }
        // A file for a layer of another size names the misshapen tensor.
        expectTempoError(containing: ["\"weight_ih_l0\"", "[6, 4]", "[6, 3]"]) {
            try GRU(inputSize: 4, hiddenSize: 2, layers: 2, bidirectional: true).load(safetensors: url)
        }
    }
}
