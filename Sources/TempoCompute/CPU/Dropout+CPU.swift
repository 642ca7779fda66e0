extension CPUBackend {
    func dropout(
        _ x: any DeviceBuffer, into out: any DeviceBuffer, count: Int, probability: Float, scale: Float, key: UInt32,
        offset: UInt32
    ) throws {
        counters.recordLaunches()
        let x = pointer(x), out = pointer(out)
        // Ten Philox rounds per element: worth a second thread early.
        CPUThreads.forEachChunk(of: count, grain: 1 << 13) { range in
            for i in range {
                let keep = Philox.uniform(UInt32(truncatingIfNeeded: i), offset: offset, key: key) >= probability
                out[i] = keep ? x[i] * scale : 0
            }
        }
    }
}
