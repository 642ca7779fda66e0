extension Tensor {
    /// The tensors joined along `axis` (negative counts from the end); all other extents must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else {
            throw TempoError.invalidArgument(argument: "tensors", expected: "at least one tensor", actual: "none")
        }
        try first.requireRank(atLeast: 1, argument: "tensors[0]")
        let axis = try resolveAxis(axis, rank: first.rank)
        for (index, tensor) in tensors.enumerated().dropFirst() {
            try first.requireSameDevice(tensor, argument: "tensors[\(index)]")
            var expected = first.shape
            expected[axis] = tensor.rank == first.rank ? tensor.shape[axis] : expected[axis]
            guard tensor.shape == expected else {
                var rule = first.shape.map(String.init)
                rule[axis] = "*"
                throw TempoError.shapeMismatch(
                    argument: "tensors[\(index)]", expected: "[\(rule.joined(separator: ", "))]", actual: tensor.shape)
            }
        }
        var shape = first.shape
        shape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        let (result, backend) = try first.output(shape)
        // View each tensor as [outer, extent * inner]: the blocks below `axis` are contiguous rows.
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var offset = 0
        for tensor in tensors {
            let rowLength = tensor.shape[axis] * inner
            if rowLength > 0, outer > 0 {
                try backend.copyRegion(
                    CopyRegion(
                        rows: outer, rowLength: rowLength, sourceOffset: 0, sourceStride: rowLength,
                        destinationOffset: offset, destinationStride: shape[axis] * inner),
                    from: tensor.buffer, to: result.buffer)
            }
            offset += rowLength
        }
        return result
    }

    /// The elements whose index along `axis` lies in `range` (PyTorch's `narrow`), as a new tensor.
    public func slice(axis: Int, range: Range<Int>) throws -> Tensor {
        try requireRank(atLeast: 1, argument: "self")
        let axis = try Self.resolveAxis(axis, rank: rank)
        guard range.lowerBound >= 0, range.upperBound <= shape[axis] else {
            throw TempoError.invalidArgument(
                argument: "range", expected: "a range within 0..<\(shape[axis]) (axis \(axis) of \(TempoError.format(shape)))",
                actual: "\(range)")
        }
        var resultShape = shape
        resultShape[axis] = range.count
        let (result, backend) = try output(resultShape)
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        if result.count > 0 {
            try backend.copyRegion(
                CopyRegion(
                    rows: outer, rowLength: range.count * inner, sourceOffset: range.lowerBound * inner,
                    sourceStride: shape[axis] * inner, destinationOffset: 0, destinationStride: range.count * inner),
                from: buffer, to: result.buffer)
        }
        return result
    }
}
