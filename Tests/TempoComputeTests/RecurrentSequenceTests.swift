import TempoTestSupport
import Testing

@testable import TempoCompute

/// Checks one case on one device against the Double reference.
private func expectMatchesReference(_ c: RecurrentCase, on device: Device, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let (output, state) = try c.run(on: device)
    let expected = c.reference()
    #expect(output.shape == [c.steps, c.batch, c.directions * c.stateSize], sourceLocation: sourceLocation)
    expectClose(try output.values, expected.output, recurrentTolerance, "output \(c) on \(device.id)", sourceLocation: sourceLocation)
    expectClose(try state.hidden.values, expected.hidden, recurrentTolerance, "hidden \(c) on \(device.id)", sourceLocation: sourceLocation)
    if c.cell.hasCellState {
        let cell = try #require(state.cell, sourceLocation: sourceLocation)
        expectClose(try cell.values, expected.cell, recurrentTolerance, "cell \(c) on \(device.id)", sourceLocation: sourceLocation)
    } else {
        #expect(state.cell == nil, sourceLocation: sourceLocation)
    }
}

@Suite("Recurrent sequence op")
struct RecurrentSequenceTests {
    @Test("every cell variant matches the Double reference, both directions", arguments: allRecurrentCells)
    func everyCell(cell: RecurrentCell) throws {
        for device in TestDevices.all {
            for directions in [1, 2] {
                try expectMatchesReference(
                    RecurrentCase(cell: cell, steps: 9, batch: 5, inputSize: 7, hiddenSize: 17, directions: directions),
                    on: device)
            }
        }
    }

    @Test("awkward sizes: H 1, 17, 33; B 1, 5; T 1, 9", arguments: [1, 17, 33])
    func awkwardSizes(hiddenSize: Int) throws {
        for device in TestDevices.all {
            for cell in [RecurrentCell.lstm(), .gru(.resetAfterMatmul), .gru(.resetBeforeMatmul), .rnn(.tanh)] {
                for (steps, batch) in [(1, 1), (9, 1), (1, 5), (9, 5)] {
                    try expectMatchesReference(
                        RecurrentCase(cell: cell, steps: steps, batch: batch, inputSize: 3, hiddenSize: hiddenSize, directions: 2),
                        on: device)
                }
            }
        }
    }

    @Test("variable lengths: zeros past the end, state at each sequence's last step", arguments: allRecurrentCells)
    func lengths(cell: RecurrentCell) throws {
        for device in TestDevices.all {
            try expectMatchesReference(
                RecurrentCase(
                    cell: cell, steps: 9, batch: 5, inputSize: 4, hiddenSize: 6, directions: 2, lengths: [9, 1, 4, 9, 7]),
                on: device)
        }
    }

    @Test("LSTM with a projection, with and without peepholes and lengths")
    func projection() throws {
        for device in TestDevices.all {
            for cell in [RecurrentCell.lstm(), .lstm(peephole: true), .lstm(peephole: true, coupledGates: true)] {
                try expectMatchesReference(
                    RecurrentCase(cell: cell, steps: 6, batch: 3, inputSize: 5, hiddenSize: 9, projectionSize: 4, directions: 2),
                    on: device)
                try expectMatchesReference(
                    RecurrentCase(
                        cell: cell, steps: 6, batch: 3, inputSize: 5, hiddenSize: 9, projectionSize: 4, directions: 2,
                        lengths: [2, 6, 5]),
                    on: device)
            }
        }
    }

    @Test("no bias and zero initial state")
    func noBiasZeroState() throws {
        for device in TestDevices.all {
            for cell in allRecurrentCells {
                try expectMatchesReference(
                    RecurrentCase(
                        cell: cell, steps: 4, batch: 2, inputSize: 3, hiddenSize: 5, directions: 2, bias: false,
                        initialState: false),
                    on: device)
            }
        }
    }

    @Test("larger sizes, where the backends take their blocked paths")
    func larger() throws {
        for device in TestDevices.all {
            for cell in [RecurrentCell.lstm(), .gru(.resetAfterMatmul), .gru(.resetBeforeMatmul)] {
                for batch in [1, 37] {
                    try expectMatchesReference(
                        RecurrentCase(cell: cell, steps: 5, batch: batch, inputSize: 70, hiddenSize: 129, directions: 2),
                        on: device)
                }
            }
        }
    }

    /// The CPU projects the inputs about 128 Ki gate values at a time (here 15 steps for the LSTM,
    /// 20 for the GRUs), double-buffered and shared out between threads as they wait: a sequence
    /// longer than that crosses chunk boundaries, ends in a short chunk, and the backward
    /// direction and the lengths read chunks in the other order.
    @Test("sequences longer than a chunk of projected inputs, both directions, with lengths")
    func severalChunks() throws {
        let lengths = (0..<64).map { 50 - ($0 * 7) % 45 }
        for device in TestDevices.all {
            // No plain RNN: its chunk is 62 steps here, and over 50 steps its tanh recurrence
            // amplifies rounding past the tolerance.
            for cell in [RecurrentCell.lstm(), .gru(.resetAfterMatmul), .gru(.resetBeforeMatmul)] {
                try expectMatchesReference(
                    RecurrentCase(cell: cell, steps: 50, batch: 64, inputSize: 7, hiddenSize: 33, directions: 2), on: device)
                try expectMatchesReference(
                    RecurrentCase(
                        cell: cell, steps: 50, batch: 64, inputSize: 7, hiddenSize: 33, directions: 2, lengths: lengths),
                    on: device)
            }
        }
    }

    @Test("a T-step LSTM issues at most 2T+1 launches and moves no bytes mid-sequence", .needsOpenCL)
    func launchStructure() throws {
        checkOpenCLRequirement()
        for device in TestDevices.openCL {
            for (cell, steps) in [(RecurrentCell.lstm(), 1), (.lstm(), 12), (.gru(.resetAfterMatmul), 12), (.rnn(.tanh), 12)] {
                let c = RecurrentCase(cell: cell, steps: steps, batch: 4, inputSize: 8, hiddenSize: 16, initialState: false)
                let (x, weights, _) = try c.tensors(on: device)
                _ = try c.run(on: device)  // builds the programs; the counted call below is a warm one
                let (_, counters) = try device.counting {
                    try x.recurrentSequence(cell: cell, weights: weights)
                }
                #expect(counters.launches <= 2 * steps + 1, "\(cell) T\(steps): \(counters)")
                #expect(counters.bytesToDevice == 0 && counters.bytesToHost == 0, "\(cell) T\(steps): \(counters)")
            }
        }
    }

    @Test("bad input throws naming the argument")
    func badInput() throws {
        let c = RecurrentCase(cell: .lstm(), steps: 3, batch: 2, inputSize: 4, hiddenSize: 5)
        let w = c.weights(direction: 0)
        let weights = RecurrentWeights(
            input: try Tensor(shape: [20, 4], values: w.input), hidden: try Tensor(shape: [20, 5], values: w.hidden))
        let x = try Tensor(shape: [3, 2, 4], values: c.x)
        let wrongInput = try Tensor.zeros([3, 2, 5])
        expectTempoError(containing: ["weights[0].input"]) { _ = try wrongInput.recurrentSequence(cell: .lstm(), weights: [weights]) }
        expectTempoError(containing: ["lengths[1]"]) { _ = try x.recurrentSequence(cell: .lstm(), weights: [weights], lengths: [3, 0]) }
        expectTempoError(containing: ["lengths[0]"]) { _ = try x.recurrentSequence(cell: .lstm(), weights: [weights], lengths: [4, 1]) }
        expectTempoError(containing: ["2 lengths"]) { _ = try x.recurrentSequence(cell: .lstm(), weights: [weights], lengths: [3]) }
        let badState = RecurrentState(hidden: try Tensor.zeros([1, 3, 5]), cell: try Tensor.zeros([1, 2, 5]))
        expectTempoError(containing: ["initialState.hidden"]) {
            _ = try x.recurrentSequence(cell: .lstm(), weights: [weights], initialState: badState)
        }
        let noCell = RecurrentState(hidden: try Tensor.zeros([1, 2, 5]))
        expectTempoError(containing: ["initialState.cell"]) {
            _ = try x.recurrentSequence(cell: .lstm(), weights: [weights], initialState: noCell)
        }
        expectTempoError(containing: ["weights[0].input"]) { _ = try x.recurrentSequence(cell: .gru(.resetAfterMatmul), weights: [weights]) }
        expectTempoError(containing: ["weights"]) { _ = try x.recurrentSequence(cell: .lstm(), weights: []) }
        expectTempoError(containing: ["input"]) { _ = try Tensor.zeros([3, 4]).recurrentSequence(cell: .lstm(), weights: [weights]) }
    }
}
