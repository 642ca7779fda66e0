/// The (semi-)orthogonal matrix of `torch.nn.init.orthogonal_`, from its normal draws.
enum OrthogonalMatrix {
    /// `gain` times the orthogonal factor of the `rows` x `columns` standard normal matrix
    /// `normals` (row-major), row-major, as PyTorch makes it: a wide matrix is transposed first so
    /// that QR sees a tall one, `Q`'s columns take the signs of `R`'s diagonal, and the result is
    /// transposed back.
    static func values(rows: Int, columns: Int, gain: Double, normals: [Float]) -> [Float] {
        let isWide = rows < columns
        let height = max(rows, columns)
        let width = min(rows, columns)
        // The tall matrix, column-major. A wide matrix's transpose stored column-major is the
        // matrix itself row-major; a tall one is transposed into place.
        var matrix = [Double](repeating: 0, count: height * width)
        for row in 0..<rows {
            for column in 0..<columns {
                let value = Double(normals[row * columns + column])
                if isWide {
                    matrix[row * height + column] = value
                } else {
                    matrix[column * height + row] = value
                }
            }
        }
        let factor = HouseholderQR(factoring: matrix, rows: height, columns: width)
        var q = factor.thinQ()
        // Q's columns times the signs of R's diagonal: the factorisation with a positive diagonal,
        // which is unique, so the result does not depend on the reflectors' sign convention.
        // A zero diagonal element (a rank-deficient draw, probability 0) keeps its column, where
        // torch.sign(0) would zero it and lose orthogonality.
        for column in 0..<width {
            let scale = factor.diagonal[column] < 0 ? -gain : gain
            for row in 0..<height {
                q[column * height + row] *= scale
            }
        }
        if isWide {
            // Qᵀ row-major is Q column-major.
            return q.map { Float($0) }
        }
        var values = [Float](repeating: 0, count: rows * columns)
        for row in 0..<rows {
            for column in 0..<columns {
                values[row * columns + column] = Float(q[column * height + row])
            }
        }
        return values
    }
}

/// A Householder QR decomposition `A = QR` of a tall matrix (`rows >= columns`), in Double.
///
/// Matrices are column-major so that each reflection works on contiguous columns. This is the
/// textbook algorithm (Golub and Van Loan, 5.2.1) without blocking: initialisation runs once per
/// parameter, and no LAPACK is linked.
struct HouseholderQR {
    let rows: Int
    let columns: Int
    /// The diagonal of R.
    private(set) var diagonal: [Double]
    /// Column k holds the unit reflector vector v of H_k = I - 2vvᵀ in rows k..., zeros above;
    /// an all-zero column means H_k = I.
    private var reflectors: [Double]

    /// Factors the `rows` x `columns` column-major `matrix`; `rows >= columns`.
    init(factoring matrix: [Double], rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        diagonal = [Double](repeating: 0, count: columns)
        reflectors = [Double](repeating: 0, count: rows * columns)
        var a = matrix
        for k in 0..<columns {
            let start = k * rows
            var norm = 0.0
            for i in k..<rows { norm += a[start + i] * a[start + i] }
            norm = norm.squareRoot()
            // A zero column below the diagonal needs no reflection, and R's element is 0.
            guard norm > 0 else { continue }
            // The sign that adds magnitudes in v's first element, so nothing cancels.
            let alpha = a[start + k] > 0 ? -norm : norm
            var vNorm = 0.0
            for i in k..<rows {
                let v = i == k ? a[start + i] - alpha : a[start + i]
                reflectors[start + i] = v
                vNorm += v * v
            }
            vNorm = vNorm.squareRoot()
            for i in k..<rows { reflectors[start + i] /= vNorm }
            diagonal[k] = alpha
            for j in (k + 1)..<columns {
                reflect(&a, column: j, by: k)
            }
        }
    }

    /// The first `columns` columns of Q = H_0 H_1 ... H_(n-1), column-major: the reflectors
    /// applied, last first, to the leading columns of the identity.
    func thinQ() -> [Double] {
        var q = [Double](repeating: 0, count: rows * columns)
        for k in 0..<columns { q[k * rows + k] = 1 }
        for k in stride(from: columns - 1, through: 0, by: -1) {
            // Columns before k are still unit vectors e_j with j < k, which H_k leaves alone.
            for j in k..<columns {
                reflect(&q, column: j, by: k)
            }
        }
        return q
    }

    /// Applies H_k = I - 2vvᵀ to column `column` of the column-major `matrix`.
    private func reflect(_ matrix: inout [Double], column: Int, by k: Int) {
        let v = k * rows
        let target = column * rows
        var dot = 0.0
        for i in k..<rows { dot += reflectors[v + i] * matrix[target + i] }
        guard dot != 0 else { return }
        let scale = 2 * dot
        for i in k..<rows { matrix[target + i] -= scale * reflectors[v + i] }
    }
}
