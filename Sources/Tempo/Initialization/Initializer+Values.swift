import TempoCompute

extension Initializer {
    /// Values for a tensor of `shape`, in row-major order, drawn from `generator`.
    ///
    /// Every check runs before the first draw, so a call that throws leaves `generator` as it was.
    /// A shape with no elements gives `[]` and draws nothing, as PyTorch's initialisers are no-ops
    /// on empty tensors; `zeros`, `ones`, `constant` and `identity` draw nothing either, as in
    /// PyTorch, so adding such a parameter does not change the values of those drawn after it.
    ///
    /// - Throws: ``TempoError/invalidArgument(argument:expected:actual:)`` naming the argument:
    ///   `shape` for a negative extent, too many elements, fewer than 2 dimensions where fans are
    ///   needed (Xavier, Kaiming, orthogonal) or not exactly 2 (identity); `range`, `mean`,
    ///   `standardDeviation`, `gain` or `slope` for a value that is not finite, a negative
    ///   standard deviation, or a negative Xavier gain (PyTorch rejects the reversed range or
    ///   negative deviation it would give).
    public func values(for shape: [Int], using generator: inout SeededGenerator) throws -> [Float] {
        let plan = try SamplingPlan(self, shape: shape)
        return plan.finish(plan.draw(using: &generator))
    }

    /// A tensor of `shape` on `device`, drawn from the current ``Random`` stream.
    ///
    /// The values are drawn on the host, so the same stream state gives the same tensor on every
    /// device. Throws as ``values(for:using:)`` does, and as `Tensor` does when `device` fails.
    public func tensor(_ shape: [Int], device: Device = .cpu) throws -> Tensor {
        let plan = try SamplingPlan(self, shape: shape)
        // Only the draws hold the stream's lock; an orthogonal matrix's QR decomposition runs after
        // it is released, so other threads drawing their own parameters do not wait for it.
        let drawn = Random.draw { plan.draw(using: &$0) }
        return try Tensor(shape: shape, values: plan.finish(drawn), device: device)
    }
}

/// An initialiser resolved against a shape: its checks done and its distribution's parameters
/// computed (in Double), ready to draw.
struct SamplingPlan: Sendable {
    enum Distribution: Sendable {
        case constant(Float)
        case uniform(lower: Double, upper: Double)
        case normal(mean: Double, standardDeviation: Double)
        case orthogonal(rows: Int, columns: Int, gain: Double)
        case identity(rows: Int, columns: Int, gain: Float)
    }

    let count: Int
    let distribution: Distribution

    /// Checks `initializer` and `shape` and resolves the distribution; draws nothing.
    init(_ initializer: Initializer, shape: [Int]) throws {
        count = try Tensor.elementCount(of: shape, argument: "shape")
        distribution = try Self.distribution(of: initializer, shape: shape)
    }

    /// The raw draws from `generator`: the values themselves, or for an orthogonal matrix the
    /// standard normal matrix it is made from.
    func draw(using generator: inout SeededGenerator) -> [Float] {
        guard count > 0 else { return [] }
        switch distribution {
        case let .constant(value):
            return [Float](repeating: value, count: count)
        case let .uniform(lower, upper):
            return (0..<count).map { _ in
                // 53 random bits in [0, 1); in Double the result stays within the bounds after
                // rounding to Float.
                let unit = Double(generator.next() >> 11) * 0x1p-53
                return Float(lower + (upper - lower) * unit)
            }
        case let .normal(mean, standardDeviation):
            return (0..<count).map { _ in Float(mean + standardDeviation * Double(generator.nextNormal())) }
        case .orthogonal:
            // torch.nn.init.orthogonal_ draws a [rows, columns] normal matrix, row-major.
            return (0..<count).map { _ in generator.nextNormal() }
        case let .identity(rows, columns, gain):
            var values = [Float](repeating: 0, count: count)
            for index in 0..<min(rows, columns) {
                values[index * columns + index] = gain
            }
            return values
        }
    }

    /// The values from the draws ``draw(using:)`` returned.
    func finish(_ drawn: [Float]) -> [Float] {
        guard count > 0, case let .orthogonal(rows, columns, gain) = distribution else { return drawn }
        return OrthogonalMatrix.values(rows: rows, columns: columns, gain: gain, normals: drawn)
    }
}

// MARK: - Parameters, checked

extension SamplingPlan {
    private static func distribution(of initializer: Initializer, shape: [Int]) throws -> Distribution {
        switch initializer {
        case .zeros:
            return .constant(0)
        case .ones:
            return .constant(1)
        case let .constant(value):
            // Any Float, NaN and infinities included, as torch.nn.init.constant_ allows.
            return .constant(value)
        case let .uniform(range):
            guard range.lowerBound.isFinite, range.upperBound.isFinite else {
                throw TempoError.invalidArgument(argument: "range", expected: "finite bounds", actual: "\(range)")
            }
            return .uniform(lower: Double(range.lowerBound), upper: Double(range.upperBound))
        case let .normal(mean, standardDeviation):
            try requireFinite(mean, named: "mean")
            try requireFinite(standardDeviation, named: "standardDeviation", nonNegative: true)
            return .normal(mean: Double(mean), standardDeviation: Double(standardDeviation))
        case let .xavierUniform(gain):
            let standardDeviation = try xavierStandardDeviation(gain: gain, shape: shape)
            let bound = 3.0.squareRoot() * standardDeviation
            return .uniform(lower: -bound, upper: bound)
        case let .xavierNormal(gain):
            return .normal(mean: 0, standardDeviation: try xavierStandardDeviation(gain: gain, shape: shape))
        case let .kaimingUniform(mode, nonlinearity):
            let standardDeviation = try kaimingStandardDeviation(mode: mode, nonlinearity: nonlinearity, shape: shape)
            let bound = 3.0.squareRoot() * standardDeviation
            return .uniform(lower: -bound, upper: bound)
        case let .kaimingNormal(mode, nonlinearity):
            let standardDeviation = try kaimingStandardDeviation(mode: mode, nonlinearity: nonlinearity, shape: shape)
            return .normal(mean: 0, standardDeviation: standardDeviation)
        case let .orthogonal(gain):
            try requireFinite(gain, named: "gain")
            guard shape.count >= 2 else {
                throw TempoError.invalidArgument(
                    argument: "shape", expected: "at least 2 dimensions for an orthogonal matrix",
                    actual: TempoError.format(shape))
            }
            // Rows are the first axis, columns everything else flattened, as in PyTorch. Checked:
            // with no rows the element count does not bound the columns.
            let columns = try Fan.checkedProduct(shape.dropFirst(), of: shape)
            return .orthogonal(rows: shape[0], columns: columns, gain: Double(gain))
        case let .identity(gain):
            try requireFinite(gain, named: "gain")
            guard shape.count == 2 else {
                throw TempoError.invalidArgument(
                    argument: "shape", expected: "exactly 2 dimensions for an identity matrix",
                    actual: TempoError.format(shape))
            }
            return .identity(rows: shape[0], columns: shape[1], gain: gain)
        }
    }

    /// `gain * √(2 / (fanIn + fanOut))`, Glorot's deviation.
    private static func xavierStandardDeviation(gain: Float, shape: [Int]) throws -> Double {
        // A negative gain would make PyTorch's range reversed or its deviation negative; it throws.
        try requireFinite(gain, named: "gain", nonNegative: true)
        let (fanIn, fanOut) = try Fan.of(shape)
        let fanSum = Double(fanIn) + Double(fanOut)
        // Both fans are 0 only for an empty shape, which draws nothing.
        return fanSum > 0 ? Double(gain) * (2 / fanSum).squareRoot() : 0
    }

    /// `gain / √fan`, He's deviation.
    private static func kaimingStandardDeviation(
        mode: FanMode, nonlinearity: Nonlinearity, shape: [Int]
    ) throws -> Double {
        if case let .leakyReLU(slope) = nonlinearity {
            try requireFinite(slope, named: "slope")
        }
        let fans = try Fan.of(shape)
        let fan = Double(mode == .fanIn ? fans.fanIn : fans.fanOut)
        // A fan of 0 means an empty shape, which draws nothing.
        return fan > 0 ? nonlinearity.exactGain / fan.squareRoot() : 0
    }

    /// Throws naming `name` unless `value` is finite (and, with `nonNegative`, at least 0).
    private static func requireFinite(_ value: Float, named name: String, nonNegative: Bool = false) throws {
        guard value.isFinite else {
            throw TempoError.invalidArgument(argument: name, expected: "a finite value", actual: "\(value)")
        }
        guard !nonNegative || value >= 0 else {
            throw TempoError.invalidArgument(argument: name, expected: "a finite value >= 0", actual: "\(value)")
        }
    }
}
