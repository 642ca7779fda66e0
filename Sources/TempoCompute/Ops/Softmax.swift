extension Tensor {
    /// Softmax over the last axis: `exp(x - max) / sum(exp(x - max))` per row of `[..., N]`.
    public func softmax() throws -> Tensor {
        try requireRank(atLeast: 1, argument: "self")
        let columns = shape[rank - 1]
        let (result, backend) = try output(shape)
        if count > 0 { try backend.softmax(buffer, into: result.buffer, rows: count / columns, columns: columns) }
        return result
    }
}
