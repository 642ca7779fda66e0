extension CPUBackend {
    func copyRegion(_ region: CopyRegion, from source: any DeviceBuffer, to destination: any DeviceBuffer) throws {
        counters.recordLaunches()
        let source = pointer(source), destination = pointer(destination)
        CPUThreads.forEachChunk(of: region.rows, grain: max((1 << 16) / max(region.rowLength, 1), 1), alignment: 1) { range in
            for row in range {
                (destination + region.destinationOffset + row * region.destinationStride)
                    .update(from: source + region.sourceOffset + row * region.sourceStride, count: region.rowLength)
            }
        }
    }
}
