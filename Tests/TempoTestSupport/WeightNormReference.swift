/// PyTorch's `torch._weight_norm(v, g, 0)` in Double, from its definition, for the op and layer
/// tests: `w[r, c] = v[r, c] * (g[r] / ||v[r, :]||_2)` over `v` as `[rows, v.count / rows]`
/// (`rows = g.count`). A row of zeros gives NaN (`0 * (g / 0)`), as PyTorch's does.
public func referenceWeightNorm(_ v: [Float], g: [Float]) -> [Float] {
    let rows = g.count
    let columns = rows == 0 ? 0 : v.count / rows
    var w = [Float](repeating: 0, count: v.count)
    for r in 0..<rows {
        let row = v[r * columns..<(r + 1) * columns]
        let norm = row.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let scale = Double(g[r]) / norm
        for (c, value) in row.enumerated() { w[r * columns + c] = Float(Double(value) * scale) }
    }
    return w
}
