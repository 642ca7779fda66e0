/// A stacked, optionally bidirectional Elman RNN, as PyTorch's `nn.RNN`, whose `state_dict` loads
/// unchanged.
///
/// Per step: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`, `act` being `tanh` or `relu`.
///
/// Shapes, the state layout, lengths and streaming are those of ``RecurrentModule``.
public final class RNN: RecurrentModule {
    public let nonlinearity: RNNNonlinearity

    /// The arguments and their defaults are PyTorch's; every weight and bias is drawn from
    /// U(-1/√H, 1/√H) as PyTorch draws them.
    public init(
        inputSize: Int, hiddenSize: Int, layers: Int = 1, nonlinearity: RNNNonlinearity = .tanh, bias: Bool = true,
        batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false, device: Device = .cpu
    ) throws {
        self.nonlinearity = nonlinearity
        try super.init(
            cell: .rnn(nonlinearity), inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias,
            batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, device: device)
    }
}
