extension Tensor {
    /// Inverted dropout: each element is zeroed with `probability` and the others are scaled by
    /// `1 / (1 - probability)`, so the expected value is unchanged (PyTorch's `F.dropout` in training).
    ///
    /// The mask is a pure function of `seed`, `offset` and the element's position (a counter-based
    /// Philox stream), so it is the same on every device; a caller that needs a new mask per call
    /// advances `offset`, as the `Dropout` layer does.
    ///
    /// - Throws: ``TempoError/invalidArgument(argument:expected:actual:)`` for a probability outside [0, 1].
    public func dropout(probability: Float, seed: UInt64, offset: UInt32 = 0) throws -> Tensor {
        guard (0...1).contains(probability) else {
            throw TempoError.invalidArgument(argument: "probability", expected: "a value in 0...1", actual: "\(probability)")
        }
        if probability == 0 { return self }
        let (result, backend) = try output(shape)
        guard count > 0 else { return result }
        if probability == 1 {
            try backend.fill(result.buffer, with: 0, count: count)
        } else {
            try backend.dropout(
                buffer, into: result.buffer, count: count, probability: probability, scale: 1 / (1 - probability),
                key: Philox.key(seed), offset: offset)
        }
        return result
    }
}

/// Philox-2x32-10, the counter-based generator behind dropout masks (`Kernels/dropout.cl` holds
/// the same function for OpenCL devices; the parity tests hold the two to identical masks).
enum Philox {
    static let multiplier: UInt32 = 0xD256_D193
    static let weyl: UInt32 = 0x9E37_79B9

    /// The 32-bit key for a 64-bit seed: both halves matter.
    static func key(_ seed: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: seed) ^ (UInt32(truncatingIfNeeded: seed >> 32) &* 0x85EB_CA6B)
    }

    @inline(__always)
    static func draw(_ counter0: UInt32, _ counter1: UInt32, key: UInt32) -> UInt32 {
        var (c0, c1, k) = (counter0, counter1, key)
        for _ in 0..<10 {
            let product = UInt64(multiplier) &* UInt64(c0)
            (c0, c1) = (UInt32(truncatingIfNeeded: product >> 32) ^ k ^ c1, UInt32(truncatingIfNeeded: product))
            k &+= weyl
        }
        return c0
    }

    /// Uniform on [0, 1) in steps of 2^-24, as the kernel computes it.
    @inline(__always)
    static func uniform(_ index: UInt32, offset: UInt32, key: UInt32) -> Float {
        Float(draw(index, offset, key: key) >> 8) * 0x1p-24
    }
}
