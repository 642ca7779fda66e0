/// Checks shared by the op front ends, so that every op words its errors the same way.
extension Tensor {
    /// Throws ``TempoError/deviceMismatch(argument:expected:actual:)`` unless `other` is on this
    /// tensor's device.
    func requireSameDevice(_ other: Tensor, argument: String) throws {
        guard other.device == device else {
            throw TempoError.deviceMismatch(argument: argument, expected: device.id, actual: other.device.id)
        }
    }

    /// Throws unless `other` has exactly this tensor's shape.
    func requireSameShape(_ other: Tensor, argument: String) throws {
        guard other.shape == shape else {
            throw TempoError.shapeMismatch(argument: argument, expected: TempoError.format(shape), actual: other.shape)
        }
    }

    /// Throws unless this tensor has at least `rank` axes.
    func requireRank(atLeast rank: Int, argument: String) throws {
        guard self.rank >= rank else {
            throw TempoError.shapeMismatch(
                argument: argument, expected: "at least \(rank) axes", actual: shape)
        }
    }

    /// `axis` as an index into `shape`, counting from the end when negative (PyTorch's convention).
    static func resolveAxis(_ axis: Int, rank: Int, argument: String = "axis") throws -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard (0..<rank).contains(resolved) else {
            throw TempoError.invalidArgument(
                argument: argument, expected: "an axis in \(-rank)..<\(rank)", actual: "\(axis)")
        }
        return resolved
    }

    /// A tensor of `shape` on this tensor's device for an op to write into, with its backend.
    func output(_ shape: [Int]) throws -> (tensor: Tensor, backend: any Backend) {
        let tensor = try Tensor.uninitialized(shape, device: device)
        return (tensor, try device.backend())
    }
}
