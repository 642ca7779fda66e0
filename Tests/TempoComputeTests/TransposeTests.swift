import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("Transpose")
struct TransposeTests {
    @Test("swaps the last two axes exactly", arguments: TestDevices.all)
    func matchesDefinition(device: Device) throws {
        let x = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6], device: device)
        let y = try x.matrixTransposed()
        #expect(y.shape == [3, 2])
        #expect(try y.values == [1, 4, 2, 5, 3, 6])
        for (batch, rows, columns) in [(1, 1, 1), (2, 3, 17), (3, 33, 5), (1, 257, 33)] {
            let z = try Tensor.normal([batch, rows, columns], seed: 2, device: device)
            let t = try z.matrixTransposed()
            #expect(t.shape == [batch, columns, rows])
            #expect(try t.values == Reference.transpose(try z.values, batch: batch, rows: rows, columns: columns))
            #expect(try t.matrixTransposed().values == z.values)
        }
    }

    @Test("each OpenCL kernel shape is exact at awkward sizes", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func eachKernelShape(device: Device, shape: OpenCLTunables.Shape) throws {
        let backend = try #require(try device.backend() as? OpenCLBackend)
        for (batch, rows, columns) in [(1, 1, 1), (2, 3, 17), (3, 33, 5), (1, 257, 33), (2, 16, 16), (1, 17, 1000)] {
            let x = try Tensor.normal([batch, rows, columns], seed: 3, device: device)
            let out = try Tensor.zeros([batch, columns, rows], device: device)
            try backend.transpose(x.buffer, into: out.buffer, batch: batch, rows: rows, columns: columns, shape: shape)
            #expect(try out.values == Reference.transpose(try x.values, batch: batch, rows: rows, columns: columns), "\(shape) [\(batch), \(rows), \(columns)]")
        }
    }

    @Test("needs two axes")
    func errors() {
        expectTempoError(containing: ["`self`", "at least 2 axes", "[5]"]) { _ = try Tensor.zeros([5]).matrixTransposed() }
    }
}
