import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("WeightNorm")
struct WeightNormTests {
    /// Outputs are O(|g|); a float32 sum of a few thousand squares and one division agree with
    /// Double to a few ulps.
    static let tolerance = Tolerance(absolute: 1e-6, relative: 2e-6)

    /// (v shape, g shape): conv weights with PyTorch's [Cout, 1, 1] g, a Linear weight with [Cout]
    /// g, odd sizes, a single row, single columns, and rows longer than the GPU work-group.
    static let shapes: [([Int], [Int])] = [
        ([1], [1]), ([3], [3, 1]), ([17, 3, 5], [17, 1, 1]), ([5, 1, 1], [5, 1, 1]), ([1, 257], [1, 1]),
        ([33, 17], [33]), ([4, 16, 3], [4, 1, 1]), ([7, 128, 3], [7, 1, 1]), ([3, 4099], [3, 1]),
    ]

    @Test("matches PyTorch's definition w = v * (g / ||v||) per row", arguments: TestDevices.all)
    func matchesDefinition(device: Device) throws {
        for (index, (vShape, gShape)) in Self.shapes.enumerated() {
            let seed = UInt64(10 + index)
            let v = try Tensor.normal(vShape, standardDeviation: 3, seed: seed, device: device)
            let g = try Tensor.normal(gShape, seed: seed + 100, device: device)
            let w = try v.weightNorm(g: g)
            #expect(w.shape == vShape)
            #expect(w.device == device)
            expectClose(
                try w.values, referenceWeightNorm(try v.values, g: try g.values), Self.tolerance,
                "weight norm v \(vShape) g \(gShape) on \(device.id)")
        }
    }

    @Test("each row has norm |g| and v's direction: a scaled v gives the same w", arguments: TestDevices.all)
    func scaleInvariance(device: Device) throws {
        let v = try Tensor.normal([6, 5, 3], seed: 3, device: device)
        let g = try Tensor.uniform([6, 1, 1], in: 0.5...2, seed: 4, device: device)
        let w = try v.weightNorm(g: g).values
        let gValues = try g.values
        for row in 0..<6 {
            let norm = w[row * 15..<(row + 1) * 15].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(norm - Double(gValues[row])) < 1e-5, "row \(row) has norm \(norm), g \(gValues[row])")
        }
        expectClose(try v.scaled(by: 37).weightNorm(g: g).values, w, Self.tolerance, "37 v on \(device.id)")
    }

    @Test("OpenCL agrees with the CPU in both kernel shapes", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func parityEachShape(device: Device, shape: OpenCLTunables.Shape) throws {
        let backend = try #require(try device.backend() as? OpenCLBackend)
        for (rows, columns) in [(1, 1), (3, 17), (17, 33), (33, 257), (2, 1000), (5, 4099)] {
            let v = try Tensor.normal([rows, columns], seed: 9, device: device)
            let g = try Tensor.normal([rows], seed: 10, device: device)
            let out = try Tensor.zeros([rows, columns], device: device)
            try backend.weightNorm(v.buffer, g: g.buffer, into: out.buffer, rows: rows, columns: columns, shape: shape)
            let cpu = try v.to(.cpu).weightNorm(g: g.to(.cpu)).values
            expectClose(try out.values, cpu, Self.tolerance, "weight norm \(shape) shape [\(rows), \(columns)]")
        }
    }

    @Test("parity harness: CPU and every OpenCL device on a TCN-sized conv weight")
    func parity() throws {
        let result = try checkParity("weightNorm", inputs: [[128, 128, 3], [128, 1, 1]], tolerance: Self.tolerance) {
            try $0[0].weightNorm(g: $0[1])
        }
        expectClose(result.values, referenceWeightNorm(result.inputs[0], g: result.inputs[1]), Self.tolerance, "cpu")
    }

    /// A zero row has no direction. PyTorch computes `v * (g / ||v||)` and gives NaN for the whole
    /// row (0 * inf, or 0 * NaN when g is 0 too); Tempo matches it rather than hiding a broken
    /// checkpoint behind an epsilon. Other rows are untouched.
    @Test("a zero row gives NaN, as PyTorch does, and leaves other rows alone", arguments: TestDevices.all)
    func zeroRow(device: Device) throws {
        let shapes = [OpenCLTunables.Shape?.none] + (device.runtime == .cpu ? [] : OpenCLTunables.Shape.allCases.map { $0 })
        for shape in shapes {
            // Rows 1 and 3 are zero; row 3's g is zero too.
            var vValues = (0..<(4 * 17)).map { Float($0 % 7) - 2.5 }
            for c in 0..<17 { vValues[17 + c] = 0; vValues[3 * 17 + c] = 0 }
            let v = try Tensor(shape: [4, 17, 1], values: vValues, device: device)
            let g = try Tensor(shape: [4, 1, 1], values: [1.5, 2, -0.5, 0], device: device)
            let w: [Float]
            if let shape {
                let backend = try #require(try device.backend() as? OpenCLBackend)
                let out = try Tensor.zeros([4, 17, 1], device: device)
                try backend.weightNorm(v.buffer, g: g.buffer, into: out.buffer, rows: 4, columns: 17, shape: shape)
                w = try out.values
            } else {
                w = try v.weightNorm(g: g).values
            }
            let what = "zero rows on \(device.id) \(shape.map { "\($0) shape" } ?? "default shape")"
            #expect(w[17..<34].allSatisfy { $0.isNaN }, "\(what): row 1")
            #expect(w[51..<68].allSatisfy { $0.isNaN }, "\(what): row 3")
            expectClose(
                Array(w[0..<17]) + Array(w[34..<51]),
                referenceWeightNorm(Array(vValues[0..<17]) + Array(vValues[34..<51]), g: [1.5, -0.5]),
                Self.tolerance, what)
        }
    }

    @Test("empty rows and no rows give empty results", arguments: TestDevices.all)
    func empty(device: Device) throws {
        #expect(try Tensor.zeros([0, 3], device: device).weightNorm(g: Tensor.zeros([0], device: device)).shape == [0, 3])
        #expect(try Tensor.zeros([2, 0], device: device).weightNorm(g: Tensor.zeros([2, 1], device: device)).shape == [2, 0])
    }

    @Test("bad shapes and devices throw naming the argument, expected and actual")
    func errors() throws {
        let v = try Tensor.zeros([4, 3, 2])
        expectTempoError(containing: ["`v`", "at least 1 axis", "[]"]) { _ = try Tensor.zeros([]).weightNorm(g: v) }
        expectTempoError(containing: ["`g`", "[4, 1, 1]", "[3, 1, 1]"]) { _ = try v.weightNorm(g: Tensor.zeros([3, 1, 1])) }
        // Four values, but not [Cout] followed by 1s.
        expectTempoError(containing: ["`g`", "[Cout] = [4]", "[1, 4]"]) { _ = try v.weightNorm(g: Tensor.zeros([1, 4])) }
        expectTempoError(containing: ["`g`", "[2, 2]"]) { _ = try v.weightNorm(g: Tensor.zeros([2, 2])) }
        expectTempoError(containing: ["`g`", "[4, 3]"]) { _ = try v.weightNorm(g: Tensor.zeros([4, 3])) }
        expectTempoError(containing: ["`g`", "[]"]) { _ = try v.weightNorm(g: Tensor.zeros([])) }
        if let device = TestDevices.openCL.first {
            expectTempoError(containing: ["`g`", "device mismatch", device.id]) {
                _ = try v.weightNorm(g: Tensor.zeros([4, 1, 1], device: device))
            }
        }
    }
}
