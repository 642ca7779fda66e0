import TempoKernels

extension OpenCLBackend {
    func gather(
        _ x: any DeviceBuffer, indices: [Int32], into out: any DeviceBuffer, outer: Int, axisLength: Int, inner: Int
    ) throws {
        // The indices travel as raw int32s in a float-sized buffer; the kernel reads them as int.
        let indexBuffer = try allocate(count: indices.count)
        try indices.withUnsafeBufferPointer { indices in
            try indices.withMemoryRebound(to: Float.self) { try upload($0, to: indexBuffer) }
        }
        try launch(
            program(.gather), "gather_rows", global: [inner, indices.count, outer],
            [
                .buffer(x), .buffer(indexBuffer), .buffer(out), .int(outer), .int(axisLength), .int(indices.count),
                .int(inner),
            ])
    }
}
