extension Tensor {
    /// The slices at `indices` along `axis` (ONNX `Gather`, PyTorch `index_select`): for `self`
    /// `[..., n, ...]` with `n` at `axis`, the result has `indices.count` there. An embedding
    /// lookup is `table.gather(tokens)` on a `[vocabulary, dimension]` table.
    ///
    /// - Throws: ``TempoError/invalidArgument(argument:expected:actual:)`` naming the first index
    ///   outside `0..<n` (negative indices count from the end, as in PyTorch).
    public func gather(_ indices: [Int], axis: Int = 0) throws -> Tensor {
        try requireRank(atLeast: 1, argument: "self")
        let axis = try Self.resolveAxis(axis, rank: rank)
        let extent = shape[axis]
        let resolved = try indices.enumerated().map { position, index -> Int32 in
            let value = index < 0 ? index + extent : index
            guard (0..<extent).contains(value) else {
                throw TempoError.invalidArgument(
                    argument: "indices[\(position)]", expected: "an index in \(-extent)..<\(extent) (axis \(axis) has \(extent))",
                    actual: "\(index)")
            }
            return Int32(value)
        }
        var resultShape = shape
        resultShape[axis] = indices.count
        let (result, backend) = try output(resultShape)
        if result.count > 0 {
            try backend.gather(
                buffer, indices: resolved, into: result.buffer, outer: shape[..<axis].reduce(1, *), axisLength: extent,
                inner: shape[(axis + 1)...].reduce(1, *))
        }
        return result
    }
}
