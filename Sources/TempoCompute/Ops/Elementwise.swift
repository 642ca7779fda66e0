extension Tensor {
    /// `self + other`, elementwise; both tensors have the same shape.
    public func adding(_ other: Tensor) throws -> Tensor {
        try binary(.add, other)
    }

    /// `self * other`, elementwise (the Hadamard product); both tensors have the same shape.
    public func multiplying(_ other: Tensor) throws -> Tensor {
        try binary(.multiply, other)
    }

    /// `alpha * self`.
    public func scaled(by alpha: Float) throws -> Tensor {
        let (result, backend) = try output(shape)
        if count > 0 { try backend.scale(buffer, by: alpha, into: result.buffer, count: count) }
        return result
    }

    /// `self + bias`, with `bias` `[N]` added to every row of `self` `[..., N]`.
    public func addingBias(_ bias: Tensor) throws -> Tensor {
        try requireRank(atLeast: 1, argument: "self")
        try requireSameDevice(bias, argument: "bias")
        let columns = shape[rank - 1]
        guard bias.shape == [columns] else {
            throw TempoError.shapeMismatch(argument: "bias", expected: "[\(columns)] (the last axis of self)", actual: bias.shape)
        }
        let (result, backend) = try output(shape)
        if count > 0 { try backend.addBias(buffer, bias.buffer, into: result.buffer, rows: count / columns, columns: columns) }
        return result
    }

    public static func + (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.adding(rhs) }
    public static func * (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.multiplying(rhs) }
    public static func * (lhs: Float, rhs: Tensor) throws -> Tensor { try rhs.scaled(by: lhs) }

    private func binary(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
        try requireSameDevice(other, argument: "other")
        try requireSameShape(other, argument: "other")
        let (result, backend) = try output(shape)
        if count > 0 { try backend.binary(op, buffer, other.buffer, into: result.buffer, count: count) }
        return result
    }
}
