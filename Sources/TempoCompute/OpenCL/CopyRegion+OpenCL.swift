import TempoKernels

extension OpenCLBackend {
    func copyRegion(_ region: CopyRegion, from source: any DeviceBuffer, to destination: any DeviceBuffer) throws {
        try launch(
            program(.copyRegion), "copy_region", global: [region.rowLength, region.rows],
            [
                .buffer(source), .int(region.sourceOffset), .int(region.sourceStride),
                .buffer(destination), .int(region.destinationOffset), .int(region.destinationStride),
                .int(region.rows), .int(region.rowLength),
            ])
    }
}
