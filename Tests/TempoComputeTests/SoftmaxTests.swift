import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("Softmax")
struct SoftmaxTests {
    /// Outputs are probabilities in [0, 1]; 1e-6 absolute is ~8 ulp at 1.0.
    static let tolerance = Tolerance(absolute: 1e-6, relative: 1e-5)

    @Test("matches the float64 definition; rows sum to one", arguments: TestDevices.all)
    func matchesDefinition(device: Device) throws {
        for columns in [1, 3, 17, 257] {
            let x = try Tensor.normal([3, columns], standardDeviation: 4, seed: 3, device: device)
            let y = try x.softmax().values
            expectClose(y, Reference.softmax(try x.values, columns: columns), Self.tolerance, "softmax [3, \(columns)] on \(device.id)")
            for row in 0..<3 {
                let sum = y[row * columns..<(row + 1) * columns].reduce(0, +)
                #expect(abs(sum - 1) < 1e-5)
            }
        }
    }

    @Test("large logits do not overflow", arguments: TestDevices.all)
    func stability(device: Device) throws {
        let x = try Tensor(shape: [1, 3], values: [1000, 1001, 1002], device: device)
        expectClose(try x.softmax().values, Reference.softmax([0, 1, 2], columns: 3), Self.tolerance, "shifted logits")
    }

    @Test("OpenCL agrees with the CPU in both kernel shapes", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func parityEachShape(device: Device, shape: OpenCLTunables.Shape) throws {
        let backend = try #require(try device.backend() as? OpenCLBackend)
        for (rows, columns) in [(1, 1), (3, 17), (17, 33), (33, 257), (2, 1000), (5, 4099)] {
            let x = try Tensor.normal([rows, columns], standardDeviation: 3, seed: 8, device: device)
            let out = try Tensor.zeros([rows, columns], device: device)
            try backend.softmax(x.buffer, into: out.buffer, rows: rows, columns: columns, shape: shape)
            let cpu = try x.to(.cpu).softmax().values
            expectClose(try out.values, cpu, Self.tolerance, "softmax \(shape) shape [\(rows), \(columns)]")
        }
    }

    @Test("higher-rank tensors normalise the last axis", .needsOpenCL)
    func higherRank() throws {
        try checkParity("softmax [2, 3, 33]", inputs: [[2, 3, 33]], tolerance: Self.tolerance) { try $0[0].softmax() }
    }
}
