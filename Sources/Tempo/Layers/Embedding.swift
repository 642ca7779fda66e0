/// A lookup table of vectors, as PyTorch's `nn.Embedding`: index `i` gives row `i` of `weight`.
///
/// Parameter (PyTorch key): `weight` `[count, dimension]`, initialised N(0, 1) as PyTorch does,
/// with the `paddingIndex` row (if any) zero.
public final class Embedding: Module {
    public let count: Int
    public let dimension: Int
    /// A row kept at zero at initialisation (PyTorch's `padding_idx`), as a non-negative index.
    public let paddingIndex: Int?
    public let weight: Parameter

    /// - Parameter paddingIndex: may be negative, counting from the end as in PyTorch.
    public init(count: Int, dimension: Int, paddingIndex: Int? = nil, device: Device = .cpu) throws {
        for (name, size) in [("count", count), ("dimension", dimension)] where size < 1 {
            throw TempoError.invalidArgument(argument: name, expected: "at least 1", actual: "\(size)")
        }
        let padding = paddingIndex.map { $0 < 0 ? $0 + count : $0 }
        if let paddingIndex, let padding, !(0..<count).contains(padding) {
            throw TempoError.invalidArgument(
                argument: "paddingIndex", expected: "an index in \(-count)..<\(count)", actual: "\(paddingIndex)")
        }
        self.count = count
        self.dimension = dimension
        self.paddingIndex = padding
        var values = try Random.draw { try Initializer.normal().values(for: [count, dimension], using: &$0) }
        if let padding {
            for column in 0..<dimension { values[padding * dimension + column] = 0 }
        }
        weight = Parameter(try Tensor(shape: [count, dimension], values: values, device: device))
    }

    override public var members: [(key: String, member: ModuleMember)] {
        [("weight", .parameter(weight))]
    }

    /// The rows for `indices`, laid out as `shape` (default: `[indices.count]`): returns
    /// `[shape..., dimension]`, e.g. `[T, B, dimension]` for token ids of shape `[T, B]`.
    ///
    /// - Throws: ``TempoError/invalidArgument(argument:expected:actual:)`` naming an index out of
    ///   range, or a `shape` that does not hold `indices.count` elements.
    public func callAsFunction(_ indices: [Int], shape: [Int]? = nil) throws -> Tensor {
        let shape = shape ?? [indices.count]
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == indices.count else {
            throw TempoError.shapeMismatch(
                argument: "shape", expected: "a shape of \(indices.count) elements (one per index)", actual: shape)
        }
        return try weight.value.gather(indices).reshaped(shape + [dimension])
    }
}
