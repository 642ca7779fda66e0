/// Applies a layer to every step of a sequence, as Keras's `TimeDistributed`: `[T, B, F...]` is
/// viewed as `[T * B, F...]`, given to the layer, and the result viewed as `[T, B, F'...]`.
///
/// One call of the layer over all steps, not T calls: a `Linear` inside becomes one GEMM. The
/// wrapped layer's parameters are keyed under `module.` (as PyTorch's wrappers key theirs).
public final class TimeDistributed: Module, UnaryLayer {
    public let layer: any UnaryLayer

    public init(_ layer: any UnaryLayer) {
        self.layer = layer
    }

    override public var members: [(key: String, member: ModuleMember)] {
        [("module", .module(layer))]
    }

    /// `x`: `[T, B, F...]` (at least three axes).
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 3 else {
            throw TempoError.shapeMismatch(argument: "x", expected: "[T, B, F...] (at least 3 axes)", actual: x.shape)
        }
        let (steps, batch) = (x.shape[0], x.shape[1])
        let y = try layer(x.reshaped([steps * batch] + x.shape.dropFirst(2)))
        guard y.rank >= 1, y.shape[0] == steps * batch else {
            throw TempoError.shapeMismatch(
                argument: "layer output", expected: "[\(steps * batch), ...] (one row per step and batch element)", actual: y.shape)
        }
        return try y.reshaped([steps, batch] + y.shape.dropFirst())
    }
}
