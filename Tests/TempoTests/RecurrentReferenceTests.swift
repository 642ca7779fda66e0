import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

/// LSTM and GRU layers loaded with PyTorch-keyed weights reproduce ONNX Runtime's outputs
/// (`Fixtures/reference`, cross-checked there against PyTorch).
@Suite("Recurrent layers against the reference fixtures")
struct RecurrentReferenceTests {
    /// Loads the case's weights, runs it from its h0 (and c0), compares y, h_n (and c_n).
    private func check(_ reference: ReferenceCase, layer: RecurrentModule, device: Device) throws {
        try layer.load(stateDict: reference.stateDict(device: device), source: reference.name)
        layer.eval()
        let hasCell = layer.cell.hasCellState
        let state = RecurrentState(
            hidden: try reference.tensor("h0", device: device), cell: hasCell ? try reference.tensor("c0", device: device) : nil)
        let (y, final) = try layer(reference.tensor("x", device: device), state: state)
        let what = "\(reference.name) on \(device.id)"
        #expect(y.shape == (try reference.shape("y")) && y.device == device)
        #expect(final.hidden.shape == (try reference.shape("h_n")))
        expectClose(try y.values, try reference.values("y"), reference.tolerance, "y of \(what)")
        expectClose(try final.hidden.values, try reference.values("h_n"), reference.tolerance, "h_n of \(what)")
        if hasCell {
            let cell = try #require(final.cell)
            expectClose(try cell.values, try reference.values("c_n"), reference.tolerance, "c_n of \(what)")
        } else {
            #expect(final.cell == nil)
        }
    }

    @Test("lstm: one layer, initial state", arguments: allDevices)
    func lstm(device: Device) throws {
        try check(ReferenceCase("lstm"), layer: LSTM(inputSize: 5, hiddenSize: 4, device: device), device: device)
    }

    @Test("lstm_bidir_2layer: two bidirectional layers", arguments: allDevices)
    func lstmBidirectionalTwoLayers(device: Device) throws {
        let layer = try LSTM(inputSize: 5, hiddenSize: 4, layers: 2, bidirectional: true, device: device)
        try check(ReferenceCase("lstm_bidir_2layer"), layer: layer, device: device)
    }

    @Test("gru: one layer, PyTorch's form (reset after the matmul)", arguments: allDevices)
    func gru(device: Device) throws {
        try check(ReferenceCase("gru"), layer: GRU(inputSize: 5, hiddenSize: 4, device: device), device: device)
    }

    @Test("the case files are the manifest's, every parameter a layer key")
    func fixturesAreComplete() throws {
        let reference = try ReferenceCase("lstm_bidir_2layer")
        let layer = try LSTM(inputSize: 5, hiddenSize: 4, layers: 2, bidirectional: true)
        #expect(Set(try reference.stateDict(device: .cpu).keys) == Set(layer.namedParameters().map(\.key)))
        #expect(try ReferenceCase("lstm").stateDict(device: .cpu).keys.sorted() == ["bias_hh_l0", "bias_ih_l0", "weight_hh_l0", "weight_ih_l0"])
    }
}
