extension CPUBackend {
    func softmax(_ x: any DeviceBuffer, into out: any DeviceBuffer, rows: Int, columns: Int) throws {
        counters.recordLaunches()
        let x = pointer(x), out = pointer(out)
        CPUThreads.forEachChunk(of: rows, grain: max((1 << 13) / max(columns, 1), 1), alignment: 1) { range in
            for row in range {
                VectorMath.softmax(x + row * columns, out + row * columns, count: columns)
            }
        }
    }
}
