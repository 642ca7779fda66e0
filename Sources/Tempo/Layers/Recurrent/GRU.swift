/// A stacked, optionally bidirectional GRU, as PyTorch's `nn.GRU`, whose `state_dict` loads
/// unchanged.
///
/// Per step, with the gates in PyTorch's order `r, z, n` (rows of the weights):
/// `r = σ(W_ir x + b_ir + W_hr h + b_hr)`, `z` likewise, `h' = (1 - z) ⊙ n + z ⊙ h`, where
/// - `.resetAfterMatmul` (PyTorch's, the default): `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`;
/// - `.resetBeforeMatmul` (Cho et al., ONNX's default, Keras `reset_after=False`):
///   `n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)`.
///
/// The parameters are the same in both forms, so a checkpoint loads into either; only the
/// numbers differ.
///
/// Shapes, the state layout, lengths and streaming are those of ``RecurrentModule``.
public final class GRU: RecurrentModule {
    public let form: GRUForm

    /// The arguments and their defaults are PyTorch's; every weight and bias is drawn from
    /// U(-1/√H, 1/√H) as PyTorch draws them.
    public init(
        inputSize: Int, hiddenSize: Int, layers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
        dropout: Float = 0, bidirectional: Bool = false, form: GRUForm = .resetAfterMatmul, device: Device = .cpu
    ) throws {
        self.form = form
        try super.init(
            cell: .gru(form), inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias,
            batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, device: device)
    }
}
