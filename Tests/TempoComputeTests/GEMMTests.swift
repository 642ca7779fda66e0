import TempoTestSupport
import Testing

@testable import TempoCompute

/// GEMM tolerance from float32 error growth: a K-term dot product of unit normals is ~sqrt(K) in
/// size with a rounding error of order sqrt(K) * 6e-8; 1e-5 * sqrt(K) leaves two orders of margin for
/// a different summation order and FMA contraction, while a wrong index or a dropped tile is O(1).
func gemmTolerance(k: Int) -> Tolerance {
    Tolerance(absolute: 1e-5 * Float(k).squareRoot(), relative: 1e-5)
}

@Suite("GEMM")
struct GEMMTests {
    static let transposes = [(false, false), (false, true), (true, false), (true, true)]

    /// Shapes of stored A and B for `op(A)` `[m, k]` and `op(B)` `[k, n]`.
    static func storedShapes(batch: [Int], m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) -> ([Int], [Int]) {
        (batch + (transposeA ? [k, m] : [m, k]), batch + (transposeB ? [n, k] : [k, n]))
    }

    @Test("matches a float64 reference on every device, every transpose", arguments: TestDevices.all)
    func matchesReference(device: Device) throws {
        for (m, n, k) in [(1, 1, 1), (3, 17, 33), (17, 3, 5), (33, 65, 17), (5, 1, 257)] {
            for (transposeA, transposeB) in Self.transposes {
                let (aShape, bShape) = Self.storedShapes(batch: [], m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
                let a = try Tensor.normal(aShape, seed: 11, device: device)
                let b = try Tensor.normal(bShape, seed: 12, device: device)
                let product = try a.matmul(b, transposeSelf: transposeA, transposeOther: transposeB)
                #expect(product.shape == [m, n])
                let expected = Reference.gemm(
                    try a.values, try b.values, batch: 1, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
                expectClose(try product.values, expected, gemmTolerance(k: k), "\(m)x\(n)x\(k) tA=\(transposeA) tB=\(transposeB) on \(device.id)")
            }
        }
    }

    @Test("batched, with a shared B or a shared A, alpha and beta", arguments: TestDevices.all)
    func batchedAlphaBeta(device: Device) throws {
        let (batch, m, n, k) = (3, 17, 33, 9)
        let a = try Tensor.normal([batch, m, k], seed: 1, device: device)
        let b = try Tensor.normal([batch, k, n], seed: 2, device: device)
        let sharedB = try Tensor.normal([k, n], seed: 3, device: device)
        let sharedA = try Tensor.normal([m, k], seed: 4, device: device)
        let c = try Tensor.normal([batch, m, n], seed: 5, device: device)
        let (av, bv, sbv, sav, cv) = (try a.values, try b.values, try sharedB.values, try sharedA.values, try c.values)
        let tolerance = gemmTolerance(k: k)

        let full = try Tensor.gemm(a, b, alpha: 0.5, beta: 1.5, c: c)
        expectClose(try full.values, Reference.gemm(av, bv, batch: batch, m: m, n: n, k: k, transposeA: false, transposeB: false, alpha: 0.5, beta: 1.5, c: cv), tolerance, "batched alpha beta")

        let withSharedB = try a.matmul(sharedB)
        #expect(withSharedB.shape == [batch, m, n])
        expectClose(try withSharedB.values, Reference.gemm(av, sbv, batch: batch, m: m, n: n, k: k, transposeA: false, transposeB: false, broadcastB: true), tolerance, "shared B")

        let withSharedA = try sharedA.matmul(b)
        #expect(withSharedA.shape == [batch, m, n])
        expectClose(try withSharedA.values, Reference.gemm(sav, bv, batch: batch, m: m, n: n, k: k, transposeA: false, transposeB: false, broadcastA: true), tolerance, "shared A")

        // c is an input: it must come back untouched.
        expectClose(try c.values, cv, .exact, "c unchanged")
    }

    @Test("K = 0 gives beta * C; empty outputs are fine", arguments: TestDevices.all)
    func degenerateSizes(device: Device) throws {
        let a = try Tensor.zeros([3, 0], device: device)
        let b = try Tensor.zeros([0, 4], device: device)
        let c = try Tensor(shape: [3, 4], repeating: 2, device: device)
        #expect(try Tensor.gemm(a, b, beta: 0.5, c: c).values == [Float](repeating: 1, count: 12))
        #expect(try a.matmul(b).values == [Float](repeating: 0, count: 12))
        let empty = try Tensor.zeros([0, 5], device: device).matmul(Tensor.zeros([5, 2], device: device))
        #expect(empty.shape == [0, 2])
        #expect(try empty.values.isEmpty)
    }

    @Test(
        "OpenCL agrees with OpenBLAS at awkward sizes",
        .needsOpenCL,
        arguments: [(1, 1, 1), (3, 3, 3), (17, 33, 257), (257, 17, 33), (33, 257, 1), (1, 257, 17), (64, 64, 64), (65, 129, 31)])
    func parityAwkward(m: Int, n: Int, k: Int) throws {
        for (transposeA, transposeB) in Self.transposes {
            let (aShape, bShape) = Self.storedShapes(batch: [2], m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
            try checkParity("gemm \(m)x\(n)x\(k) tA=\(transposeA) tB=\(transposeB)", inputs: [aShape, bShape, [2, m, n]], tolerance: gemmTolerance(k: k)) {
                try Tensor.gemm($0[0], $0[1], transposeA: transposeA, transposeB: transposeB, alpha: 0.75, beta: -0.5, c: $0[2])
            }
        }
    }

    @Test("OpenCL agrees with OpenBLAS at 1000 x 1000 x 1000", .needsOpenCL)
    func parityLarge() throws {
        let (shape, values, inputs) = try checkParity("gemm 1000^3", inputs: [[1000, 1000], [1000, 1000]], tolerance: gemmTolerance(k: 1000)) {
            try $0[0].matmul($0[1])
        }
        #expect(shape == [1000, 1000])
        // Spot-check OpenBLAS itself against float64 dot products (the full reference is too slow in debug).
        var generator = SeededGenerator(seed: 99)
        for _ in 0..<50 {
            let i = Int(generator.next() % 1000), j = Int(generator.next() % 1000)
            let dot = (0..<1000).reduce(0.0) { $0 + Double(inputs[0][i * 1000 + $1]) * Double(inputs[1][$1 * 1000 + j]) }
            #expect(gemmTolerance(k: 1000).accepts(values[i * 1000 + j], Float(dot)), "C[\(i), \(j)] = \(values[i * 1000 + j]), float64 says \(dot)")
        }
    }

    @Test("each OpenCL kernel shape matches the reference", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func eachKernelShape(device: Device, shape: OpenCLTunables.Shape) throws {
        let backend = try #require(try device.backend() as? OpenCLBackend)
        // m <= 32 takes the in-place kernel (unless B is transposed), larger m packs B, and a
        // transposed A with m >= 16 is packed too: these sizes cover every plan.
        for (m, n, k) in [(1, 1, 1), (3, 17, 257), (32, 65, 9), (65, 63, 17), (130, 200, 70)] {
            for (transposeA, transposeB) in Self.transposes {
                for broadcastB in [false, true] {
                    let batch = 2
                    let (aShape, bShape) = Self.storedShapes(batch: [batch], m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
                    let a = try Tensor.normal(aShape, seed: 5, device: device)
                    let b = try Tensor.normal(broadcastB ? Array(bShape.dropFirst()) : bShape, seed: 6, device: device)
                    let c = try Tensor.normal([batch, m, n], seed: 7, device: device)
                    let out = try Tensor(shape: [batch, m, n], values: c.values, device: device)
                    let descriptor = GEMMDescriptor(
                        batch: batch, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                        alpha: -1.25, beta: 0.5, broadcastB: broadcastB)
                    try backend.gemm(descriptor, a: a.buffer, b: b.buffer, c: out.buffer, shape: shape)
                    let expected = Reference.gemm(
                        try a.values, try b.values, batch: batch, m: m, n: n, k: k, transposeA: transposeA,
                        transposeB: transposeB, broadcastB: broadcastB, alpha: -1.25, beta: 0.5, c: try c.values)
                    expectClose(try out.values, expected, gemmTolerance(k: k), "\(shape) shape \(m)x\(n)x\(k) tA=\(transposeA) tB=\(transposeB) broadcastB=\(broadcastB)")
                }
            }
        }
    }

    @Test("beta = 0 never reads C, even when C holds NaN", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func betaZeroIgnoresGarbage(device: Device, shape: OpenCLTunables.Shape) throws {
        let backend = try #require(try device.backend() as? OpenCLBackend)
        let a = try Tensor.normal([5, 7], seed: 1, device: device)
        let b = try Tensor.normal([7, 9], seed: 2, device: device)
        let out = try Tensor(shape: [5, 9], repeating: .nan, device: device)
        try backend.gemm(GEMMDescriptor(batch: 1, m: 5, n: 9, k: 7), a: a.buffer, b: b.buffer, c: out.buffer, shape: shape)
        #expect(try out.values.allSatisfy { !$0.isNaN })
    }

    @Test("sub-matrix offsets and leading dimensions", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func offsetsAndLeadingDimensions(device: Device, shape: OpenCLTunables.Shape) throws {
        // A 3x4 block at row 1, column 2 of a 6x9 matrix times a 4x5 block at offset 3 of a padded buffer.
        let backend = try #require(try device.backend() as? OpenCLBackend)
        let big = try Tensor.normal([6, 9], seed: 3, device: device)
        let bBuffer = try Tensor.normal([3 + 4 * 7], seed: 4, device: device)
        let out = try Tensor.zeros([2 + 3 * 8], device: device)
        var d = GEMMDescriptor(batch: 1, m: 3, n: 5, k: 4)
        (d.lda, d.offsetA) = (9, 1 * 9 + 2)
        (d.ldb, d.offsetB) = (7, 3)
        (d.ldc, d.offsetC) = (8, 2)
        try backend.gemm(d, a: big.buffer, b: bBuffer.buffer, c: out.buffer, shape: shape)
        let (bigValues, bValues, outValues) = (try big.values, try bBuffer.values, try out.values)
        for i in 0..<3 {
            for j in 0..<5 {
                let dot = (0..<4).reduce(0.0) { $0 + Double(bigValues[(1 + i) * 9 + 2 + $1]) * Double(bValues[3 + $1 * 7 + j]) }
                #expect(gemmTolerance(k: 4).accepts(outValues[2 + i * 8 + j], Float(dot)))
            }
        }
        // Elements of C outside the 3x5 block stay zero.
        let inside = Set((0..<3).flatMap { i in (0..<5).map { 2 + i * 8 + $0 } })
        #expect(outValues.indices.filter { !inside.contains($0) }.allSatisfy { outValues[$0] == 0 })
    }

    @Test("launch structure: no host traffic; pack only when it pays", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func launchStructure(device: Device, shape: OpenCLTunables.Shape) throws {
        let backend = try #require(try device.backend() as? OpenCLBackend)
        // (m, transposeA, launches on the CPU shape): small M reads B in place (1 launch), larger M
        // packs B first (2), a transposed A is packed too (3). The GPU shape is always 1 kernel.
        for (m, transposeA, cpuLaunches) in [(5, false, 1), (33, false, 2), (33, true, 3)] {
            let a = try Tensor.normal(transposeA ? [17, m] : [m, 17], seed: 1, device: device)
            let b = try Tensor.normal([17, 65], seed: 2, device: device)
            let c = try Tensor.zeros([m, 65], device: device)
            let (_, counts) = try device.counting {
                try backend.gemm(
                    GEMMDescriptor(batch: 1, m: m, n: 65, k: 17, transposeA: transposeA), a: a.buffer, b: b.buffer,
                    c: c.buffer, shape: shape)
                try device.synchronize()
            }
            #expect(counts.launches == (shape == .cpu ? cpuLaunches : 1), "m=\(m) transposeA=\(transposeA)")
            #expect(counts.bytesToDevice == 0 && counts.bytesToHost == 0)
        }
    }

    @Test("bad shapes and devices throw, naming the argument and both shapes")
    func errors() throws {
        let a = try Tensor.zeros([2, 3])
        expectTempoError(containing: ["`b`", "[..., 3, N]", "[4, 5]"]) { _ = try a.matmul(Tensor.zeros([4, 5])) }
        expectTempoError(containing: ["`b`", "[2, 5, 3]"]) { _ = try Tensor.zeros([3, 2, 3]).matmul(Tensor.zeros([2, 5, 3]), transposeOther: true) }
        expectTempoError(containing: ["`a`", "at least 2 axes", "[3]"]) { _ = try Tensor.zeros([3]).matmul(a) }
        expectTempoError(containing: ["`c`", "[2, 2]", "[2, 3]"]) { _ = try Tensor.gemm(a, a, transposeB: true, beta: 1, c: a) }
        expectTempoError(containing: ["`c`", "beta"]) { _ = try Tensor.gemm(a, a, transposeB: true, beta: 1) }
        if let gpu = TestDevices.openCL.first {
            expectTempoError(containing: ["`b`", "cpu", gpu.id, "to(_:)"]) { _ = try a.matmul(Tensor.zeros([3, 4], device: gpu)) }
        }
    }
}
