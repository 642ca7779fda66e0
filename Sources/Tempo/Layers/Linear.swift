/// `y = x W^T + b`, as PyTorch's `nn.Linear`.
///
/// Parameters (PyTorch keys and layout): `weight` `[outputSize, inputSize]` and `bias`
/// `[outputSize]`, initialised as PyTorch does (both U(-1/sqrt(inputSize), 1/sqrt(inputSize))),
/// drawn from the ``Random`` stream.
public final class Linear: Module, UnaryLayer {
    public let inputSize: Int
    public let outputSize: Int
    public let weight: Parameter
    public let bias: Parameter?

    public init(inputSize: Int, outputSize: Int, bias: Bool = true, device: Device = .cpu) throws {
        for (name, size) in [("inputSize", inputSize), ("outputSize", outputSize)] where size < 1 {
            throw TempoError.invalidArgument(argument: name, expected: "at least 1", actual: "\(size)")
        }
        self.inputSize = inputSize
        self.outputSize = outputSize
        weight = Parameter(try Initializer.pytorchLinearWeight().tensor([outputSize, inputSize], device: device))
        self.bias = bias
            ? Parameter(try Initializer.pytorchLinearBias(fanIn: inputSize).tensor([outputSize], device: device)) : nil
    }

    override public var members: [(key: String, member: ModuleMember)] {
        [("weight", .parameter(weight))] + (bias.map { [("bias", .parameter($0))] } ?? [])
    }

    /// `x`: `[..., inputSize]`; returns `[..., outputSize]`.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try requireDevice(of: x)
        guard x.rank >= 1, x.shape[x.rank - 1] == inputSize else {
            throw TempoError.shapeMismatch(argument: "x", expected: "[..., \(inputSize)]", actual: x.shape)
        }
        // All leading axes as rows of one GEMM against the shared weight.
        let rows = try x.reshaped([-1, inputSize])
        var y = try rows.matmul(weight.value, transposeOther: true)
        if let bias { y = try y.addingBias(bias.value) }
        return try y.reshaped(Array(x.shape.dropLast()) + [outputSize])
    }
}
