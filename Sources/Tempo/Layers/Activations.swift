/// `max(x, 0)`, as PyTorch's `nn.ReLU`.
public final class ReLU: Module, UnaryLayer {
    override public init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.relu() }
}

/// `1 / (1 + exp(-x))`, as PyTorch's `nn.Sigmoid`.
public final class Sigmoid: Module, UnaryLayer {
    override public init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.sigmoid() }
}

/// `tanh(x)`, as PyTorch's `nn.Tanh`.
public final class Tanh: Module, UnaryLayer {
    override public init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.tanh() }
}

/// GELU, as PyTorch's `nn.GELU`: the exact erf form, or the tanh approximation when `approximate`.
public final class GELU: Module, UnaryLayer {
    public let approximate: Bool

    public init(approximate: Bool = false) {
        self.approximate = approximate
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.gelu(approximate: approximate) }
}

/// Softmax over the last axis, as PyTorch's `nn.Softmax(dim=-1)`.
public final class Softmax: Module, UnaryLayer {
    override public init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.softmax() }
}

/// The identity, as PyTorch's `nn.Identity`: a placeholder in a ``Sequential``.
public final class Identity: Module, UnaryLayer {
    override public init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { x }
}
