import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("LayerNorm")
struct LayerNormTests {
    /// Normalised outputs are O(1); two-pass float32 statistics agree to ~1e-6 relative.
    static let tolerance = Tolerance(absolute: 1e-5, relative: 1e-5)

    @Test("matches PyTorch's definition, with and without gamma and beta", arguments: TestDevices.all)
    func matchesDefinition(device: Device) throws {
        for columns in [1, 3, 17, 257] {
            // A large common offset: a one-pass variance would lose most digits here.
            let x = try Tensor.normal([3, columns], mean: 100, standardDeviation: 2, seed: 4, device: device)
            let gamma = try Tensor.normal([columns], seed: 5, device: device)
            let beta = try Tensor.normal([columns], seed: 6, device: device)
            let (xv, gv, bv) = (try x.values, try gamma.values, try beta.values)
            expectClose(
                try x.layerNorm(gamma: gamma, beta: beta).values,
                Reference.layerNorm(xv, columns: columns, gamma: gv, beta: bv, epsilon: 1e-5), Self.tolerance,
                "layer norm [3, \(columns)] on \(device.id)")
            expectClose(
                try x.layerNorm(epsilon: 1e-3).values,
                Reference.layerNorm(xv, columns: columns, gamma: nil, beta: nil, epsilon: 1e-3), Self.tolerance,
                "layer norm without affine [3, \(columns)] on \(device.id)")
            expectClose(
                try x.layerNorm(beta: beta).values,
                Reference.layerNorm(xv, columns: columns, gamma: nil, beta: bv, epsilon: 1e-5), Self.tolerance,
                "layer norm with beta only [3, \(columns)] on \(device.id)")
        }
    }

    @Test("OpenCL agrees with the CPU in both kernel shapes", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func parityEachShape(device: Device, shape: OpenCLTunables.Shape) throws {
        let backend = try #require(try device.backend() as? OpenCLBackend)
        for (rows, columns) in [(1, 1), (3, 17), (17, 33), (33, 257), (2, 1000), (5, 4099)] {
            let x = try Tensor.normal([rows, columns], mean: 3, standardDeviation: 2, seed: 9, device: device)
            let gamma = try Tensor.normal([columns], seed: 10, device: device)
            let beta = try Tensor.normal([columns], seed: 11, device: device)
            let out = try Tensor.zeros([rows, columns], device: device)
            try backend.layerNorm(
                x.buffer, gamma: gamma.buffer, beta: beta.buffer, into: out.buffer, rows: rows, columns: columns,
                epsilon: 1e-5, shape: shape)
            let cpu = try x.to(.cpu).layerNorm(gamma: gamma.to(.cpu), beta: beta.to(.cpu)).values
            expectClose(try out.values, cpu, Self.tolerance, "layer norm \(shape) shape [\(rows), \(columns)]")
        }
    }

    @Test("bad gamma, beta and epsilon throw")
    func errors() throws {
        let x = try Tensor.zeros([2, 4])
        expectTempoError(containing: ["`gamma`", "[4]", "[3]"]) { _ = try x.layerNorm(gamma: Tensor.zeros([3])) }
        expectTempoError(containing: ["`beta`", "[4]", "[2, 4]"]) { _ = try x.layerNorm(beta: Tensor.zeros([2, 4])) }
        expectTempoError(containing: ["`epsilon`", "-1"]) { _ = try x.layerNorm(epsilon: -1) }
        expectTempoError(containing: ["`self`", "at least 1 axes"]) { _ = try Tensor.zeros([]).layerNorm() }
    }
}
