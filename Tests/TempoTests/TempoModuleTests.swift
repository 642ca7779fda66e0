import Testing
import Tempo

/// `import Tempo` alone gives users the device layer: devices, tensors and their ops.
@Suite("Tempo module")
struct TempoModuleTests {
    @Test("Tempo re-exports devices and tensors")
    func reexports() throws {
        let x = try Tensor(shape: [1, 2], values: [3, 4], device: Device.best)
        let y = try x.matmul(Tensor(shape: [2, 1], values: [1, 1], device: Device.best))
        #expect(try y.values == [7])
    }
}
