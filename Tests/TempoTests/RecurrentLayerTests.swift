import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

/// The layer-level behaviour of `RNN`, `LSTM` and `GRU`: streaming, lengths, batch-first and
/// inter-layer dropout, on every device.
@Suite("Recurrent layers")
struct RecurrentLayerTests {
    /// Two stacked layers of every cell family, with the LSTM variants that change the state size.
    static func streamingLayers(device: Device) throws -> [(String, RecurrentModule)] {
        try Random.withSeed(21) {
            [
                ("LSTM with projection and peepholes", try LSTM(
                    inputSize: 3, hiddenSize: 5, layers: 2, projectionSize: 2, peephole: true, device: device)),
                ("LSTM with coupled gates", try LSTM(
                    inputSize: 3, hiddenSize: 5, layers: 2, peephole: true, coupledGates: true, device: device)),
                ("GRU, reset after", try GRU(inputSize: 3, hiddenSize: 5, layers: 2, device: device)),
                ("GRU, reset before", try GRU(inputSize: 3, hiddenSize: 5, layers: 2, form: .resetBeforeMatmul, device: device)),
                ("RNN relu", try RNN(inputSize: 3, hiddenSize: 5, layers: 2, nonlinearity: .relu, device: device)),
            ]
        }
    }

    @Test("step by step over T gives the whole-sequence call's outputs and state", arguments: allDevices)
    func streaming(device: Device) throws {
        let (steps, batch) = (6, 3)
        for (name, layer) in try Self.streamingLayers(device: device) {
            layer.eval()
            let x = try Tensor.normal([steps, batch, 3], seed: 5, device: device)
            for initial in [nil, try randomState(for: layer, batch: batch, seed: 7, device: device)] {
                let whole = try layer(x, state: initial)
                var state = initial
                var outputs: [Float] = []
                for t in 0..<steps {
                    let (y, next) = try layer.step(x.slice(axis: 0, range: t..<t + 1).reshaped([batch, 3]), state: state)
                    #expect(y.shape == [batch, layer.stateSize])
                    outputs += try y.values
                    state = next
                }
                let what = "\(name), \(initial == nil ? "zero" : "given") state, on \(device.id)"
                expectClose(outputs, try whole.output.values, recurrentTolerance, "outputs of \(what)")
                let final = try #require(state)
                #expect(final.hidden.shape == [2, batch, layer.stateSize])
                expectClose(try final.hidden.values, try whole.state.hidden.values, recurrentTolerance, "h_n of \(what)")
                #expect((final.cell == nil) == !layer.cell.hasCellState)
                if let cell = final.cell, let wholeCell = whole.state.cell {
                    #expect(cell.shape == [2, batch, layer.hiddenSize])
                    expectClose(try cell.values, try wholeCell.values, recurrentTolerance, "c_n of \(what)")
                }
            }
        }
    }

    @Test("lengths: zeros past each length, and each sequence as if run alone and truncated", arguments: allDevices)
    func lengths(device: Device) throws {
        let (steps, batch, features) = (6, 3, 2 * 4)
        let lengths = [6, 2, 4]
        let layer = try Random.withSeed(31) {
            try LSTM(inputSize: 3, hiddenSize: 4, layers: 2, bidirectional: true, device: device)
        }
        layer.eval()
        let x = try Tensor.normal([steps, batch, 3], seed: 32, device: device)
        let initial = try randomState(for: layer, batch: batch, seed: 33, device: device)
        let (y, state) = try layer(x, state: initial, lengths: lengths)
        let output = try y.values, hidden = try state.hidden.values, cell = try #require(state.cell).values
        let outputShape = [steps, batch, features], stateShape = [4, batch, 4]

        for (b, length) in lengths.enumerated() {
            // The same sequence alone, cut to its length, from its own rows of the initial state.
            let alone = try layer(
                x.slice(axis: 1, range: b..<b + 1).slice(axis: 0, range: 0..<length),
                state: RecurrentState(
                    hidden: initial.hidden.slice(axis: 1, range: b..<b + 1),
                    cell: try initial.cell?.slice(axis: 1, range: b..<b + 1)))
            let aloneOutput = try alone.output.values, aloneHidden = try alone.state.hidden.values
            let aloneCell = try #require(alone.state.cell).values
            let what = "sequence \(b) (length \(length)) on \(device.id)"
            for t in 0..<steps {
                let row = block(output, t, b, shape: outputShape)
                if t < length {
                    expectClose(row, block(aloneOutput, t, 0, shape: [length, 1, features]), recurrentTolerance, "y[\(t)] of \(what)")
                } else {
                    #expect(row.allSatisfy { $0 == 0 }, "y[\(t)] of \(what) is past its length: \(row)")
                }
            }
            for r in 0..<4 {
                expectClose(
                    block(hidden, r, b, shape: stateShape), block(aloneHidden, r, 0, shape: [4, 1, 4]), recurrentTolerance,
                    "h_n[\(r)] of \(what)")
                expectClose(
                    block(cell, r, b, shape: stateShape), block(aloneCell, r, 0, shape: [4, 1, 4]), recurrentTolerance,
                    "c_n[\(r)] of \(what)")
            }
        }
        // Lengths all T are no lengths.
        let full = try layer(x, state: initial, lengths: [steps, steps, steps])
        expectClose(try full.output.values, try layer(x, state: initial).output.values, recurrentTolerance, "lengths all T on \(device.id)")
    }

    @Test("batchFirst gives the transposed result of the sequence-major call", arguments: allDevices)
    func batchFirst(device: Device) throws {
        let (steps, batch) = (5, 3)
        let sequenceMajor = try Random.withSeed(41) {
            try GRU(inputSize: 3, hiddenSize: 4, layers: 2, bidirectional: true, device: device)
        }
        let batchMajor = try GRU(inputSize: 3, hiddenSize: 4, layers: 2, batchFirst: true, bidirectional: true, device: device)
        try batchMajor.load(stateDict: parameterDictionary(sequenceMajor))
        let x = try Tensor.normal([steps, batch, 3], seed: 42, device: device)
        let xBatchFirst = try Tensor(
            shape: [batch, steps, 3], values: swappingLeadingAxes(x.values, steps, batch, 3), device: device)
        let initial = try randomState(for: sequenceMajor, batch: batch, seed: 43, device: device)
        let lengths = [5, 1, 3]

        let expected = try sequenceMajor(x, state: initial, lengths: lengths)
        let actual = try batchMajor(xBatchFirst, state: initial, lengths: lengths)
        #expect(actual.output.shape == [batch, steps, 8])
        #expect(actual.state.hidden.shape == [4, batch, 4])
        let what = "batchFirst on \(device.id)"
        expectClose(
            try actual.output.values, swappingLeadingAxes(try expected.output.values, steps, batch, 8), .exact, "output of \(what)")
        expectClose(try actual.state.hidden.values, try expected.state.hidden.values, .exact, "h_n of \(what)")
    }

    @Test("dropout acts between layers in training only, never after the last layer", arguments: allDevices)
    func dropoutBetweenLayers(device: Device) throws {
        func pair(layers: Int) throws -> (plain: LSTM, dropping: LSTM) {
            let plain = try Random.withSeed(51) { try LSTM(inputSize: 3, hiddenSize: 4, layers: layers, bidirectional: true, device: device) }
            let dropping = try LSTM(inputSize: 3, hiddenSize: 4, layers: layers, dropout: 0.5, bidirectional: true, device: device)
            try dropping.load(stateDict: parameterDictionary(plain))
            return (plain, dropping)
        }
        let x = try Tensor.normal([5, 3, 3], seed: 52, device: device)

        // Two layers, training (a module's initial mode): layer 1 reads a dropped-out input.
        let two = try pair(layers: 2)
        #expect(two.dropping.isTraining)
        let plain = try two.plain(x), dropped = try two.dropping(x)
        #expect(try plain.output.values != dropped.output.values, "dropout 0.5 changed nothing on \(device.id)")
        // Layer 0's state (rows 0 and 1) is before any dropout; layer 1's is not.
        let plainHidden = try plain.state.hidden.values, droppedHidden = try dropped.state.hidden.values
        #expect(plainHidden[0..<24] == droppedHidden[0..<24])
        #expect(plainHidden[24..<48] != droppedHidden[24..<48])
        // A new mask per call.
        #expect(try two.dropping(x).output.values != dropped.output.values)
        // Evaluation mode: no dropout.
        two.dropping.eval()
        #expect(try two.dropping(x).output.values == plain.output.values)

        // One layer: nothing to drop between.
        let one = try pair(layers: 1)
        #expect(one.dropping.isTraining)
        #expect(try one.dropping(x).output.values == one.plain(x).output.values)
    }

    @Test("moving a layer moves its parameters; the result is the CPU's", arguments: allDevices)
    func moving(device: Device) throws {
        let layer = try Random.withSeed(61) { try LSTM(inputSize: 3, hiddenSize: 4, layers: 2, projectionSize: 3) }
        let x = try Tensor.normal([4, 2, 3], seed: 62)
        let expected = try layer(x)
        try layer.to(device)
        #expect(layer.device == device)
        let moved = try layer(x.to(device))
        expectClose(try moved.output.values, try expected.output.values, recurrentTolerance, "LSTM moved to \(device.id)")
        expectClose(try moved.state.hidden.values, try expected.state.hidden.values, recurrentTolerance, "h_n moved to \(device.id)")
    }
}
