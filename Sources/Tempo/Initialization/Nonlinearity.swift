/// The activation that follows a layer, for choosing the initial weights' scale.
///
/// ``gain`` is the factor `torch.nn.init.calculate_gain` recommends for it: the scale that keeps
/// the variance of activations roughly constant from layer to layer.
public enum Nonlinearity: Sendable, Hashable {
    /// No activation (also a convolution or a linear layer on its own): gain 1.
    case linear
    /// Gain 1.
    case sigmoid
    /// Gain 5/3.
    case tanh
    /// Gain √2.
    case relu
    /// Leaky ReLU with negative slope `slope`: gain √(2 / (1 + slope²)). The default slope is
    /// 0.01, PyTorch's (`nn.LeakyReLU` and `calculate_gain("leaky_relu")`).
    case leakyReLU(slope: Float = 0.01)
    /// Gain 3/4, the value PyTorch chose for self-normalising networks.
    case selu

    /// The recommended gain, as `torch.nn.init.calculate_gain` computes it.
    public var gain: Float {
        Float(exactGain)
    }

    /// ``gain`` in Double, for initialisers that scale by it before rounding to Float.
    var exactGain: Double {
        switch self {
        case .linear, .sigmoid:
            return 1
        case .tanh:
            return 5.0 / 3.0
        case .relu:
            return 2.0.squareRoot()
        case let .leakyReLU(slope):
            let slope = Double(slope)
            return (2 / (1 + slope * slope)).squareRoot()
        case .selu:
            return 0.75
        }
    }
}
