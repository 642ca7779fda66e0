/// The sizes of one recurrent sequence op, validated: what a backend needs besides the buffers.
///
/// Buffers a backend receives (all row-major float32):
/// - input `[T, B, I]`; output `[T, B, D*R]`, direction `d` in columns `d*R ..< (d+1)*R`;
/// - per direction (``RecurrentWeightBuffers``): input weight `[G*H, I]`, hidden weight `[G*H, R]`,
///   biases `[G*H]` (both or neither), peephole `[peepholeCount*H]`, projection `[P, H]`;
/// - initial hidden `[D, B, R]` and cell `[D, B, H]`, zeros when absent; final hidden and cell of
///   the same shapes (cell only for an LSTM).
///
/// Direction 0 runs `t = 0 ..< T`, direction 1 runs `t = T-1 ... 0`. With lengths, step `t` of
/// batch element `b` is active only when `t < lengths[b]`: an inactive step writes zeros to the
/// output and leaves the state as it was, so the forward state ends at the last valid step and the
/// backward direction starts there.
struct RecurrentSequenceDescriptor: Sendable, Hashable {
    var cell: RecurrentCell
    /// T
    var steps: Int
    /// B
    var batch: Int
    /// I
    var inputSize: Int
    /// H
    var hiddenSize: Int
    /// P, or 0 without a projection.
    var projectionSize: Int
    /// D: 1 or 2.
    var directions: Int
    var hasBias: Bool
    var hasLengths: Bool

    /// G
    var gateCount: Int { cell.gateCount }
    /// R: the size of `h`, the recurrent state and the output per direction.
    var stateSize: Int { projectionSize > 0 ? projectionSize : hiddenSize }
    /// The FLOPs of the matrix products, the way the benchmarks count them: input projection,
    /// recurrent product and projection.
    var flops: Double {
        let gates = Double(gateCount * hiddenSize)
        let perStep = 2 * gates * Double(inputSize + stateSize) + 2 * Double(projectionSize * hiddenSize)
        return Double(directions * steps * batch) * perStep
    }
}

extension RecurrentSequenceDescriptor {
    /// Validates a call of ``Tensor/recurrentSequence(cell:weights:initialState:lengths:)``.
    init(
        input: Tensor, cell: RecurrentCell, weights: [RecurrentWeights], initialState: RecurrentState?,
        lengths: [Int]?
    ) throws {
        guard input.rank == 3, input.shape.allSatisfy({ $0 >= 1 }) else {
            throw TempoError.shapeMismatch(argument: "input", expected: "[T, B, I] with every size at least 1", actual: input.shape)
        }
        guard (1...2).contains(weights.count) else {
            throw TempoError.invalidArgument(
                argument: "weights", expected: "1 or 2 directions", actual: "\(weights.count)")
        }
        let (steps, batch, inputSize) = (input.shape[0], input.shape[1], input.shape[2])
        let gates = cell.gateCount
        let first = weights[0]
        guard first.input.rank == 2, first.input.shape[0] % gates == 0, first.input.shape[0] > 0 else {
            throw TempoError.shapeMismatch(
                argument: "weights[0].input", expected: "[\(gates)*H, \(inputSize)] (\(cell))", actual: first.input.shape)
        }
        let hiddenSize = first.input.shape[0] / gates
        let projectionSize = first.projection.map { $0.rank == 2 ? $0.shape[0] : -1 } ?? 0
        guard projectionSize == 0 || cell.hasCellState else {
            throw TempoError.invalidArgument(
                argument: "weights[0].projection", expected: "nil (only an LSTM has a projection)", actual: "a tensor")
        }
        self.init(
            cell: cell, steps: steps, batch: batch, inputSize: inputSize, hiddenSize: hiddenSize,
            projectionSize: max(projectionSize, 0), directions: weights.count, hasBias: first.inputBias != nil,
            hasLengths: lengths != nil)

        for (direction, w) in weights.enumerated() {
            try check(w, direction: direction, input: input)
        }
        if let state = initialState {
            try check(state, input: input)
        }
        if let lengths {
            guard lengths.count == batch else {
                throw TempoError.invalidArgument(
                    argument: "lengths", expected: "\(batch) lengths (one per batch element)", actual: "\(lengths.count)")
            }
            if let bad = lengths.firstIndex(where: { !(1...steps).contains($0) }) {
                throw TempoError.invalidArgument(
                    argument: "lengths[\(bad)]", expected: "a length in 1...\(steps) (T = \(steps))", actual: "\(lengths[bad])")
            }
        }
    }

    private func check(_ w: RecurrentWeights, direction: Int, input: Tensor) throws {
        let name = "weights[\(direction)]"
        let rows = gateCount * hiddenSize
        func require(_ tensor: Tensor?, _ shape: [Int]?, _ field: String) throws {
            switch (tensor, shape) {
            case (nil, nil):
                return
            case (let tensor?, let shape?):
                try input.requireSameDevice(tensor, argument: "\(name).\(field)")
                guard tensor.shape == shape else {
                    throw TempoError.shapeMismatch(
                        argument: "\(name).\(field)", expected: TempoError.format(shape) + " (\(cell))", actual: tensor.shape)
                }
            case (nil, let shape?):
                throw TempoError.invalidArgument(
                    argument: "\(name).\(field)", expected: "a tensor of shape \(TempoError.format(shape))", actual: "nil")
            case (.some, nil):
                throw TempoError.invalidArgument(
                    argument: "\(name).\(field)", expected: "nil (as direction 0 and the cell \(cell) have)", actual: "a tensor")
            }
        }
        try require(w.input, [rows, inputSize], "input")
        try require(w.hidden, [rows, stateSize], "hidden")
        try require(w.inputBias, hasBias ? [rows] : nil, "inputBias")
        try require(w.hiddenBias, hasBias ? [rows] : nil, "hiddenBias")
        let peepholes = cell.peepholeCount
        try require(w.peephole, peepholes > 0 ? [peepholes * hiddenSize] : nil, "peephole")
        try require(w.projection, projectionSize > 0 ? [projectionSize, hiddenSize] : nil, "projection")
    }

    private func check(_ state: RecurrentState, input: Tensor) throws {
        try input.requireSameDevice(state.hidden, argument: "initialState.hidden")
        guard state.hidden.shape == [directions, batch, stateSize] else {
            throw TempoError.shapeMismatch(
                argument: "initialState.hidden", expected: TempoError.format([directions, batch, stateSize]),
                actual: state.hidden.shape)
        }
        switch (state.cell, cell.hasCellState) {
        case (let c?, true):
            try input.requireSameDevice(c, argument: "initialState.cell")
            guard c.shape == [directions, batch, hiddenSize] else {
                throw TempoError.shapeMismatch(
                    argument: "initialState.cell", expected: TempoError.format([directions, batch, hiddenSize]),
                    actual: c.shape)
            }
        case (nil, true):
            throw TempoError.invalidArgument(
                argument: "initialState.cell", expected: "a tensor of shape \(TempoError.format([directions, batch, hiddenSize])) (an LSTM carries a cell state)",
                actual: "nil")
        case (.some, false):
            throw TempoError.invalidArgument(
                argument: "initialState.cell", expected: "nil (\(cell) has no cell state)", actual: "a tensor")
        case (nil, false):
            break
        }
    }
}
