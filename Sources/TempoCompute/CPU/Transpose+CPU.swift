import CBLAS

extension CPUBackend {
    /// Rows of the source per work piece: a band of rows transposes into a band of columns.
    private static let transposeBand = 64

    func transpose(_ x: any DeviceBuffer, into out: any DeviceBuffer, batch: Int, rows: Int, columns: Int) throws {
        counters.recordLaunches()
        let x = pointer(x), out = pointer(out)
        let band = Self.transposeBand
        let bands = (rows + band - 1) / band
        // OpenBLAS's omatcopy kernels do the cache blocking; Tempo splits the work over threads in
        // bands of source rows (each band writes its own band of destination columns).
        CPUThreads.forEachChunk(of: batch * bands, grain: max((1 << 15) / max(band * columns, 1), 1), alignment: 1) { range in
            for piece in range {
                let matrix = piece / bands
                let rowStart = (piece % bands) * band
                let rowCount = min(band, rows - rowStart)
                cblas_somatcopy(
                    CblasRowMajor, CblasTrans, Int32(rowCount), Int32(columns), 1,
                    x + matrix * rows * columns + rowStart * columns, Int32(columns),
                    out + matrix * rows * columns + rowStart, Int32(rows))
            }
        }
    }
}
