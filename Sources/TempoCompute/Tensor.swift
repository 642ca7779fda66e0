/// A Float32 array with a shape, stored row-major (last axis fastest) on exactly one device.
///
/// Tensors are immutable values: every op returns a new tensor and never writes into its inputs,
/// so one tensor may be read from many threads at once. Reading `values` waits for the work that
/// produces the tensor. Moving between devices is explicit, with ``to(_:)``.
///
/// ```swift
/// let x = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6], device: .cpu)
/// let w = try Tensor.normal([3, 4], seed: 7, device: .cpu)
/// let y = try x.matmul(w)            // [2, 4]
/// print(try y.values)
/// ```
public struct Tensor: Sendable, CustomStringConvertible {
    /// The extent of each axis, outermost first.
    public let shape: [Int]
    /// Where the values live and where ops on this tensor run.
    public let device: Device
    /// The values, `count` of them, owned jointly by every tensor that shares them.
    let buffer: any DeviceBuffer

    /// Wraps a buffer that the caller has sized for `shape`.
    init(shape: [Int], device: Device, buffer: any DeviceBuffer) {
        self.shape = shape
        self.device = device
        self.buffer = buffer
    }

    /// The number of axes.
    public var rank: Int { shape.count }

    /// The number of elements, the product of `shape`.
    public var count: Int { shape.reduce(1, *) }

    public var description: String {
        "Tensor(\(TempoError.format(shape)) on \(device.id))"
    }
}

// MARK: - Creation

extension Tensor {
    /// A tensor holding `values` in row-major order.
    ///
    /// - Throws: ``TempoError/elementCountMismatch(argument:shape:expected:actual:)`` when
    ///   `values.count` is not the product of `shape`; ``TempoError/invalidArgument(argument:expected:actual:)``
    ///   for a negative extent.
    public init(shape: [Int], values: [Float], device: Device = .cpu) throws {
        let count = try Self.elementCount(of: shape, argument: "shape")
        guard values.count == count else {
            throw TempoError.elementCountMismatch(argument: "values", shape: shape, expected: count, actual: values.count)
        }
        let backend = try device.backend()
        let buffer = try backend.allocate(count: count)
        try values.withUnsafeBufferPointer { try backend.upload($0, to: buffer) }
        self.init(shape: shape, device: device, buffer: buffer)
    }

    /// A tensor with every element equal to `value`.
    public init(shape: [Int], repeating value: Float, device: Device = .cpu) throws {
        let count = try Self.elementCount(of: shape, argument: "shape")
        let backend = try device.backend()
        let buffer = try backend.allocate(count: count)
        try backend.fill(buffer, with: value, count: count)
        self.init(shape: shape, device: device, buffer: buffer)
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], device: Device = .cpu) throws -> Tensor {
        try Tensor(shape: shape, repeating: 0, device: device)
    }

    /// Values drawn uniformly from `range`, reproducibly from `seed`.
    ///
    /// The values are generated on the host, so the same seed gives the same tensor on every device.
    public static func uniform(
        _ shape: [Int], in range: ClosedRange<Float> = -1...1, seed: UInt64, device: Device = .cpu
    ) throws -> Tensor {
        let count = try elementCount(of: shape, argument: "shape")
        var generator = SeededGenerator(seed: seed)
        let values = (0..<count).map { _ in generator.nextFloat(in: range) }
        return try Tensor(shape: shape, values: values, device: device)
    }

    /// Values drawn from a normal distribution, reproducibly from `seed`.
    public static func normal(
        _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1, seed: UInt64, device: Device = .cpu
    ) throws -> Tensor {
        let count = try elementCount(of: shape, argument: "shape")
        guard standardDeviation >= 0, standardDeviation.isFinite else {
            throw TempoError.invalidArgument(
                argument: "standardDeviation", expected: "a finite value >= 0", actual: "\(standardDeviation)")
        }
        var generator = SeededGenerator(seed: seed)
        let values = (0..<count).map { _ in mean + standardDeviation * generator.nextNormal() }
        return try Tensor(shape: shape, values: values, device: device)
    }

    /// An uninitialised tensor for an op to write into.
    static func uninitialized(_ shape: [Int], device: Device) throws -> Tensor {
        let count = try elementCount(of: shape, argument: "shape")
        let buffer = try device.backend().allocate(count: count)
        return Tensor(shape: shape, device: device, buffer: buffer)
    }

    /// The product of `shape`, checked: no negative extent, no overflow.
    package static func elementCount(of shape: [Int], argument: String) throws -> Int {
        var count = 1
        for extent in shape {
            guard extent >= 0 else {
                throw TempoError.invalidArgument(
                    argument: argument, expected: "extents >= 0", actual: TempoError.format(shape))
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            // Kernels index with 32-bit ints, as GPU kernels do for speed.
            guard !overflow, product <= Int(Int32.max) else {
                throw TempoError.invalidArgument(
                    argument: argument, expected: "at most \(Int32.max) elements", actual: TempoError.format(shape))
            }
            count = product
        }
        return count
    }
}

// MARK: - Reading and moving

extension Tensor {
    /// The elements in row-major order. Waits for any pending work that writes this tensor.
    public var values: [Float] {
        get throws {
            let backend = try device.backend()
            let count = self.count
            return try [Float](unsafeUninitializedCapacity: count) { values, initialized in
                try backend.download(buffer, into: UnsafeMutableBufferPointer(rebasing: values[0..<count]))
                initialized = count
            }
        }
    }

    /// The only element of a one-element tensor.
    public var scalar: Float {
        get throws {
            guard count == 1 else {
                throw TempoError.shapeMismatch(argument: "self", expected: "exactly one element", actual: shape)
            }
            return try values[0]
        }
    }

    /// This tensor on `device`: `self` when it is already there, else a copy.
    public func to(_ device: Device) throws -> Tensor {
        if device == self.device { return self }
        let target = try device.backend()
        let buffer = try target.allocate(count: count)
        // One copy through host memory; CPU tensors are host memory already.
        if let host = self.buffer as? CPUBuffer {
            try target.upload(host.elements(count), to: buffer)
        } else if let host = buffer as? CPUBuffer {
            try self.device.backend().download(self.buffer, into: host.mutableElements(count))
        } else {
            try values.withUnsafeBufferPointer { try target.upload($0, to: buffer) }
        }
        return Tensor(shape: shape, device: device, buffer: buffer)
    }

    /// The same values viewed with another shape of the same element count. One extent may be
    /// `-1`, inferred from the others. No data moves.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var resolved = newShape
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        if inferred.count > 1 {
            throw TempoError.invalidArgument(
                argument: "shape", expected: "at most one -1", actual: TempoError.format(newShape))
        }
        if let index = inferred.first {
            resolved[index] = 1
            let known = try Self.elementCount(of: resolved, argument: "shape")
            guard known > 0, count % known == 0 else {
                throw TempoError.shapeMismatch(
                    argument: "shape", expected: "a shape with \(count) elements", actual: newShape)
            }
            resolved[index] = count / known
        }
        guard try Self.elementCount(of: resolved, argument: "shape") == count else {
            throw TempoError.shapeMismatch(
                argument: "shape", expected: "a shape with \(count) elements (from \(TempoError.format(shape)))",
                actual: newShape)
        }
        return Tensor(shape: resolved, device: device, buffer: buffer)
    }
}
