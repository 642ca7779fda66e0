extension Tensor {
    /// The last two axes swapped: `[..., M, N]` becomes `[..., N, M]` (PyTorch's `x.mT`).
    public func matrixTransposed() throws -> Tensor {
        try requireRank(atLeast: 2, argument: "self")
        let rows = shape[rank - 2], columns = shape[rank - 1]
        let (result, backend) = try output(Array(shape.dropLast(2)) + [columns, rows])
        if count > 0 {
            try backend.transpose(buffer, into: result.buffer, batch: count / (rows * columns), rows: rows, columns: columns)
        }
        return result
    }
}
