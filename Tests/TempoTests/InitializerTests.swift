import Foundation
import TempoTestSupport
import Testing
import Tempo

// Initialisers against torch.nn.init's rules, written out here from PyTorch's definitions with the
// fans worked by hand, so that the tests do not reuse the code under test.

/// A case for the distribution tests: what is drawn, and the distribution PyTorch's formula gives.
struct DistributionCase: CustomTestStringConvertible, Sendable {
    enum Expected: Sendable {
        case uniform(lower: Double, upper: Double)
        case normal(mean: Double, standardDeviation: Double)
    }

    let name: String
    let initializer: Initializer
    let shape: [Int]
    let expected: Expected

    var testDescription: String { "\(name) \(shape)" }
}

// Shapes with about 60,000 elements: [out, in] of a linear layer (fanIn 300, fanOut 200),
// [out, in, k] of a convolution (fanIn 48 * 20 = 960, fanOut 64 * 20 = 1280), and an LSTM's
// recurrent [4H, H] with H = 128 (fanIn 128, fanOut 512).
private let linear = [200, 300]
private let convolution = [64, 48, 20]
private let recurrent = [512, 128]

private func symmetric(_ bound: Double) -> DistributionCase.Expected {
    .uniform(lower: -bound, upper: bound)
}

private let distributionCases: [DistributionCase] = [
    DistributionCase(name: "uniform -2...3", initializer: .uniform(-2...3), shape: linear, expected: .uniform(lower: -2, upper: 3)),
    DistributionCase(name: "uniform default", initializer: .uniform(), shape: linear, expected: .uniform(lower: 0, upper: 1)),
    DistributionCase(
        name: "normal 1.5, 0.5", initializer: .normal(mean: 1.5, standardDeviation: 0.5), shape: linear,
        expected: .normal(mean: 1.5, standardDeviation: 0.5)),
    DistributionCase(name: "normal default", initializer: .normal(), shape: linear, expected: .normal(mean: 0, standardDeviation: 1)),
    // xavier: a = gain * sqrt(6 / (fanIn + fanOut)), sigma = gain * sqrt(2 / (fanIn + fanOut))
    DistributionCase(name: "xavierUniform()", initializer: .xavierUniform(), shape: linear, expected: symmetric((6.0 / 500).squareRoot())),
    DistributionCase(
        name: "xavierUniform gain 2", initializer: .xavierUniform(gain: 2), shape: convolution,
        expected: symmetric(2 * (6.0 / 2240).squareRoot())),
    DistributionCase(
        name: "xavierNormal gain 5/3", initializer: .xavierNormal(gain: 5.0 / 3), shape: recurrent,
        expected: .normal(mean: 0, standardDeviation: 5.0 / 3 * (2.0 / 640).squareRoot())),
    // kaiming: b = gain * sqrt(3 / fan), sigma = gain / sqrt(fan)
    DistributionCase(
        name: "kaimingUniform()", initializer: .kaimingUniform(), shape: linear,
        expected: symmetric(2.0.squareRoot() * (3.0 / 300).squareRoot())),
    DistributionCase(
        name: "kaimingUniform fanOut relu", initializer: .kaimingUniform(mode: .fanOut, nonlinearity: .relu),
        shape: convolution, expected: symmetric(2.0.squareRoot() * (3.0 / 1280).squareRoot())),
    DistributionCase(
        name: "kaimingUniform sigmoid", initializer: .kaimingUniform(nonlinearity: .sigmoid), shape: recurrent,
        expected: symmetric((3.0 / 128).squareRoot())),
    DistributionCase(
        name: "kaimingNormal fanIn tanh", initializer: .kaimingNormal(mode: .fanIn, nonlinearity: .tanh),
        shape: convolution, expected: .normal(mean: 0, standardDeviation: 5.0 / 3 / 960.0.squareRoot())),
    DistributionCase(
        name: "kaimingNormal fanOut leakyReLU 0.2",
        initializer: .kaimingNormal(mode: .fanOut, nonlinearity: .leakyReLU(slope: 0.2)), shape: recurrent,
        expected: .normal(mean: 0, standardDeviation: (2 / 1.04).squareRoot() / 512.0.squareRoot())),
    DistributionCase(
        name: "kaimingNormal selu", initializer: .kaimingNormal(nonlinearity: .selu), shape: linear,
        expected: .normal(mean: 0, standardDeviation: 0.75 / 300.0.squareRoot())),
    // PyTorch's layer defaults: U(-1/sqrt(fanIn), 1/sqrt(fanIn)); recurrent layers use the hidden size.
    DistributionCase(
        name: "pytorchLinearWeight", initializer: .pytorchLinearWeight(), shape: linear,
        expected: symmetric(1 / 300.0.squareRoot())),
    DistributionCase(
        name: "pytorchLinearWeight conv", initializer: .pytorchLinearWeight(), shape: convolution,
        expected: symmetric(1 / 960.0.squareRoot())),
    DistributionCase(
        name: "pytorchLinearBias", initializer: .pytorchLinearBias(fanIn: 300), shape: [60_000],
        expected: symmetric(1 / 300.0.squareRoot())),
    DistributionCase(
        name: "pytorchRecurrent input weight [4H, I]", initializer: .pytorchRecurrent(hiddenSize: 128), shape: [512, 96],
        expected: symmetric(1 / 128.0.squareRoot())),
]

@Suite("Initializer distributions")
struct InitializerDistributionTests {
    /// Sample mean and variance against the formula, within 5 standard errors:
    /// SE(mean) = σ/√n and SE(variance) = σ²·√((κ - 1)/n), with kurtosis κ = 9/5 for a uniform and
    /// 3 for a normal distribution. A uniform sample must also lie within its bounds and reach
    /// within 20/n of the width of each (missed with probability e^-20 per side). The seed is
    /// fixed, so a pass is repeatable; the tolerances say how much it proves.
    @Test(arguments: distributionCases)
    func matchesFormula(_ testCase: DistributionCase) throws {
        var generator = SeededGenerator(seed: 0x5EED)
        let values = try testCase.initializer.values(for: testCase.shape, using: &generator)
        let n = Double(values.count)
        #expect(values.count == testCase.shape.reduce(1, *))
        let mean = values.reduce(0.0) { $0 + Double($1) } / n
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / (n - 1)

        let expectedMean, expectedVariance, kurtosis: Double
        switch testCase.expected {
        case let .uniform(lower, upper):
            expectedMean = (lower + upper) / 2
            expectedVariance = (upper - lower) * (upper - lower) / 12
            kurtosis = 9.0 / 5
            let slack = 20 / n * (upper - lower)
            let minimum = Double(values.min() ?? .nan), maximum = Double(values.max() ?? .nan)
            // The bounds are rounded to Float once; allow that rounding.
            let rounding = 1e-6 * max(abs(lower), abs(upper))
            #expect(minimum >= lower - rounding && maximum <= upper + rounding, "range \(minimum)...\(maximum)")
            #expect(minimum <= lower + slack && maximum >= upper - slack, "range \(minimum)...\(maximum)")
        case let .normal(mean, standardDeviation):
            expectedMean = mean
            expectedVariance = standardDeviation * standardDeviation
            kurtosis = 3
        }
        let meanError = 5 * expectedVariance.squareRoot() / n.squareRoot()
        let varianceError = 5 * expectedVariance * ((kurtosis - 1) / n).squareRoot()
        #expect(abs(mean - expectedMean) <= meanError, "mean \(mean), expected \(expectedMean) ± \(meanError)")
        #expect(
            abs(variance - expectedVariance) <= varianceError,
            "variance \(variance), expected \(expectedVariance) ± \(varianceError)")
    }

    @Test("constants are exact")
    func constants() throws {
        var generator = SeededGenerator(seed: 1)
        #expect(try Initializer.zeros.values(for: [2, 3], using: &generator) == [Float](repeating: 0, count: 6))
        #expect(try Initializer.ones.values(for: [4], using: &generator) == [1, 1, 1, 1])
        #expect(try Initializer.constant(-2.5).values(for: [1, 2], using: &generator) == [-2.5, -2.5])
        #expect(try Initializer.constant(7).values(for: [], using: &generator) == [7])
        #expect(try Initializer.uniform(3...3).values(for: [5], using: &generator) == [3, 3, 3, 3, 3])
        #expect(try Initializer.normal(mean: 2, standardDeviation: 0).values(for: [3], using: &generator) == [2, 2, 2])
    }

    @Test("an empty shape gives no values and draws nothing")
    func emptyShapes() throws {
        let cases: [(Initializer, [Int])] = [
            (.kaimingUniform(), [0, 5]), (.xavierNormal(), [0, 0]), (.orthogonal(), [0, 3]),
            (.orthogonal(), [3, 0, 2]), (.identity(), [0, 4]), (.normal(), [0]),
        ]
        for (initializer, shape) in cases {
            var generator = SeededGenerator(seed: 3)
            var untouched = generator
            #expect(try initializer.values(for: shape, using: &generator) == [], "\(initializer) \(shape)")
            #expect(generator.next() == untouched.next(), "\(initializer) \(shape) drew")
        }
    }
}

@Suite("Initializer fans and gains")
struct InitializerFanTests {
    /// torch.nn.init.calculate_gain.
    static let gains: [(Nonlinearity, Double)] = [
        (.linear, 1), (.sigmoid, 1), (.tanh, 5.0 / 3), (.relu, 2.0.squareRoot()),
        (.leakyReLU(), (2 / (1 + 0.01 * 0.01)).squareRoot()), (.leakyReLU(slope: 0), 2.0.squareRoot()),
        (.leakyReLU(slope: 0.2), (2 / 1.04).squareRoot()), (.leakyReLU(slope: -0.2), (2 / 1.04).squareRoot()),
        (.selu, 0.75),
    ]

    @Test(arguments: gains)
    func gain(_ nonlinearity: Nonlinearity, _ expected: Double) {
        #expect(nonlinearity.gain == Float(expected), "\(nonlinearity)")
    }

    /// torch.nn.init._calculate_fan_in_and_fan_out: fanIn = shape[1] * receptive, fanOut =
    /// shape[0] * receptive, receptive = product(shape[2...]).
    @Test(arguments: [
        ([200, 300], 300, 200),        // Linear [out, in]
        ([64, 48, 20], 960, 1280),     // Conv1d [out, in, k]
        ([512, 128], 128, 512),        // LSTM weight_hh [4H, H], H = 128
        ([32, 5], 5, 32),              // LSTM weight_ih [4H, I], H = 8, I = 5
        ([2, 3, 4, 5], 60, 40),
        ([1, 1], 1, 1),
        ([0, 5], 5, 0),
    ])
    func fans(_ shape: [Int], _ fanIn: Int, _ fanOut: Int) throws {
        let fan = try Fan.of(shape)
        #expect(fan.fanIn == fanIn && fan.fanOut == fanOut, "\(shape): \(fan)")
    }

    @Test("fans need 2 dimensions and a sane shape", arguments: [[], [7], [-1, 3], [0, Int.max, 4]])
    func fanErrors(_ shape: [Int]) {
        expectInvalidArgument("shape") { _ = try Fan.of(shape) }
    }

    @Test("conveniences are PyTorch's defaults")
    func defaults() {
        #expect(Initializer.xavierUniform() == .xavierUniform(gain: 1))
        #expect(Initializer.xavierNormal() == .xavierNormal(gain: 1))
        #expect(Initializer.kaimingUniform() == .kaimingUniform(mode: .fanIn, nonlinearity: .leakyReLU(slope: 0)))
        #expect(Initializer.kaimingNormal() == .kaimingNormal(mode: .fanIn, nonlinearity: .leakyReLU(slope: 0)))
        #expect(Initializer.orthogonal() == .orthogonal(gain: 1))
        #expect(Initializer.identity() == .identity(gain: 1))
        #expect(Initializer.normal() == .normal(mean: 0, standardDeviation: 1))
        #expect(Initializer.uniform() == .uniform(0...1))
        #expect(Nonlinearity.leakyReLU() == .leakyReLU(slope: 0.01))
        #expect(Initializer.pytorchLinearBias(fanIn: 4) == .uniform(-0.5...0.5))
        #expect(Initializer.pytorchLinearBias(fanIn: 0) == .uniform(0...0))
        #expect(Initializer.pytorchRecurrent(hiddenSize: 16) == .uniform(-0.25...0.25))
    }
}

@Suite("Orthogonal and identity initializers")
struct InitializerMatrixTests {
    /// QᵀQ = I (tall) or QQᵀ = I (wide) within 1e-5, and R = QᵀM upper triangular with a positive
    /// diagonal, where M is the normal matrix PyTorch's algorithm draws: [rows, columns] standard
    /// normals, row-major, transposed when wide. Those two properties determine Q uniquely.
    @Test(arguments: [[1, 1], [3, 17], [17, 3], [64, 64], [4, 3, 2], [5, 1], [1, 6]])
    func orthogonal(_ shape: [Int]) throws {
        var generator = SeededGenerator(seed: 17)
        var drawsCopy = generator
        let values = try Initializer.orthogonal().values(for: shape, using: &generator)
        let rows = shape[0], columns = shape.dropFirst().reduce(1, *)
        #expect(values.count == rows * columns)
        let matrix = values.map(Double.init)
        let normals = (0..<rows * columns).map { _ in Double(drawsCopy.nextNormal()) }
        #expect(generator.next() == drawsCopy.next(), "orthogonal draws exactly rows * columns normals")

        // Entries (i, j) of the products over the shorter side: Gram of Q's columns or rows, and R.
        let isWide = rows < columns, side = min(rows, columns), length = max(rows, columns)
        func q(_ vector: Int, _ element: Int) -> Double {
            isWide ? matrix[vector * columns + element] : matrix[element * columns + vector]
        }
        func m(_ vector: Int, _ element: Int) -> Double {
            isWide ? normals[vector * columns + element] : normals[element * columns + vector]
        }
        var worstGram = 0.0, worstBelow = 0.0, smallestDiagonal = Double.infinity
        for i in 0..<side {
            for j in 0..<side {
                var gram = 0.0, r = 0.0
                for k in 0..<length {
                    gram += q(i, k) * q(j, k)
                    r += q(i, k) * m(j, k)
                }
                worstGram = max(worstGram, abs(gram - (i == j ? 1 : 0)))
                if i > j { worstBelow = max(worstBelow, abs(r)) }
                if i == j { smallestDiagonal = min(smallestDiagonal, r) }
            }
        }
        #expect(worstGram <= 1e-5, "\(shape): |\(isWide ? "QQᵀ" : "QᵀQ") - I| = \(worstGram)")
        #expect(worstBelow <= 1e-4, "\(shape): R below the diagonal up to \(worstBelow)")
        #expect(smallestDiagonal > 0, "\(shape): R's diagonal down to \(smallestDiagonal)")
    }

    @Test("orthogonal gain scales exactly")
    func orthogonalGain() throws {
        var first = SeededGenerator(seed: 5), second = SeededGenerator(seed: 5)
        let unit = try Initializer.orthogonal().values(for: [6, 9], using: &first)
        let doubled = try Initializer.orthogonal(gain: 2).values(for: [6, 9], using: &second)
        #expect(doubled == unit.map { 2 * $0 })
    }

    @Test(arguments: [
        ([3, 3], [Float]([1, 0, 0, 0, 1, 0, 0, 0, 1])),
        ([2, 4], [1, 0, 0, 0, 0, 1, 0, 0]),
        ([4, 2], [1, 0, 0, 1, 0, 0, 0, 0]),
        ([1, 1], [1]),
    ])
    func identity(_ shape: [Int], _ expected: [Float]) throws {
        var generator = SeededGenerator(seed: 2)
        var untouched = generator
        #expect(try Initializer.identity().values(for: shape, using: &generator) == expected)
        #expect(try Initializer.identity(gain: 0.5).values(for: shape, using: &generator) == expected.map { $0 * 0.5 })
        #expect(generator.next() == untouched.next(), "identity draws nothing")
    }
}

/// Serialised: `isolation` draws from the process-wide stream while `globalSeed` reseeds it.
@Suite("Initializer reproducibility", .serialized)
struct InitializerReproducibilityTests {
    static let randomKinds: [Initializer] = [
        .uniform(-1...1), .normal(), .xavierUniform(), .xavierNormal(), .kaimingUniform(), .kaimingNormal(),
        .orthogonal(), .pytorchLinearWeight(),
    ]

    @Test("same seed, same values; different seeds, different values", arguments: randomKinds)
    func seeds(_ initializer: Initializer) throws {
        func draw(_ seed: UInt64) throws -> [Float] {
            var generator = SeededGenerator(seed: seed)
            return try initializer.values(for: [7, 5], using: &generator)
        }
        #expect(try draw(1) == draw(1))
        #expect(try draw(1) != draw(2))
    }

    @Test("Random.withSeed starts a stream from its seed and continues it across calls")
    func scopedStream() throws {
        let (a, b) = try Random.withSeed(99) {
            (try Initializer.xavierUniform().tensor([4, 6]), try Initializer.orthogonal().tensor([3, 5]))
        }
        var generator = SeededGenerator(seed: 99)
        #expect(try a.values == Initializer.xavierUniform().values(for: [4, 6], using: &generator))
        #expect(try b.values == Initializer.orthogonal().values(for: [3, 5], using: &generator))
        let again = try Random.withSeed(99) { try Initializer.xavierUniform().tensor([4, 6]) }
        #expect(try again.values == a.values)
        let other = try Random.withSeed(100) { try Initializer.xavierUniform().tensor([4, 6]) }
        #expect(try other.values != a.values)
    }

    @Test("Random.withSeed isolates: nested scopes and concurrent tasks do not advance a stream")
    func isolation() async throws {
        let shape = [8, 8]
        let expected = try Random.withSeed(7) {
            [try Initializer.normal().tensor(shape).values, try Initializer.normal().tensor(shape).values]
        }
        let nested = try Random.withSeed(7) {
            let first = try Initializer.normal().tensor(shape).values
            _ = try Random.withSeed(8) { try Initializer.normal().tensor([100]) }
            return [first, try Initializer.normal().tensor(shape).values]
        }
        #expect(nested == expected)

        // Tasks with their own seeded streams, beside tasks drawing from the process-wide stream.
        let results = try await withThrowingTaskGroup(of: [[Float]]?.self) { group in
            for task in 0..<8 {
                group.addTask {
                    if task.isMultiple(of: 2) {
                        _ = try Initializer.normal().tensor([64])
                        return nil
                    }
                    return try await Random.withSeed(7) {
                        let first = try Initializer.normal().tensor(shape).values
                        await Task.yield()
                        return [first, try Initializer.normal().tensor(shape).values]
                    }
                }
            }
            return try await group.reduce(into: [[[Float]]]()) { all, result in result.map { all.append($0) } }
        }
        #expect(results.count == 4)
        #expect(results.allSatisfy { $0 == expected })
    }

    /// The only test in this target that reseeds the process-wide stream; a test drawing from it
    /// concurrently (outside `Random.withSeed`) could make it fail, so other tests use
    /// `Random.withSeed`.
    @Test("Random.seed restarts the process-wide stream")
    func globalSeed() throws {
        Random.seed(2024)
        let first = try Initializer.kaimingNormal().tensor([5, 5]).values
        Random.seed(2024)
        let second = try Initializer.kaimingNormal().tensor([5, 5]).values
        var generator = SeededGenerator(seed: 2024)
        #expect(first == second)
        #expect(try first == Initializer.kaimingNormal().values(for: [5, 5], using: &generator))
    }
}

@Suite("Initializer errors")
struct InitializerErrorTests {
    @Test(arguments: [
        (Initializer.xavierUniform(), [5], "shape"),
        (.kaimingNormal(), [], "shape"),
        (.pytorchLinearWeight(), [3], "shape"),
        (.orthogonal(), [7], "shape"),
        (.identity(), [4], "shape"),
        (.identity(), [2, 2, 2], "shape"),
        (.zeros, [-1, 2], "shape"),
        (.normal(), [Int(Int32.max), 2], "shape"),
        (.kaimingUniform(), [0, Int.max, 4], "shape"),
        (.orthogonal(), [0, Int.max, 4], "shape"),
        (.normal(standardDeviation: -1), [2], "standardDeviation"),
        (.normal(standardDeviation: .infinity), [2], "standardDeviation"),
        (.normal(mean: .nan), [2], "mean"),
        (.uniform(-Float.infinity...0), [2], "range"),
        (.xavierNormal(gain: -1), [2, 2], "gain"),
        (.xavierUniform(gain: .nan), [2, 2], "gain"),
        (.orthogonal(gain: .infinity), [2, 2], "gain"),
        (.identity(gain: .nan), [2, 2], "gain"),
        (.kaimingUniform(nonlinearity: .leakyReLU(slope: .nan)), [2, 2], "slope"),
    ] as [(Initializer, [Int], String)])
    func invalid(_ initializer: Initializer, _ shape: [Int], _ argument: String) throws {
        var generator = SeededGenerator(seed: 4)
        var untouched = generator
        expectInvalidArgument(argument) { _ = try initializer.values(for: shape, using: &generator) }
        #expect(generator.next() == untouched.next(), "a failed call drew")
        expectInvalidArgument(argument) { _ = try Random.withSeed(4) { try initializer.tensor(shape) } }
    }
}

@Suite("Initializer tensors on devices")
struct InitializerDeviceTests {
    /// Values are drawn on the host, so every device gets the same bits.
    @Test(
        "the same values on the CPU and every OpenCL device",
        .needsOpenCL,
        arguments: [
            Initializer.xavierUniform(), .kaimingNormal(), .orthogonal(gain: 1.5), .identity(), .constant(3),
            .pytorchLinearWeight(),
        ])
    func deviceParity(_ initializer: Initializer) throws {
        let devices = Device.openCLDevices
        #expect(!devices.isEmpty, "TEMPO_REQUIRE_OPENCL=1 but \(openCLSkipReason.rawValue)")
        let shape = [33, 17]
        let cpu = try Random.withSeed(21) { try initializer.tensor(shape) }
        #expect(cpu.device == .cpu && cpu.shape == shape)
        for device in devices {
            let tensor = try Random.withSeed(21) { try initializer.tensor(shape, device: device) }
            #expect(tensor.device == device, "\(initializer) on \(tensor.device.id), not \(device.id)")
            #expect(tensor.shape == shape)
            #expect(try tensor.values == cpu.values, "\(initializer) on \(device.id) vs cpu")
        }
    }
}

/// Expects `body` to throw ``TempoError/invalidArgument(argument:expected:actual:)`` for `argument`,
/// with the argument named in its description.
private func expectInvalidArgument(
    _ argument: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected an invalid `\(argument)` error", sourceLocation: sourceLocation)
    } catch let error as TempoError {
        guard case let .invalidArgument(name, _, _) = error else {
            Issue.record("expected an invalid `\(argument)` error, got \(error)", sourceLocation: sourceLocation)
            return
        }
        #expect(name == argument, sourceLocation: sourceLocation)
        #expect(error.description.contains("`\(argument)`"), "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected an invalid `\(argument)` error, got \(error)", sourceLocation: sourceLocation)
    }
}
