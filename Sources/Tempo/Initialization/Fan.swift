import TempoCompute

/// Which fan an initialiser scales by: `.fanIn` preserves the variance of activations in the
/// forward pass, `.fanOut` the variance of gradients in the backward pass.
public enum FanMode: Sendable, Hashable {
    case fanIn
    case fanOut
}

/// The fans of a weight tensor, as PyTorch counts them.
public enum Fan {
    /// The number of inputs and outputs each element of a weight of `shape` connects, as
    /// `torch.nn.init._calculate_fan_in_and_fan_out` computes them.
    ///
    /// The shape is read as PyTorch lays weights out: `[out, in, kernel...]`. With
    /// `receptive = product(shape[2...])` (1 for a matrix), `fanIn = shape[1] * receptive` and
    /// `fanOut = shape[0] * receptive`. An LSTM's stacked `[4H, I]` input weight therefore has
    /// fan-out `4H`, as in PyTorch.
    ///
    /// - Throws: ``TempoError/invalidArgument(argument:expected:actual:)`` naming `shape` when it
    ///   has fewer than 2 dimensions or a negative extent.
    public static func of(_ shape: [Int]) throws -> (fanIn: Int, fanOut: Int) {
        _ = try Tensor.elementCount(of: shape, argument: "shape")
        guard shape.count >= 2 else {
            throw TempoError.invalidArgument(
                argument: "shape", expected: "at least 2 dimensions to compute fan-in and fan-out",
                actual: TempoError.format(shape))
        }
        // Checked again: a shape with a zero extent passes the element-count check whatever its
        // other extents are.
        let receptive = try checkedProduct(shape.dropFirst(2), of: shape)
        return (
            fanIn: try checkedProduct([shape[1], receptive], of: shape),
            fanOut: try checkedProduct([shape[0], receptive], of: shape)
        )
    }

    /// The product of the non-negative `factors` (extents of `shape`, or products of them), when
    /// it is within Tensor's limit.
    static func checkedProduct(_ factors: some Sequence<Int>, of shape: [Int]) throws -> Int {
        var result = 1
        for factor in factors {
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            // Tensor's limit: kernels index with 32-bit ints.
            guard !overflow, next <= Int(Int32.max) else {
                throw TempoError.invalidArgument(
                    argument: "shape", expected: "products of extents of at most \(Int32.max)", actual: TempoError.format(shape))
            }
            result = next
        }
        return result
    }
}
