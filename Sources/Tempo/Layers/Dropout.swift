/// Dropout, as PyTorch's `nn.Dropout`: in training mode each element is zeroed with
/// `probability` and the rest scaled by `1 / (1 - probability)`; in evaluation mode the identity.
///
/// Masks are reproducible: they come from `seed` and a call counter (see `Tensor.dropout`), so
/// the n-th call of a layer made with the same seed drops the same elements on every device.
public final class Dropout: Module, UnaryLayer {
    public let probability: Float
    public let seed: UInt64
    private var calls: UInt32 = 0

    /// - Parameter seed: the mask stream; by default drawn from the ``Random`` stream, so
    ///   `Random.seed(_:)` makes a whole model's dropout reproducible.
    public init(probability: Float = 0.5, seed: UInt64? = nil) throws {
        guard (0...1).contains(probability) else {
            throw TempoError.invalidArgument(argument: "probability", expected: "a value in 0...1", actual: "\(probability)")
        }
        self.probability = probability
        self.seed = seed ?? Random.draw { $0.next() }
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard isTraining, probability > 0 else { return x }
        defer { calls &+= 1 }
        return try x.dropout(probability: probability, seed: seed, offset: calls)
    }
}
