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
            reflect(&a, columns: (k + 1)..<columns, by: k)
        }
    }

    /// The first `columns` columns of Q = H_0 H_1 ... H_(n-1), column-major: the reflectors
    /// applied, last first, to the leading columns of the identity.
    func thinQ() -> [Double] {
        var q = [Double](repeating: 0, count: rows * columns)
        for k in 0..<columns { q[k * rows + k] = 1 }
        for k in stride(from: columns - 1, through: 0, by: -1) {
            // Columns before k are still unit vectors e_j with j < k, which H_k leaves alone.
            reflect(&q, columns: k..<columns, by: k)
        }
        return q
    }

    /// Applies H_k = I - 2vvᵀ to `columns` of the column-major `matrix`.
    private func reflect(_ matrix: inout [Double], columns: Range<Int>, by k: Int) {
        let count = rows - k
        reflectors.withUnsafeBufferPointer { reflectors in
            matrix.withUnsafeMutableBufferPointer { matrix in
                guard let reflectorBase = reflectors.baseAddress, let matrixBase = matrix.baseAddress else { return }
                let v = reflectorBase + (k * rows + k)
                for column in columns {
                    let target = matrixBase + (column * rows + k)
                    let scale = 2 * Self.dot(v, target, count: count)
                    Self.subtract(scale, times: v, from: target, count: count)
                }
            }
        }
    }

    // These two loops are the whole cost of the factorisation. Raw pointers and four elements per
    // iteration keep them about ten times faster than array subscripts in debug builds, where
    // users' initialisers run too (a [2048, 512] orthogonal matrix: about 2.5 s instead of 25 s).

    /// `Σ x[i] y[i]` over `count` elements.
    private static func dot(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int) -> Double {
        var (sum0, sum1, sum2, sum3) = (0.0, 0.0, 0.0, 0.0)
        var i = 0
        while i + 4 <= count {
            sum0 += x[i] * y[i]
            sum1 += x[i + 1] * y[i + 1]
            sum2 += x[i + 2] * y[i + 2]
            sum3 += x[i + 3] * y[i + 3]
            i += 4
        }
        while i < count {
            sum0 += x[i] * y[i]
            i += 1
        }
        return (sum0 + sum1) + (sum2 + sum3)
    }

    /// `y[i] -= scale * x[i]` over `count` elements.
    private static func subtract(
        _ scale: Double, times x: UnsafePointer<Double>, from y: UnsafeMutablePointer<Double>, count: Int
    ) {
        var i = 0
        while i + 4 <= count {
            y[i] -= scale * x[i]
            y[i + 1] -= scale * x[i + 1]
            y[i + 2] -= scale * x[i + 2]
            y[i + 3] -= scale * x[i + 3]
            i += 4
        }
        while i < count {
            y[i] -= scale * x[i]
            i += 1
        }
    }
}
