import TempoKernels

extension OpenCLBackend {
    func dropout(
        _ x: any DeviceBuffer, into out: any DeviceBuffer, count: Int, probability: Float, scale: Float, key: UInt32,
        offset: UInt32
    ) throws {
        try launch(
            program(.dropout), "dropout", global: [count],
            [
                .buffer(x), .buffer(out), .int(count), .float(probability), .float(scale),
                .uint(key), .uint(offset),
            ])
    }
}
