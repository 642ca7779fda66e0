import TempoCompute
import TempoTestSupport

/// One configuration of the recurrent sequence op with seeded inputs: runs the op on a device and
/// the Double reference on the host from the same values.
struct RecurrentCase: CustomStringConvertible, Sendable {
    var cell: RecurrentCell
    var steps: Int
    var batch: Int
    var inputSize: Int
    var hiddenSize: Int
    var projectionSize = 0
    var directions = 1
    var bias = true
    var initialState = true
    var lengths: [Int]? = nil
    var seed: UInt64 = 1

    var description: String {
        "\(cell) T\(steps) B\(batch) I\(inputSize) H\(hiddenSize)"
            + (projectionSize > 0 ? " P\(projectionSize)" : "") + " D\(directions)" + (bias ? "" : " nobias")
            + (initialState ? "" : " zero-state") + (lengths.map { " lengths \($0)" } ?? "")
    }

    var stateSize: Int { projectionSize > 0 ? projectionSize : hiddenSize }

    /// Seeded values, uniform in ±`scale` like PyTorch's recurrent init (±1/sqrt(H)) but wider, so
    /// the gates leave their linear range.
    private func values(_ count: Int, _ index: UInt64, scale: Float = 0.6) -> [Float] {
        var generator = SeededGenerator(seed: seed &* 1_000_003 &+ index)
        return (0..<count).map { _ in generator.nextFloat(in: -scale...scale) }
    }

    var x: [Float] { values(steps * batch * inputSize, 1, scale: 1) }
    var h0: [Float]? { initialState ? values(directions * batch * stateSize, 2, scale: 1) : nil }
    var c0: [Float]? { initialState && cell.hasCellState ? values(directions * batch * hiddenSize, 3, scale: 1) : nil }

    func weights(direction d: Int) -> ReferenceRecurrentWeights {
        let rows = cell.gateCount * hiddenSize
        let base = UInt64(10 + 10 * d)
        return ReferenceRecurrentWeights(
            input: values(rows * inputSize, base),
            hidden: values(rows * stateSize, base + 1),
            inputBias: bias ? values(rows, base + 2) : nil,
            hiddenBias: bias ? values(rows, base + 3) : nil,
            peephole: cell.peepholeCount > 0 ? values(cell.peepholeCount * hiddenSize, base + 4) : nil,
            projection: projectionSize > 0 ? values(projectionSize * hiddenSize, base + 5) : nil)
    }

    /// The op's arguments on `device`: input `[T, B, I]`, weights per direction, initial state.
    func tensors(on device: Device) throws -> (input: Tensor, weights: [RecurrentWeights], state: RecurrentState?) {
        let rows = cell.gateCount * hiddenSize
        func tensor(_ values: [Float]?, _ shape: [Int]) throws -> Tensor? {
            try values.map { try Tensor(shape: shape, values: $0, device: device) }
        }
        let weights = try (0..<directions).map { d -> RecurrentWeights in
            let w = self.weights(direction: d)
            return RecurrentWeights(
                input: try Tensor(shape: [rows, inputSize], values: w.input, device: device),
                hidden: try Tensor(shape: [rows, stateSize], values: w.hidden, device: device),
                inputBias: try tensor(w.inputBias, [rows]), hiddenBias: try tensor(w.hiddenBias, [rows]),
                peephole: try tensor(w.peephole, [cell.peepholeCount * hiddenSize]),
                projection: try tensor(w.projection, [projectionSize, hiddenSize]))
        }
        let input = try Tensor(shape: [steps, batch, inputSize], values: x, device: device)
        let state = try h0.map { h0 in
            RecurrentState(
                hidden: try Tensor(shape: [directions, batch, stateSize], values: h0, device: device),
                cell: try tensor(c0, [directions, batch, hiddenSize]))
        }
        return (input, weights, state)
    }

    /// The op's result on `device`: output `[T, B, D*R]`, state.
    func run(on device: Device) throws -> (output: Tensor, state: RecurrentState) {
        let (input, weights, state) = try tensors(on: device)
        return try input.recurrentSequence(cell: cell, weights: weights, initialState: state, lengths: lengths)
    }

    /// The Double reference on the same values.
    func reference() -> (output: [Float], hidden: [Float], cell: [Float]) {
        Reference.recurrentSequence(
            cell: cell, x: x, steps: steps, batch: batch, inputSize: inputSize, hiddenSize: hiddenSize,
            projectionSize: projectionSize, weights: (0..<directions).map { weights(direction: $0) }, h0: h0, c0: c0,
            lengths: lengths)
    }
}

/// Float32 in another order than the Double reference, over a few dozen steps of saturating gates.
let recurrentTolerance = Tolerance(absolute: 2e-5, relative: 1e-4)

/// Every cell variant the op offers.
let allRecurrentCells: [RecurrentCell] = [
    .rnn(.tanh), .rnn(.relu),
    .lstm(), .lstm(peephole: true), .lstm(coupledGates: true), .lstm(peephole: true, coupledGates: true),
    .gru(.resetAfterMatmul), .gru(.resetBeforeMatmul),
]
