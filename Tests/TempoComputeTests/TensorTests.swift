import Foundation
import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("Tensors")
struct TensorTests {
    @Test("values round-trip on every device", arguments: TestDevices.all)
    func roundTrip(device: Device) throws {
        let values: [Float] = [1, -2.5, .pi, 0, 1e-30, -1e30]
        let x = try Tensor(shape: [2, 3], values: values, device: device)
        #expect(x.shape == [2, 3] && x.rank == 2 && x.count == 6 && x.device == device)
        #expect(try x.values == values)
        #expect(try Tensor(shape: [], values: [7], device: device).scalar == 7)
        #expect(try Tensor.zeros([4, 0, 2], device: device).values.isEmpty)
    }

    @Test("zeros and filled tensors", arguments: TestDevices.all)
    func filled(device: Device) throws {
        #expect(try Tensor.zeros([3, 5], device: device).values == [Float](repeating: 0, count: 15))
        #expect(try Tensor(shape: [7], repeating: -1.5, device: device).values == [Float](repeating: -1.5, count: 7))
    }

    @Test("seeded random tensors are reproducible and identical on every device")
    func seededRandom() throws {
        let a = try Tensor.normal([1000], seed: 42).values
        #expect(try Tensor.normal([1000], seed: 42).values == a)
        #expect(try Tensor.normal([1000], seed: 43).values != a)
        for device in TestDevices.openCL {
            #expect(try Tensor.normal([1000], seed: 42, device: device).values == a)
            #expect(try Tensor.uniform([100], seed: 1, device: device).values == Tensor.uniform([100], seed: 1).values)
        }
    }

    @Test("uniform stays in its range; normal has the asked mean and deviation")
    func distributions() throws {
        let u = try Tensor.uniform([20_000], in: -3...5, seed: 7).values
        #expect(u.allSatisfy { (-3...5).contains($0) })
        let uniformMean = u.reduce(0, +) / Float(u.count)
        #expect(abs(uniformMean - 1) < 0.1)
        let n = try Tensor.normal([20_000], mean: 2, standardDeviation: 3, seed: 8).values
        let mean = n.reduce(0, +) / Float(n.count)
        let deviation = (n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(n.count)).squareRoot()
        // Standard errors are 3/sqrt(20000) ~ 0.02 for the mean, ~0.015 for the deviation.
        #expect(abs(mean - 2) < 0.1)
        #expect(abs(deviation - 3) < 0.1)
    }

    @Test("to(_:) moves between devices and keeps values", .needsOpenCL)
    func moving() throws {
        let x = try Tensor.normal([17, 33], seed: 1)
        for device in TestDevices.openCL {
            let there = try x.to(device)
            #expect(there.device == device && there.shape == x.shape)
            #expect(try there.values == x.values)
            let back = try there.to(.cpu)
            #expect(back.device == .cpu)
            #expect(try back.values == x.values)
            for other in TestDevices.openCL where other != device {
                #expect(try there.to(other).values == x.values)
            }
        }
        // Moving to the same device is free: the same storage.
        #expect(try x.to(.cpu).buffer === x.buffer)
    }

    @Test("reshaped shares values and infers one -1", arguments: TestDevices.all)
    func reshaped(device: Device) throws {
        let x = try Tensor.uniform([2, 3, 4], seed: 1, device: device)
        #expect(try x.reshaped([6, 4]).shape == [6, 4])
        #expect(try x.reshaped([-1, 12]).shape == [2, 12])
        #expect(try x.reshaped([4, -1]).values == x.values)
        expectTempoError(containing: ["`shape`", "24 elements", "[5, 5]"]) { _ = try x.reshaped([5, 5]) }
        expectTempoError(containing: ["`shape`", "at most one -1"]) { _ = try x.reshaped([-1, -1]) }
        expectTempoError(containing: ["`shape`", "[-1, 5]"]) { _ = try x.reshaped([-1, 5]) }
    }

    @Test("element-count and extent errors name both shapes")
    func errors() {
        expectTempoError(containing: ["`values`", "[2, 3]", "6", "5"]) { _ = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5]) }
        expectTempoError(containing: ["`shape`", "[2, -3]"]) { _ = try Tensor.zeros([2, -3]) }
        expectTempoError(containing: ["`shape`", "elements"]) { _ = try Tensor.zeros([1 << 20, 1 << 20]) }
        expectTempoError(containing: ["`shape`"]) { _ = try Tensor.zeros([Int.max, 2]) }
        expectTempoError(containing: ["`self`", "one element", "[2]"]) { _ = try Tensor.zeros([2]).scalar }
        expectTempoError(containing: ["`standardDeviation`"]) { _ = try Tensor.normal([2], standardDeviation: -1, seed: 1) }
    }
}
