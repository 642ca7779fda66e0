extension CPUBackend {
    func gather(
        _ x: any DeviceBuffer, indices: [Int32], into out: any DeviceBuffer, outer: Int, axisLength: Int, inner: Int
    ) throws {
        counters.recordLaunches()
        let x = pointer(x), out = pointer(out)
        let count = indices.count
        indices.withUnsafeBufferPointer { indices in
            let shared = UncheckedSendable(indices)
            // Rows are copied whole; parallel over (outer, index) pairs when there is enough to copy.
            CPUThreads.forEachChunk(of: outer * count, grain: max((1 << 16) / max(inner, 1), 1), alignment: 1) { range in
                for piece in range {
                    let (o, k) = piece.quotientAndRemainder(dividingBy: count)
                    (out + (o * count + k) * inner)
                        .update(from: x + (o * axisLength + Int(shared.value[k])) * inner, count: inner)
                }
            }
        }
    }
}
