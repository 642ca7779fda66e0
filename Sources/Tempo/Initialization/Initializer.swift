import TempoCompute

/// How a parameter's initial values are drawn, with the semantics of PyTorch's `torch.nn.init`:
/// the same distributions, and the same fan and gain rules.
///
/// Shapes are read as PyTorch lays weights out, `[out, in, kernel...]` (see ``Fan/of(_:)``).
/// Draws come from a ``SeededGenerator``: ``tensor(_:device:)`` takes them from the current
/// ``Random`` stream, ``values(for:using:)`` from a generator you pass. Values are computed in
/// Double and rounded to Float once.
///
/// ```swift
/// Random.seed(42)
/// let w = try Initializer.xavierUniform().tensor([512, 256])               // U(-a, a), a = √(6 / 768)
/// let u = try Initializer.kaimingNormal(mode: .fanOut, nonlinearity: .relu).tensor([64, 32, 3])
/// let r = try Initializer.orthogonal().tensor([4 * 128, 128], device: .best)
/// ```
///
/// The associated values' defaults are PyTorch's, so `.xavierUniform()` is `xavier_uniform_(w)`
/// and `.kaimingUniform()` is `kaiming_uniform_(w)`.
public enum Initializer: Sendable, Hashable {
    /// Every value 0 (`torch.nn.init.zeros_`).
    case zeros
    /// Every value 1 (`torch.nn.init.ones_`).
    case ones
    /// Every value the given constant (`torch.nn.init.constant_`).
    case constant(Float)
    /// Uniform over `range` (`torch.nn.init.uniform_`; default `0...1`).
    case uniform(ClosedRange<Float> = 0...1)
    /// Normal with the given mean and standard deviation (`torch.nn.init.normal_`).
    case normal(mean: Float = 0, standardDeviation: Float = 1)
    /// Glorot uniform (`torch.nn.init.xavier_uniform_`): U(-a, a) with
    /// `a = gain * √(6 / (fanIn + fanOut))`.
    case xavierUniform(gain: Float = 1)
    /// Glorot normal (`torch.nn.init.xavier_normal_`): N(0, σ²) with
    /// `σ = gain * √(2 / (fanIn + fanOut))`.
    case xavierNormal(gain: Float = 1)
    /// He uniform (`torch.nn.init.kaiming_uniform_`): U(-b, b) with `b = gain * √(3 / fan)`,
    /// `gain = nonlinearity.gain` and `fan` chosen by `mode`.
    ///
    /// PyTorch's `a` argument is the slope of `.leakyReLU(slope:)` here, so one number cannot be
    /// given twice. `kaiming_uniform_(w, a=math.sqrt(5))` is
    /// `.kaimingUniform(nonlinearity: .leakyReLU(slope: 5.squareRoot()))`, which is
    /// ``pytorchLinearWeight()``.
    case kaimingUniform(mode: FanMode = .fanIn, nonlinearity: Nonlinearity = .leakyReLU(slope: 0))
    /// He normal (`torch.nn.init.kaiming_normal_`): N(0, σ²) with `σ = gain / √fan`, `gain` and
    /// `fan` as for ``kaimingUniform(mode:nonlinearity:)``.
    case kaimingNormal(mode: FanMode = .fanIn, nonlinearity: Nonlinearity = .leakyReLU(slope: 0))
    /// A (semi-)orthogonal matrix times `gain` (`torch.nn.init.orthogonal_`, Saxe et al. 2013).
    ///
    /// The shape is flattened to `shape[0]` rows by the product of the rest. A wide matrix has
    /// orthonormal rows, a tall one orthonormal columns. The draw is PyTorch's: a standard normal
    /// matrix, its QR decomposition, `Q` with each column's sign set so that `R` has a positive
    /// diagonal. That makes the result uniformly (Haar) distributed over such matrices.
    case orthogonal(gain: Float = 1)
    /// Ones on the leading diagonal, zeros elsewhere, times `gain` (`torch.nn.init.eye_`, scaled).
    /// A rectangular matrix gets `min(rows, columns)` ones. This is the recurrent weight of an
    /// IRNN (Le et al. 2015). Draws nothing.
    case identity(gain: Float = 1)
}

// MARK: - PyTorch's layer defaults

extension Initializer {
    /// The weight initialiser of PyTorch's `nn.Linear` and `nn.Conv1d`/`2d`/`3d`:
    /// `kaiming_uniform_(w, a=math.sqrt(5))`, which is U(-1/√fanIn, 1/√fanIn).
    ///
    /// This is not the default for recurrent layers; see ``pytorchRecurrent(hiddenSize:)``.
    public static func pytorchLinearWeight() -> Initializer {
        .kaimingUniform(mode: .fanIn, nonlinearity: .leakyReLU(slope: Float(5.0.squareRoot())))
    }

    /// The bias initialiser of PyTorch's `nn.Linear` and `nn.Conv*d`: U(-1/√fanIn, 1/√fanIn),
    /// where `fanIn` is the weight's (``Fan/of(_:)`` of the weight's shape).
    ///
    /// As in PyTorch, a `fanIn` of 0 or less gives the range `0...0`.
    public static func pytorchLinearBias(fanIn: Int) -> Initializer {
        symmetricUniform(reciprocalSquareRootOf: fanIn)
    }

    /// The initialiser of every weight and bias of PyTorch's `nn.RNN`, `nn.LSTM` and `nn.GRU`
    /// (and their cells): U(-1/√hiddenSize, 1/√hiddenSize), whatever the tensor's fans.
    ///
    /// As in PyTorch, a `hiddenSize` of 0 or less gives the range `0...0`.
    public static func pytorchRecurrent(hiddenSize: Int) -> Initializer {
        symmetricUniform(reciprocalSquareRootOf: hiddenSize)
    }

    /// U(-1/√n, 1/√n), or `0...0` for n <= 0 as PyTorch writes it (`... if n > 0 else 0`).
    private static func symmetricUniform(reciprocalSquareRootOf n: Int) -> Initializer {
        let bound = n > 0 ? Float(1 / Double(n).squareRoot()) : 0
        return .uniform(-bound...bound)
    }
}
