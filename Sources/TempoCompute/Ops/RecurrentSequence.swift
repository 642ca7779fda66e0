/// The weights of one direction of one recurrent layer, in PyTorch's layout (see ``RecurrentCell``
/// for the gate blocks). `H` is the hidden size, `I` the input size, `G` the cell's gate count, and
/// `R` the size of the recurrent state `h`: `H`, or `P` with a projection.
public struct RecurrentWeights: Sendable {
    /// `weight_ih`: `[G*H, I]`.
    public var input: Tensor
    /// `weight_hh`: `[G*H, R]`.
    public var hidden: Tensor
    /// `bias_ih`: `[G*H]`. Biases come in pairs: both or neither.
    public var inputBias: Tensor?
    /// `bias_hh`: `[G*H]`.
    public var hiddenBias: Tensor?
    /// LSTM peephole weights: `[peepholeCount*H]`, blocks `i, f, o` (`f, o` with coupled gates).
    public var peephole: Tensor?
    /// LSTM projection `weight_hr`: `[P, H]`; the state `h` and the output then have `P` features.
    public var projection: Tensor?

    public init(
        input: Tensor, hidden: Tensor, inputBias: Tensor? = nil, hiddenBias: Tensor? = nil, peephole: Tensor? = nil,
        projection: Tensor? = nil
    ) {
        self.input = input
        self.hidden = hidden
        self.inputBias = inputBias
        self.hiddenBias = hiddenBias
        self.peephole = peephole
        self.projection = projection
    }
}

/// The state of a recurrent layer between steps: `hidden` `[D, B, R]` and, for an LSTM, `cell`
/// `[D, B, H]`, one row block per direction (forward first). Stacked layers concatenate theirs
/// along the first axis, as PyTorch's `h_n` and `c_n`.
public struct RecurrentState: Sendable {
    public var hidden: Tensor
    public var cell: Tensor?

    public init(hidden: Tensor, cell: Tensor? = nil) {
        self.hidden = hidden
        self.cell = cell
    }
}

extension Tensor {
    /// One recurrent layer over a whole sequence, every direction at once: the fused sequence op
    /// under `RNN`, `LSTM` and `GRU`.
    ///
    /// On OpenCL the input projection of all steps is one GEMM, then each step is one fused kernel
    /// (recurrent product, biases, activations and state update), two for the Cho GRU and the
    /// LSTM projection, whose second product needs the whole first result; no host round trip
    /// inside the sequence. On the CPU a team of threads runs the whole layer (see
    /// `recurrent_sequence.c`). Both keep the weights packed while they live.
    ///
    /// - Parameters:
    ///   - self: the input `[T, B, I]`, sequence-major.
    ///   - cell: the cell and its variant.
    ///   - weights: one entry per direction, forward first (1 or 2 entries).
    ///   - initialState: `hidden` `[D, B, R]` (and `cell` `[D, B, H]` for an LSTM); zeros when nil.
    ///   - lengths: each batch element's length, in `1...T` (ONNX's `sequence_lens`). Steps at or
    ///     past a sequence's length output zeros and leave its state alone, and the backward
    ///     direction starts at the sequence's own last step.
    /// - Returns: `output` `[T, B, D*R]` (forward features first) and the state after each
    ///   sequence's last step.
    public func recurrentSequence(
        cell: RecurrentCell, weights: [RecurrentWeights], initialState: RecurrentState? = nil, lengths: [Int]? = nil
    ) throws -> (output: Tensor, state: RecurrentState) {
        let descriptor = try RecurrentSequenceDescriptor(
            input: self, cell: cell, weights: weights, initialState: initialState, lengths: lengths)
        let d = descriptor
        let backend = try device.backend()
        let output = try Tensor.uninitialized([d.steps, d.batch, d.directions * d.stateSize], device: device)
        let hidden = try Tensor.uninitialized([d.directions, d.batch, d.stateSize], device: device)
        let cellState = cell.hasCellState
            ? try Tensor.uninitialized([d.directions, d.batch, d.hiddenSize], device: device) : nil
        try backend.recurrentSequence(
            d, input: buffer,
            weights: weights.map(RecurrentWeightBuffers.init),
            initialHidden: initialState?.hidden.buffer, initialCell: initialState?.cell?.buffer,
            lengths: lengths.map { $0.map { Int32($0) } },
            output: output.buffer, finalHidden: hidden.buffer, finalCell: cellState?.buffer)
        return (output, RecurrentState(hidden: hidden, cell: cellState))
    }
}

/// The buffers of ``RecurrentWeights``, as a backend receives them.
struct RecurrentWeightBuffers {
    var input: any DeviceBuffer
    var hidden: any DeviceBuffer
    var inputBias: (any DeviceBuffer)?
    var hiddenBias: (any DeviceBuffer)?
    var peephole: (any DeviceBuffer)?
    var projection: (any DeviceBuffer)?

    init(_ weights: RecurrentWeights) {
        input = weights.input.buffer
        hidden = weights.hidden.buffer
        inputBias = weights.inputBias?.buffer
        hiddenBias = weights.hiddenBias?.buffer
        peephole = weights.peephole?.buffer
        projection = weights.projection?.buffer
    }
}
