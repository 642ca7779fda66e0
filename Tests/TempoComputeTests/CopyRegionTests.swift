import TempoTestSupport
import Testing

@testable import TempoCompute

/// Concatenation and slicing, the two ops on the strided-copy backend op.
@Suite("Concatenate and slice")
struct CopyRegionTests {
    /// The reference: element `index` of the concatenation comes from whichever input covers it.
    static func referenceConcatenate(_ inputs: [[Float]], shapes: [[Int]], axis: Int) -> [Float] {
        var shape = shapes[0]
        shape[axis] = shapes.reduce(0) { $0 + $1[axis] }
        return (0..<shape.reduce(1, *)).map { flat in
            var index = Reference.index(flat, in: shape)
            for (values, inputShape) in zip(inputs, shapes) {
                if index[axis] < inputShape[axis] { return values[Reference.flat(index, in: inputShape)] }
                index[axis] -= inputShape[axis]
            }
            return .nan
        }
    }

    @Test("concatenate along every axis, with negative axes", arguments: TestDevices.all)
    func concatenate(device: Device) throws {
        let shapes = [[2, 3, 4], [2, 1, 4], [2, 5, 4]]
        for axis in 0..<3 {
            let adjusted = shapes.enumerated().map { i, shape -> [Int] in
                var s = [2, 3, 4]
                s[axis] = shape[1]
                return s
            }
            let tensors = try adjusted.enumerated().map { try Tensor.normal($1, seed: UInt64($0), device: device) }
            let joined = try Tensor.concatenate(tensors, axis: axis - 3)
            var expectedShape = [2, 3, 4]
            expectedShape[axis] = 1 + 3 + 5
            #expect(joined.shape == expectedShape)
            #expect(try joined.values == Self.referenceConcatenate(try tensors.map { try $0.values }, shapes: adjusted, axis: axis))
        }
    }

    @Test("slice is PyTorch's narrow, and undoes concatenate", arguments: TestDevices.all)
    func slice(device: Device) throws {
        let x = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6], device: device)
        #expect(try x.slice(axis: 1, range: 1..<3).values == [2, 3, 5, 6])
        #expect(try x.slice(axis: 0, range: 1..<2).values == [4, 5, 6])
        #expect(try x.slice(axis: -1, range: 0..<0).shape == [2, 0])
        let a = try Tensor.normal([3, 17, 5], seed: 1, device: device)
        let b = try Tensor.normal([3, 33, 5], seed: 2, device: device)
        let joined = try Tensor.concatenate([a, b], axis: 1)
        #expect(try joined.slice(axis: 1, range: 0..<17).values == a.values)
        #expect(try joined.slice(axis: 1, range: 17..<50).values == b.values)
    }

    @Test("OpenCL agrees with the CPU exactly", .needsOpenCL, arguments: awkwardSizes)
    func parity(size: Int) throws {
        try checkParity("concatenate \(size)", inputs: [[3, size, 2], [3, 1, 2], [3, size, 2]], tolerance: .exact) {
            try Tensor.concatenate($0, axis: 1)
        }
        try checkParity("slice \(size)", inputs: [[size, 2 * size + 1]], tolerance: .exact) {
            try $0[0].slice(axis: 1, range: size / 2..<(size + 1))
        }
    }

    @Test("mismatched shapes, bad axes and ranges throw")
    func errors() throws {
        let a = try Tensor.zeros([2, 3])
        expectTempoError(containing: ["`tensors[1]`", "[2, *]", "[3, 3]"]) { _ = try Tensor.concatenate([a, Tensor.zeros([3, 3])], axis: 1) }
        expectTempoError(containing: ["`axis`", "-2..<2", "2"]) { _ = try Tensor.concatenate([a, a], axis: 2) }
        expectTempoError(containing: ["`tensors`", "at least one"]) { _ = try Tensor.concatenate([], axis: 0) }
        expectTempoError(containing: ["`range`", "0..<3", "2..<5"]) { _ = try a.slice(axis: 1, range: 2..<5) }
        if let gpu = TestDevices.openCL.first {
            expectTempoError(containing: ["`tensors[1]`", gpu.id]) { _ = try Tensor.concatenate([a, Tensor.zeros([2, 3], device: gpu)], axis: 0) }
        }
    }
}
