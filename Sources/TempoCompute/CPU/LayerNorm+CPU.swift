extension CPUBackend {
    func layerNorm(
        _ x: any DeviceBuffer, gamma: (any DeviceBuffer)?, beta: (any DeviceBuffer)?,
        into out: any DeviceBuffer, rows: Int, columns: Int, epsilon: Float
    ) throws {
        counters.recordLaunches()
        let x = pointer(x), out = pointer(out)
        let gamma = gamma.map { UnsafePointer(pointer($0)) }
        let beta = beta.map { UnsafePointer(pointer($0)) }
        CPUThreads.forEachChunk(of: rows, grain: max((1 << 14) / max(columns, 1), 1), alignment: 1) { range in
            for row in range {
                VectorMath.layerNorm(
                    x + row * columns, out + row * columns, count: columns,
                    gamma: gamma, beta: beta, epsilon: epsilon)
            }
        }
    }
}
