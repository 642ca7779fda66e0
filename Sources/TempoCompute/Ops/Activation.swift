extension Tensor {
    /// `function` applied to every element.
    public func applying(_ function: Activation) throws -> Tensor {
        let (result, backend) = try output(shape)
        if count > 0 { try backend.activation(function, buffer, into: result.buffer, count: count) }
        return result
    }

    /// `1 / (1 + exp(-x))` elementwise.
    public func sigmoid() throws -> Tensor { try applying(.sigmoid) }
    /// `tanh(x)` elementwise.
    public func tanh() throws -> Tensor { try applying(.tanh) }
    /// `max(x, 0)` elementwise; NaN stays NaN.
    public func relu() throws -> Tensor { try applying(.relu) }
    /// GELU elementwise: the exact erf form, or PyTorch's tanh approximation when `approximate`.
    public func gelu(approximate: Bool = false) throws -> Tensor { try applying(approximate ? .geluTanh : .gelu) }
}
