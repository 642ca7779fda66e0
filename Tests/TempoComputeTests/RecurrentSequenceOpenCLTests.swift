import TempoTestSupport
import Testing

@testable import TempoCompute

/// One call of the op on an OpenCL device, prepared so that it can be run in a chosen kernel
/// shape (the public API takes the device's default) and counted without the uploads around it.
struct OpenCLRecurrentCall {
    let backend: OpenCLBackend
    let descriptor: RecurrentSequenceDescriptor
    let input: Tensor
    let weights: [RecurrentWeights]
    let state: RecurrentState?
    let lengths: [Int32]?
    /// Filled with NaN, so that an element no kernel writes cannot pass for a result.
    let output: Tensor
    let hidden: Tensor
    let cell: Tensor?

    func callAsFunction(shape: OpenCLTunables.Shape) throws {
        try backend.recurrentSequence(
            descriptor, input: input.buffer, weights: weights.map(RecurrentWeightBuffers.init),
            initialHidden: state?.hidden.buffer, initialCell: state?.cell?.buffer, lengths: lengths,
            output: output.buffer, finalHidden: hidden.buffer, finalCell: cell?.buffer, shape: shape)
    }
}

extension RecurrentCase {
    /// The tensors of `run(on:)`, on `device`, ready for ``OpenCLRecurrentCall``.
    func prepare(on device: Device) throws -> OpenCLRecurrentCall {
        let backend = try #require(try device.backend() as? OpenCLBackend)
        let (input, weights, state) = try tensors(on: device)
        return OpenCLRecurrentCall(
            backend: backend,
            descriptor: try RecurrentSequenceDescriptor(
                input: input, cell: cell, weights: weights, initialState: state, lengths: lengths),
            input: input, weights: weights, state: state, lengths: lengths.map { $0.map { Int32($0) } },
            output: try Tensor(shape: [steps, batch, directions * stateSize], repeating: .nan, device: device),
            hidden: try Tensor(shape: [directions, batch, stateSize], repeating: .nan, device: device),
            cell: cell.hasCellState
                ? try Tensor(shape: [directions, batch, hiddenSize], repeating: .nan, device: device) : nil)
    }
}

/// Checks one case in one kernel shape against the Double reference.
private func expectMatchesReference(
    _ c: RecurrentCase, on device: Device, shape: OpenCLTunables.Shape, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let call = try c.prepare(on: device)
    try call(shape: shape)
    let (output, hidden, cell) = (call.output, call.hidden, call.cell)
    let expected = c.reference()
    let label = "\(c) \(shape) shape on \(device.id)"
    expectClose(try output.values, expected.output, recurrentTolerance, "output \(label)", sourceLocation: sourceLocation)
    expectClose(try hidden.values, expected.hidden, recurrentTolerance, "hidden \(label)", sourceLocation: sourceLocation)
    if let cell {
        expectClose(try cell.values, expected.cell, recurrentTolerance, "cell \(label)", sourceLocation: sourceLocation)
    }
}

@Suite("Recurrent sequence op, OpenCL kernel shapes")
struct RecurrentSequenceOpenCLTests {
    @Test("OpenCL is present when required")
    func availability() {
        checkOpenCLRequirement()
    }

    @Test("every cell variant, both directions", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func everyCell(device: Device, shape: OpenCLTunables.Shape) throws {
        for cell in allRecurrentCells {
            for directions in [1, 2] {
                try expectMatchesReference(
                    RecurrentCase(cell: cell, steps: 9, batch: 5, inputSize: 7, hiddenSize: 17, directions: directions),
                    on: device, shape: shape)
            }
        }
    }

    @Test("awkward sizes: H 1, 17, 33; B 1, 5; T 1, 9", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func awkwardSizes(device: Device, shape: OpenCLTunables.Shape) throws {
        for hiddenSize in [1, 17, 33] {
            for cell in [RecurrentCell.lstm(), .gru(.resetAfterMatmul), .gru(.resetBeforeMatmul), .rnn(.tanh)] {
                for (steps, batch) in [(1, 1), (9, 1), (1, 5), (9, 5)] {
                    try expectMatchesReference(
                        RecurrentCase(
                            cell: cell, steps: steps, batch: batch, inputSize: 3, hiddenSize: hiddenSize, directions: 2),
                        on: device, shape: shape)
                }
            }
        }
    }

    @Test("variable lengths", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func lengths(device: Device, shape: OpenCLTunables.Shape) throws {
        for cell in allRecurrentCells {
            try expectMatchesReference(
                RecurrentCase(
                    cell: cell, steps: 9, batch: 5, inputSize: 4, hiddenSize: 6, directions: 2, lengths: [9, 1, 4, 9, 7]),
                on: device, shape: shape)
        }
    }

    @Test("LSTM projection, with and without peepholes and lengths", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func projection(device: Device, shape: OpenCLTunables.Shape) throws {
        for cell in [RecurrentCell.lstm(), .lstm(peephole: true), .lstm(peephole: true, coupledGates: true)] {
            for lengths in [nil, [2, 6, 5]] {
                try expectMatchesReference(
                    RecurrentCase(
                        cell: cell, steps: 6, batch: 3, inputSize: 5, hiddenSize: 9, projectionSize: 4, directions: 2,
                        lengths: lengths),
                    on: device, shape: shape)
            }
        }
        // A projection wider than one tile of units, and one step.
        try expectMatchesReference(
            RecurrentCase(cell: .lstm(), steps: 1, batch: 2, inputSize: 3, hiddenSize: 20, projectionSize: 18),
            on: device, shape: shape)
    }

    @Test("no bias and zero initial state", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func noBiasZeroState(device: Device, shape: OpenCLTunables.Shape) throws {
        for cell in allRecurrentCells {
            try expectMatchesReference(
                RecurrentCase(
                    cell: cell, steps: 4, batch: 2, inputSize: 3, hiddenSize: 5, directions: 2, bias: false,
                    initialState: false),
                on: device, shape: shape)
        }
    }

    @Test("full row tiles plus a remainder, several unit tiles", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func fullTiles(device: Device, shape: OpenCLTunables.Shape) throws {
        for cell in allRecurrentCells {
            try expectMatchesReference(
                RecurrentCase(
                    cell: cell, steps: 3, batch: 17, inputSize: 20, hiddenSize: 40, directions: 2,
                    lengths: [3, 1, 2, 3, 3, 2, 1, 3, 3, 3, 2, 3, 1, 3, 3, 2, 3]),
                on: device, shape: shape)
        }
    }

    @Test("launches per call: one projection, one or two kernels per step (plus packs when cold)", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func launchCounts(device: Device, shape: OpenCLTunables.Shape) throws {
        let steps = 5
        for (cell, directions, projection) in [
            (RecurrentCell.lstm(), 1, 0), (.lstm(), 2, 0), (.gru(.resetBeforeMatmul), 2, 0), (.lstm(), 1, 3),
        ] {
            let c = RecurrentCase(
                cell: cell, steps: steps, batch: 3, inputSize: 4, hiddenSize: 8, projectionSize: projection,
                directions: directions)
            let call = try c.prepare(on: device)
            try call(shape: shape)  // builds the programs; the counted call below is a warm one
            let (_, counters) = try device.counting { try call(shape: shape) }
            // The CPU shape's GEMM covers every direction; the GPU shape's runs once per direction.
            let projections = shape == .cpu ? 1 : directions
            let perStep = projection > 0 || cell == .gru(.resetBeforeMatmul) ? 2 : 1
            // A warm call finds its packed weights in the backend's cache; a concurrent test may
            // have emptied the cache (releaseCachedMemory), and then the call packs again, once
            // per direction.
            let warm = projections + perStep * steps
            #expect(
                counters.launches == warm || counters.launches == warm + directions,
                "\(c) \(shape): \(counters.launches) launches")
        }
    }
}
