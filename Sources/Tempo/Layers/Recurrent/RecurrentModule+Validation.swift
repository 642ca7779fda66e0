/// Checks at the layer level, before anything runs: the sequence op validates each stacked layer's
/// own `[D, B, R]` slice, which would not tell the caller what the whole stack expects.
extension RecurrentModule {
    /// `state`: `hidden` `[L*D, B, R]` and, exactly for an LSTM, `cell` `[L*D, B, H]`.
    func validate(_ state: RecurrentState?, batch: Int) throws {
        guard let state else { return }
        let rows = layers * directions
        let sizes = "L = \(layers) layers, D = \(directions) direction\(directions == 1 ? "" : "s"), B = \(batch)"
        let r = stateSize == hiddenSize ? "R = hiddenSize \(hiddenSize)" : "R = projectionSize \(stateSize)"
        try requireDevice(of: state.hidden, argument: "state.hidden")
        guard state.hidden.shape == [rows, batch, stateSize] else {
            throw TempoError.shapeMismatch(
                argument: "state.hidden",
                expected: "[layers*D, B, R] = \(TempoError.format([rows, batch, stateSize])) (\(sizes), \(r))",
                actual: state.hidden.shape)
        }
        let cellShape = [rows, batch, hiddenSize]
        switch (state.cell, cell.hasCellState) {
        case (let c?, true):
            try requireDevice(of: c, argument: "state.cell")
            guard c.shape == cellShape else {
                throw TempoError.shapeMismatch(
                    argument: "state.cell",
                    expected: "[layers*D, B, H] = \(TempoError.format(cellShape)) (\(sizes), H = \(hiddenSize))",
                    actual: c.shape)
            }
        case (nil, true):
            throw TempoError.invalidArgument(
                argument: "state.cell",
                expected: "a tensor [layers*D, B, H] = \(TempoError.format(cellShape)) beside `hidden` (an LSTM's state has both)",
                actual: "nil")
        case (.some, false):
            throw TempoError.invalidArgument(
                argument: "state.cell", expected: "nil (\(cell) has no cell state)", actual: "a tensor")
        case (nil, false):
            break
        }
    }

    /// `lengths`: one per batch element, each in `1...T`.
    func validate(_ lengths: [Int]?, steps: Int, batch: Int) throws {
        guard let lengths else { return }
        guard lengths.count == batch else {
            throw TempoError.invalidArgument(
                argument: "lengths", expected: "\(batch) lengths (one per batch element, B = \(batch))",
                actual: "\(lengths.count)")
        }
        if let bad = lengths.firstIndex(where: { !(1...steps).contains($0) }) {
            throw TempoError.invalidArgument(
                argument: "lengths[\(bad)]", expected: "a length in 1...T = 1...\(steps)", actual: "\(lengths[bad])")
        }
    }
}
