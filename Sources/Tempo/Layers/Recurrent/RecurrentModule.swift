/// What ``RNN``, ``LSTM`` and ``GRU`` share, as PyTorch's `RNNBase`: stacked layers, one or two
/// directions, dropout between layers, the parameters under PyTorch's keys, the whole-sequence call
/// and streaming.
///
/// Sizes in the shapes below: `T` steps, `B` batch, `I` ``inputSize``, `H` ``hiddenSize``,
/// `D` ``directions`` (1 or 2), `R` ``stateSize`` (the size of `h`: `H`, or an LSTM's projection
/// size `P`), `L` ``layers``.
///
/// Each stacked layer is one call of the fused sequence op
/// (`Tensor.recurrentSequence(cell:weights:initialState:lengths:)`) with both
/// directions at once; layer `k > 0` reads layer `k-1`'s output `[T, B, D*R]`.
///
/// Not subclassable outside Tempo: the three layers are the variants.
public class RecurrentModule: Module {
    /// The cell every layer runs, with its variant.
    public let cell: RecurrentCell
    /// `I`: the features of each input step.
    public let inputSize: Int
    /// `H`: the features of the gates and of the cell state `c`.
    public let hiddenSize: Int
    /// `R`: the features of `h` and of each direction's output, `H` or an LSTM's projection size.
    public let stateSize: Int
    /// `L`: stacked layers (PyTorch's `num_layers`).
    public let layers: Int
    public let bidirectional: Bool
    /// Whether there are `bias_ih` and `bias_hh` parameters.
    public let bias: Bool
    /// Whether inputs and outputs are `[B, T, ...]` instead of `[T, B, ...]` (the state is
    /// `[L*D, B, R]` either way, as in PyTorch).
    public let batchFirst: Bool
    /// The probability of dropping each output element of every layer but the last, in training
    /// mode only (PyTorch's `dropout`).
    public let dropout: Float

    /// `[layer][direction]`.
    let directionParameters: [[RecurrentDirectionParameters]]
    /// The inter-layer dropout mask stream, as a ``Dropout`` layer keeps one: masks are a function
    /// of the seed and a counter, so the same model run the same way drops the same elements on
    /// every device.
    private let dropoutSeed: UInt64
    private var dropoutCalls: UInt32 = 0

    /// `D`: 2 when bidirectional, else 1.
    public var directions: Int { bidirectional ? 2 : 1 }

    /// Validates the sizes, then draws every parameter from the ``Random`` stream in `state_dict`
    /// order (and then, with dropout, the mask seed).
    init(
        cell: RecurrentCell, inputSize: Int, hiddenSize: Int, projectionSize: Int = 0, layers: Int, bias: Bool,
        batchFirst: Bool, dropout: Float, bidirectional: Bool, device: Device
    ) throws {
        for (name, size) in [("inputSize", inputSize), ("hiddenSize", hiddenSize), ("layers", layers)] where size < 1 {
            throw TempoError.invalidArgument(argument: name, expected: "at least 1", actual: "\(size)")
        }
        guard (0..<hiddenSize).contains(projectionSize) else {
            throw TempoError.invalidArgument(
                argument: "projectionSize", expected: "0 (none) or a size below hiddenSize \(hiddenSize)",
                actual: "\(projectionSize)")
        }
        guard (0...1).contains(dropout) else {
            throw TempoError.invalidArgument(argument: "dropout", expected: "a probability in 0...1", actual: "\(dropout)")
        }
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.stateSize = projectionSize > 0 ? projectionSize : hiddenSize
        self.layers = layers
        self.bidirectional = bidirectional
        self.bias = bias
        self.batchFirst = batchFirst
        self.dropout = dropout
        let directions = bidirectional ? 2 : 1
        let stateSize = self.stateSize
        directionParameters = try (0..<layers).map { layer in
            try (0..<directions).map { direction in
                try RecurrentDirectionParameters(
                    layer: layer, direction: direction, cell: cell,
                    inputSize: layer == 0 ? inputSize : directions * stateSize, hiddenSize: hiddenSize,
                    projectionSize: projectionSize, bias: bias, device: device)
            }
        }
        // Only a model with dropout takes a seed, so that the weights drawn after this layer do not
        // depend on whether dropout is off.
        dropoutSeed = dropout > 0 ? Random.draw { $0.next() } : 0
        super.init()
    }

    override public var members: [(key: String, member: ModuleMember)] {
        directionParameters.joined().flatMap(\.members)
    }

    /// Runs every layer over a whole sequence.
    ///
    /// - Parameters:
    ///   - x: `[T, B, I]`, or `[B, T, I]` with ``batchFirst``.
    ///   - state: the initial state, zeros when nil: `hidden` `[L*D, B, R]` and, for an LSTM, `cell`
    ///     `[L*D, B, H]`; row `layer*D + direction`, as PyTorch's `h_0` and `c_0`.
    ///   - lengths: each batch element's length, in `1...T`, for a padded batch (what PyTorch does
    ///     with a packed sequence). Outputs at and past a sequence's length are zeros, its final
    ///     state is the one after its own last step, and the backward direction starts there.
    /// - Returns: `output` `[T, B, D*R]` (`[B, T, D*R]` with ``batchFirst``), the last layer's `h`
    ///   at every step, forward features first; and the final state, laid out as `state`
    ///   (PyTorch's `h_n` and `c_n`).
    /// - Throws: ``TempoError`` naming `x`, `state.hidden`, `state.cell` or `lengths` when a shape,
    ///   device or length does not fit.
    public func callAsFunction(
        _ x: Tensor, state: RecurrentState? = nil, lengths: [Int]? = nil
    ) throws -> (output: Tensor, state: RecurrentState) {
        try requireDevice(of: x)
        guard x.rank == 3, x.shape[2] == inputSize, x.shape[0] >= 1, x.shape[1] >= 1 else {
            let layout = batchFirst ? "[B, T, \(inputSize)] (batchFirst)" : "[T, B, \(inputSize)]"
            throw TempoError.shapeMismatch(
                argument: "x", expected: "\(layout), inputSize \(inputSize), T and B at least 1", actual: x.shape)
        }
        let sequenceMajor = batchFirst ? try x.swappingLeadingAxes() : x
        try validate(lengths, steps: sequenceMajor.shape[0], batch: sequenceMajor.shape[1])
        let (output, final) = try run(sequenceMajor, state: state, lengths: lengths)
        return (batchFirst ? try output.swappingLeadingAxes() : output, final)
    }

    /// Runs one step through every layer, for streaming: feeding each step's returned state to the
    /// next step gives the same numbers as one ``callAsFunction(_:state:lengths:)`` over the whole
    /// sequence (in evaluation mode; in training mode each step draws its own dropout masks).
    ///
    /// A bidirectional layer cannot stream, and this throws: its backward direction starts at the
    /// sequence's last step, so no output exists until the whole sequence has been seen. Call the
    /// layer on the whole sequence instead.
    ///
    /// - Parameters:
    ///   - x: one step, `[B, I]` (``batchFirst`` does not apply).
    ///   - state: `hidden` `[L, B, R]` (and `cell` `[L, B, H]` for an LSTM), zeros when nil.
    /// - Returns: `output` `[B, R]`, the last layer's new `h`, and the state after this step.
    public func step(_ x: Tensor, state: RecurrentState? = nil) throws -> (output: Tensor, state: RecurrentState) {
        guard !bidirectional else {
            throw TempoError.invalidArgument(
                argument: "bidirectional",
                expected: "false for step(_:state:) (a backward direction starts at the last step, so it needs the whole sequence: call the layer on the sequence instead)",
                actual: "true")
        }
        try requireDevice(of: x)
        guard x.rank == 2, x.shape[1] == inputSize, x.shape[0] >= 1 else {
            throw TempoError.shapeMismatch(
                argument: "x", expected: "[B, \(inputSize)] (one step, inputSize \(inputSize), B at least 1)", actual: x.shape)
        }
        let (output, final) = try run(x.reshaped([1] + x.shape), state: state, lengths: nil)
        return (try output.reshaped([x.shape[0], stateSize]), final)
    }

    /// The stack over `x` `[T, B, I]`, whose shape and lengths are valid.
    private func run(
        _ x: Tensor, state: RecurrentState?, lengths: [Int]?
    ) throws -> (output: Tensor, state: RecurrentState) {
        try validate(state, batch: x.shape[1])
        let d = directions
        var input = x
        var hidden: [Tensor] = [], cells: [Tensor] = []
        for (layer, parameters) in directionParameters.enumerated() {
            let initial = try state.map { try $0.rows(layer * d ..< (layer + 1) * d, of: layers * d) }
            let (output, final) = try input.recurrentSequence(
                cell: cell, weights: parameters.map(\.weights), initialState: initial, lengths: lengths)
            hidden.append(final.hidden)
            if let c = final.cell { cells.append(c) }
            input = layer < layers - 1 ? try droppedOut(output) : output
        }
        return (input, RecurrentState(hidden: try Self.stacked(hidden), cell: cells.isEmpty ? nil : try Self.stacked(cells)))
    }

    /// Inter-layer dropout; the identity in evaluation mode.
    private func droppedOut(_ x: Tensor) throws -> Tensor {
        guard isTraining, dropout > 0 else { return x }
        defer { dropoutCalls &+= 1 }
        return try x.dropout(probability: dropout, seed: dropoutSeed, offset: dropoutCalls)
    }

    /// The layers' `[D, B, ...]` states as one `[L*D, B, ...]`; a single layer's is already that.
    private static func stacked(_ states: [Tensor]) throws -> Tensor {
        states.count == 1 ? states[0] : try Tensor.concatenate(states, axis: 0)
    }
}

extension RecurrentState {
    /// Rows `range` of both tensors (all `count` of them: no copy).
    fileprivate func rows(_ range: Range<Int>, of count: Int) throws -> RecurrentState {
        if range.count == count { return self }
        return RecurrentState(
            hidden: try hidden.slice(axis: 0, range: range), cell: try cell.map { try $0.slice(axis: 0, range: range) })
    }
}

extension Tensor {
    /// `[A, B, C]` to `[B, A, C]` (for `batchFirst`) with two matrix transposes: `[A, C, B]`, seen
    /// as `[A*C, B]`, transposed is `[B, A*C]`.
    fileprivate func swappingLeadingAxes() throws -> Tensor {
        let (a, b, c) = (shape[0], shape[1], shape[2])
        return try matrixTransposed().reshaped([a * c, b]).matrixTransposed().reshaped([b, a, c])
    }
}
