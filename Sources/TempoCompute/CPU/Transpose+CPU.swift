extension CPUBackend {
    /// Square tiles small enough that a tile of the source and of the destination stay in L1.
    private static let transposeTile = 32

    func transpose(_ x: any DeviceBuffer, into out: any DeviceBuffer, batch: Int, rows: Int, columns: Int) throws {
        counters.recordLaunches()
        let x = pointer(x), out = pointer(out)
        let tile = Self.transposeTile
        let rowTiles = (rows + tile - 1) / tile
        // Parallel over (batch, row tile) pairs: enough pieces even for one large matrix.
        CPUThreads.forEachChunk(of: batch * rowTiles, grain: max((1 << 15) / max(tile * columns, 1), 1), alignment: 1) { range in
            for piece in range {
                let matrix = piece / rowTiles
                let rowStart = (piece % rowTiles) * tile
                let rowEnd = min(rowStart + tile, rows)
                let source = x + matrix * rows * columns
                let destination = out + matrix * rows * columns
                var columnStart = 0
                while columnStart < columns {
                    let columnEnd = min(columnStart + tile, columns)
                    for row in rowStart..<rowEnd {
                        for column in columnStart..<columnEnd {
                            destination[column * rows + row] = source[row * columns + column]
                        }
                    }
                    columnStart = columnEnd
                }
            }
        }
    }
}
