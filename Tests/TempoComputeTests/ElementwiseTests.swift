import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("Elementwise")
struct ElementwiseTests {
    /// Elementwise float32 ops round identically on every IEEE device: one operation, one rounding.
    static let tolerance = Tolerance.exact

    @Test("add, multiply, scale and bias add match their definitions", arguments: TestDevices.all)
    func matchesDefinition(device: Device) throws {
        let a = try Tensor(shape: [2, 3], values: [1, -2, 3, 4.5, 0, -6], device: device)
        let b = try Tensor(shape: [2, 3], values: [0.5, 2, -1, 1, 7, 0.25], device: device)
        let bias = try Tensor(shape: [3], values: [10, 20, 30], device: device)
        #expect(try a.adding(b).values == [1.5, 0, 2, 5.5, 7, -5.75])
        #expect(try (a + b).values == [1.5, 0, 2, 5.5, 7, -5.75])
        #expect(try a.multiplying(b).values == [0.5, -4, -3, 4.5, 0, -1.5])
        #expect(try (a * b).values == [0.5, -4, -3, 4.5, 0, -1.5])
        #expect(try a.scaled(by: -2).values == [-2, 4, -6, -9, 0, 12])
        #expect(try (0.5 * a).values == [0.5, -1, 1.5, 2.25, 0, -3])
        #expect(try a.addingBias(bias).values == [11, 18, 33, 14.5, 20, 24])
    }

    @Test("OpenCL agrees with the CPU at awkward sizes", .needsOpenCL, arguments: awkwardSizes + [1000, 65_537])
    func parity(size: Int) throws {
        try checkParity("add \(size)", inputs: [[size], [size]], tolerance: Self.tolerance) { try $0[0] + $0[1] }
        try checkParity("multiply \(size)", inputs: [[size], [size]], tolerance: Self.tolerance) { try $0[0] * $0[1] }
        try checkParity("scale \(size)", inputs: [[size]], tolerance: Self.tolerance) { try $0[0].scaled(by: 0.3) }
        try checkParity("bias \(size)", inputs: [[3, size], [size]], tolerance: Self.tolerance) { try $0[0].addingBias($0[1]) }
    }

    @Test("shape and device errors name the argument")
    func errors() throws {
        let a = try Tensor.zeros([2, 3])
        expectTempoError(containing: ["`other`", "[2, 3]", "[3, 2]"]) { _ = try a + Tensor.zeros([3, 2]) }
        expectTempoError(containing: ["`other`", "[2, 3]", "[6]"]) { _ = try a * Tensor.zeros([6]) }
        expectTempoError(containing: ["`bias`", "[3]", "[2]"]) { _ = try a.addingBias(Tensor.zeros([2])) }
        if let gpu = TestDevices.openCL.first {
            expectTempoError(containing: ["`other`", gpu.id]) { _ = try a + Tensor.zeros([2, 3], device: gpu) }
            expectTempoError(containing: ["`bias`", gpu.id]) { _ = try a.addingBias(Tensor.zeros([3], device: gpu)) }
        }
    }
}
