/// A stacked, optionally bidirectional LSTM, as PyTorch's `nn.LSTM`, whose `state_dict` loads
/// unchanged.
///
/// Per step, with the gates in PyTorch's order `i, f, g, o` (rows of the weights):
/// `i = σ(W_ii x + b_ii + W_hi h + b_hi)`, `f` and `o` likewise, `g = tanh(...)`,
/// `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`. Variants (see `RecurrentCell`):
/// - `projectionSize` `P > 0` (PyTorch's `proj_size`): `h' = W_hr (o ⊙ tanh(c'))`, so `h` and the
///   output have `P` features, `weight_hh` is `[4H, P]` and layers above the first read `D*P`.
/// - `peephole`: the gates also see the cell state (`i` and `f` through `c`, `o` through `c'`),
///   weighted by `weight_peephole_l{k}` `[3H]`, blocks `i, f, o` (ONNX's `P`; PyTorch has none).
/// - `coupledGates`: `i = 1 - f` (CIFG), three gate blocks `f, g, o`; peepholes then `[2H]`.
///
/// ```swift
/// let lstm = try LSTM(inputSize: 256, hiddenSize: 512, layers: 2, bidirectional: true, device: device)
/// try lstm.load(safetensors: url)          // PyTorch nn.LSTM state_dict keys
/// let (y, state) = try lstm(x)             // x [T, B, 256]; y [T, B, 1024]; state.hidden, state.cell [4, B, 512]
/// ```
///
/// Shapes, the state layout, lengths and streaming are those of ``RecurrentModule``.
public final class LSTM: RecurrentModule {
    /// `P`, or 0 without a projection.
    public let projectionSize: Int
    public let peephole: Bool
    public let coupledGates: Bool

    /// The arguments and their defaults are PyTorch's; every weight and bias is drawn from
    /// U(-1/√H, 1/√H) as PyTorch draws them.
    public init(
        inputSize: Int, hiddenSize: Int, layers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
        dropout: Float = 0, bidirectional: Bool = false, projectionSize: Int = 0, peephole: Bool = false,
        coupledGates: Bool = false, device: Device = .cpu
    ) throws {
        self.projectionSize = projectionSize
        self.peephole = peephole
        self.coupledGates = coupledGates
        try super.init(
            cell: .lstm(peephole: peephole, coupledGates: coupledGates), inputSize: inputSize, hiddenSize: hiddenSize,
            projectionSize: projectionSize, layers: layers, bias: bias, batchFirst: batchFirst, dropout: dropout,
            bidirectional: bidirectional, device: device)
    }
}
