import TempoKernels

extension OpenCLBackend {
    func gemm(_ descriptor: GEMMDescriptor, a: any DeviceBuffer, b: any DeviceBuffer, c: any DeviceBuffer) throws {
        try gemm(descriptor, a: a, b: b, c: c, shape: tunables.shape)
    }

    /// `gemm` in a given kernel shape (tests force each one; see ``OpenCLTunables``).
    func gemm(
        _ d: GEMMDescriptor, a: any DeviceBuffer, b: any DeviceBuffer, c: any DeviceBuffer, shape: OpenCLTunables.Shape
    ) throws {
        // The packed copy of B is up to TN/N times larger than B itself (a narrow B is padded to a
        // whole panel); when it would not be addressable with the kernels' 32-bit indices, the
        // GPU shape, which reads B in place, does the product instead.
        var shape = shape
        if shape == .cpu, packedCount(d) > Int(Int32.max) { shape = .gpu }
        let program = try program(.gemm)
        let aArguments: [KernelArgument] = [
            .buffer(a), .int(d.offsetA), .int(d.strideA), .int(d.aRowStride), .int(d.aColumnStride),
        ]
        let cArguments: [KernelArgument] = [
            .buffer(c), .int(d.offsetC), .int(d.strideC), .int(d.ldc),
            .int(d.m), .int(d.n), .int(d.k), .float(d.alpha), .float(d.beta),
        ]
        switch shape {
        case .cpu:
            // Pack op(B) into contiguous column panels first: the multiply kernel then streams B
            // sequentially whatever its stride or transposition. A broadcast B is packed once.
            let rows = tunables.gemmCPURows, columns = tunables.gemmCPUColumns
            let panels = (d.n + columns - 1) / columns
            let packedStride = panels * d.k * columns
            let packedBatches = d.strideB == 0 ? 1 : d.batch
            let packed = try allocate(count: packedCount(d))
            try launch(
                program, "gemm_pack_b", global: [panels, d.k, packedBatches],
                [
                    .buffer(b), .int(d.offsetB), .int(d.strideB), .int(d.bRowStride), .int(d.bColumnStride),
                    .int(d.k), .int(d.n), .buffer(packed), .int(packedStride),
                ])
            try launch(
                program, "gemm_cpu", global: [(d.m + rows - 1) / rows, panels, d.batch],
                aArguments + [.buffer(packed), .int(d.strideB == 0 ? 0 : packedStride)] + cArguments)
        case .gpu:
            let local = [
                tunables.gemmGPUTileColumns / tunables.gemmGPUColumnsPerItem,
                tunables.gemmGPUTileRows / tunables.gemmGPURowsPerItem, 1,
            ]
            let global = [
                (d.n + tunables.gemmGPUTileColumns - 1) / tunables.gemmGPUTileColumns * local[0],
                (d.m + tunables.gemmGPUTileRows - 1) / tunables.gemmGPUTileRows * local[1],
                d.batch,
            ]
            try launch(
                program, "gemm_gpu", global: global, local: local,
                aArguments + [.buffer(b), .int(d.offsetB), .int(d.strideB), .int(d.bRowStride), .int(d.bColumnStride)]
                    + cArguments)
        }
    }
}

extension OpenCLBackend {
    /// Floats in the packed copy of B that the CPU-shaped GEMM makes.
    fileprivate func packedCount(_ d: GEMMDescriptor) -> Int {
        let columns = tunables.gemmCPUColumns
        let panels = (d.n + columns - 1) / columns
        return (d.strideB == 0 ? 1 : d.batch) * panels * d.k * columns
    }
}
