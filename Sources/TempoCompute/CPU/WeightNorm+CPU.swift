extension CPUBackend {
    /// `out[r, c] = v[r, c] * (g[r] / ||v[r, :]||)` over a `[rows, columns]` view of `v`.
    ///
    /// The sum of squares runs in Double, so the norm is the correctly rounded float of any row a
    /// float32 reference sums in its own order; the scale and the product are float32 in PyTorch's
    /// order (`g / norm` first), so a zero row comes out NaN as PyTorch's does. The op runs once
    /// per weight load (layers cache its result), so a plain loop is fast enough.
    func weightNorm(_ v: any DeviceBuffer, g: any DeviceBuffer, into out: any DeviceBuffer, rows: Int, columns: Int) throws {
        counters.recordLaunches()
        let v = UnsafePointer(pointer(v)), g = UnsafePointer(pointer(g)), out = pointer(out)
        CPUThreads.forEachChunk(of: rows, grain: max((1 << 14) / max(columns, 1), 1), alignment: 1) { range in
            for row in range {
                let source = v + row * columns, destination = out + row * columns
                var squares = 0.0
                for c in 0..<columns { squares += Double(source[c]) * Double(source[c]) }
                let scale = g[row] / Float(squares.squareRoot())
                for c in 0..<columns { destination[c] = source[c] * scale }
            }
        }
    }
}
