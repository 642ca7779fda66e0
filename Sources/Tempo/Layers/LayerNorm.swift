/// Layer normalisation over the trailing `normalizedShape` axes, as PyTorch's `nn.LayerNorm`:
/// `y = (x - mean) / sqrt(var + epsilon) * weight + bias`, with the biased variance.
///
/// Parameters (PyTorch keys): `weight` and `bias`, both `normalizedShape`, initialised to ones and
/// zeros. Input `[..., normalizedShape]`, output the same shape.
public final class LayerNorm: Module, UnaryLayer {
    public let normalizedShape: [Int]
    public let epsilon: Float
    public let weight: Parameter?
    public let bias: Parameter?

    /// - Parameters:
    ///   - elementwiseAffine: whether there are `weight` and `bias` (PyTorch's `elementwise_affine`).
    ///   - bias: whether there is a `bias` when affine (PyTorch's `bias`).
    public init(
        _ normalizedShape: [Int], epsilon: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true,
        device: Device = .cpu
    ) throws {
        guard !normalizedShape.isEmpty, normalizedShape.allSatisfy({ $0 >= 1 }) else {
            throw TempoError.invalidArgument(
                argument: "normalizedShape", expected: "one or more extents >= 1", actual: TempoError.format(normalizedShape))
        }
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
        weight = elementwiseAffine ? Parameter(try Tensor(shape: normalizedShape, repeating: 1, device: device)) : nil
        self.bias = elementwiseAffine && bias ? Parameter(try Tensor.zeros(normalizedShape, device: device)) : nil
    }

    /// Normalisation over the last axis of size `size`.
    public convenience init(_ size: Int, epsilon: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true, device: Device = .cpu) throws {
        try self.init([size], epsilon: epsilon, elementwiseAffine: elementwiseAffine, bias: bias, device: device)
    }

    override public var members: [(key: String, member: ModuleMember)] {
        [("weight", weight), ("bias", bias)].compactMap { key, parameter in parameter.map { (key, .parameter($0)) } }
    }

    /// `x`: `[..., normalizedShape]`.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try requireDevice(of: x)
        guard x.rank >= normalizedShape.count, Array(x.shape.suffix(normalizedShape.count)) == normalizedShape else {
            throw TempoError.shapeMismatch(
                argument: "x", expected: "[..., \(normalizedShape.map(String.init).joined(separator: ", "))]", actual: x.shape)
        }
        let size = normalizedShape.reduce(1, *)
        // The op normalises the last axis: view the normalised axes as one.
        let rows = try x.reshaped([-1, size])
        let normalized = try rows.layerNorm(
            gamma: weight?.value.reshaped([size]), beta: bias?.value.reshaped([size]), epsilon: epsilon)
        return try normalized.reshaped(x.shape)
    }
}
