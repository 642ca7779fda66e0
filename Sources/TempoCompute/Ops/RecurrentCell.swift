/// The cell a recurrent sequence op runs at every step, with its variant.
///
/// Weight rows are stacked gate blocks of `H` rows each, in PyTorch's order:
///
/// | cell | gate blocks (`G`) | peephole blocks |
/// |---|---|---|
/// | `.rnn` | `h` (1) | none |
/// | `.lstm()` | `i, f, g, o` (4) | `i, f, o` |
/// | `.lstm(coupledGates: true)` | `f, g, o` (3) | `f, o` |
/// | `.gru(_)` | `r, z, n` (3) | none |
///
/// With `gx = W_ih x_t + b_ih` and `gh = W_hh h_{t-1} + b_hh` split into those blocks:
/// - RNN: `h_t = act(gx + gh)`.
/// - LSTM: `i = σ(gx_i + gh_i + p_i ⊙ c_{t-1})`, `f = σ(gx_f + gh_f + p_f ⊙ c_{t-1})`,
///   `g = tanh(gx_g + gh_g)`, `c_t = f ⊙ c_{t-1} + i ⊙ g`, `o = σ(gx_o + gh_o + p_o ⊙ c_t)`,
///   `h_t = o ⊙ tanh(c_t)`, then `h_t = W_hr h_t` with a projection. Coupled gates replace `i` by
///   `1 - f`. Peepholes are ONNX's `P` input.
/// - GRU: `r = σ(gx_r + gh_r)`, `z = σ(gx_z + gh_z)`, `h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}` with
///   `n = tanh(gx_n + r ⊙ gh_n)` in PyTorch's form and
///   `n = tanh(gx_n + W_hn (r ⊙ h_{t-1}) + b_hn)` in the original (Cho et al.) form.
public enum RecurrentCell: Hashable, Sendable, CustomStringConvertible {
    /// Elman RNN, PyTorch's `nn.RNN`.
    case rnn(RNNNonlinearity)
    /// LSTM, PyTorch's `nn.LSTM` when both flags are off.
    case lstm(peephole: Bool = false, coupledGates: Bool = false)
    /// GRU in the given form.
    case gru(GRUForm)

    /// Stacked gate blocks in the weights and biases (`G`: weights have `G * H` rows).
    public var gateCount: Int {
        switch self {
        case .rnn: 1
        case .lstm(_, let coupled): coupled ? 3 : 4
        case .gru: 3
        }
    }

    /// `H`-long blocks of the peephole vector (0 when the cell has none).
    public var peepholeCount: Int {
        switch self {
        case .lstm(true, let coupled): coupled ? 2 : 3
        default: 0
        }
    }

    /// Whether the cell carries a cell state `c` beside `h`.
    public var hasCellState: Bool {
        if case .lstm = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .rnn(let nonlinearity): "rnn(\(nonlinearity))"
        case let .lstm(peephole, coupled):
            "lstm" + (peephole ? "+peephole" : "") + (coupled ? "+coupled" : "")
        case .gru(let form): "gru(\(form))"
        }
    }
}

/// The nonlinearity of an Elman RNN (PyTorch's `nonlinearity`).
public enum RNNNonlinearity: String, Hashable, Sendable, CaseIterable {
    case tanh
    case relu
}

/// Where a GRU applies its reset gate.
public enum GRUForm: String, Hashable, Sendable, CaseIterable {
    /// After the recurrent matmul: `n = tanh(gx_n + r ⊙ (W_hn h + b_hn))`. PyTorch's and cuDNN's
    /// GRU, ONNX `linear_before_reset = 1`.
    case resetAfterMatmul
    /// Before it, as Cho et al. wrote it: `n = tanh(gx_n + W_hn (r ⊙ h) + b_hn)`. ONNX
    /// `linear_before_reset = 0` (its default), Keras `reset_after = False`.
    case resetBeforeMatmul
}
