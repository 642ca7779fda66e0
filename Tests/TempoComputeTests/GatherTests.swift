import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("Gather")
struct GatherTests {
    @Test("rows of a table, and slices along any axis, exactly", arguments: TestDevices.all)
    func matchesDefinition(device: Device) throws {
        let table = try Tensor(shape: [4, 2], values: [0, 1, 10, 11, 20, 21, 30, 31], device: device)
        let rows = try table.gather([3, 0, 3, -1])
        #expect(rows.shape == [4, 2])
        #expect(try rows.values == [30, 31, 0, 1, 30, 31, 30, 31])
        #expect(try table.gather([]).shape == [0, 2])

        let x = try Tensor.normal([3, 5, 7], seed: 1, device: device)
        let xv = try x.values
        for axis in 0..<3 {
            let extent = x.shape[axis]
            let indices = [extent - 1, 0, extent / 2, extent - 1]
            let gathered = try x.gather(indices, axis: axis)
            var shape = x.shape
            shape[axis] = indices.count
            #expect(gathered.shape == shape)
            let expected = (0..<gathered.count).map { flat -> Float in
                var index = Reference.index(flat, in: shape)
                index[axis] = indices[index[axis]]
                return xv[Reference.flat(index, in: x.shape)]
            }
            #expect(try gathered.values == expected, "axis \(axis) on \(device.id)")
        }
    }

    @Test("OpenCL agrees with the CPU exactly at awkward sizes", .needsOpenCL, arguments: awkwardSizes)
    func parity(size: Int) throws {
        let indices = (0..<(2 * size + 1)).map { ($0 * 7919) % size }
        try checkParity("gather \(size)", inputs: [[size, 33]], tolerance: .exact) { try $0[0].gather(indices) }
        try checkParity("gather axis 1, \(size)", inputs: [[3, size, 5]], tolerance: .exact) { try $0[0].gather(indices, axis: 1) }
    }

    @Test("an index out of range throws, naming it")
    func errors() throws {
        let table = try Tensor.zeros([4, 2])
        expectTempoError(containing: ["`indices[1]`", "-4..<4", "4"]) { _ = try table.gather([0, 4]) }
        expectTempoError(containing: ["`indices[0]`", "-5"]) { _ = try table.gather([-5]) }
        expectTempoError(containing: ["`axis`"]) { _ = try table.gather([0], axis: 2) }
    }
}
