import TempoKernels

extension OpenCLBackend {
    func gemm(_ descriptor: GEMMDescriptor, a: any DeviceBuffer, b: any DeviceBuffer, c: any DeviceBuffer) throws {
        try gemm(descriptor, a: a, b: b, c: c, shape: tunables.shape)
    }

    /// `gemm` in a given kernel shape (tests force each one; see ``OpenCLTunables``).
    func gemm(
        _ d: GEMMDescriptor, a: any DeviceBuffer, b: any DeviceBuffer, c: any DeviceBuffer, shape: OpenCLTunables.Shape
    ) throws {
        let program = try program(.gemm)
        let aArguments: [KernelArgument] = [
            .buffer(a), .int(d.offsetA), .int(d.strideA), .int(d.aRowStride), .int(d.aColumnStride),
        ]
        let bArguments: [KernelArgument] = [
            .buffer(b), .int(d.offsetB), .int(d.strideB), .int(d.bRowStride), .int(d.bColumnStride),
        ]
        let cArguments: [KernelArgument] = [
            .buffer(c), .int(d.offsetC), .int(d.strideC), .int(d.ldc),
            .int(d.m), .int(d.n), .int(d.k), .float(d.alpha), .float(d.beta),
        ]
        let rows = tunables.gemmCPURows, columns = tunables.gemmCPUColumns
        let panels = (d.n + columns - 1) / columns
        let one = [1, 1, 1]

        switch CPUShapePlan(d, tunables: tunables, shape: shape) {
        case .inPlace:
            // Small M: packing B would cost more than the product; read B where it is.
            try launch(
                program, "gemm_cpu_nopack", global: [(d.m + rows - 1) / rows, panels, d.batch], local: one,
                aArguments + bArguments + cArguments)

        case .packed(let packA):
            // Pack op(B) into TN-wide panels contiguous along K, so the multiply streams B
            // sequentially whatever its strides; a B shared by the batch is packed once. A
            // transposed A is copied to row-major first: reading it in place strides K by lda.
            let packedStride = panels * d.k * columns
            let packedBatches = d.strideB == 0 ? 1 : d.batch
            let packedB = try allocate(count: packedBatches * packedStride)
            try launch(
                program, "gemm_pack_b", global: [(d.k + 15) / 16, panels, packedBatches], local: one,
                bArguments + [.int(d.k), .int(d.n), .buffer(packedB), .int(packedStride)])
            var a = aArguments
            if packA {
                let aBatches = d.strideA == 0 ? 1 : d.batch
                let buffer = try allocate(count: aBatches * d.m * d.k)
                try launch(
                    program, "gemm_pack_a", global: [(d.k + 15) / 16, (d.m + 15) / 16, aBatches], local: one,
                    aArguments + [.int(d.m), .int(d.k), .buffer(buffer), .int(d.m * d.k)])
                a = [.buffer(buffer), .int(0), .int(d.strideA == 0 ? 0 : d.m * d.k), .int(d.k), .int(1)]
            }
            try launch(
                program, "gemm_cpu", global: [(d.m + rows - 1) / rows, panels, d.batch], local: one,
                a + [.buffer(packedB), .int(d.strideB == 0 ? 0 : packedStride)] + cArguments)

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
            try launch(program, "gemm_gpu", global: global, local: local, aArguments + bArguments + cArguments)
        }
    }
}

/// Which kernels a GEMM runs, decided from its shape.
enum CPUShapePlan: Equatable {
    /// `gemm_cpu_nopack`: B read in place.
    case inPlace
    /// `gemm_pack_b` (+ `gemm_pack_a` when A is transposed), then `gemm_cpu`.
    case packed(packA: Bool)
    /// `gemm_gpu`.
    case gpu

    /// M at or below which packing B costs more than it saves (measured on PoCL: at M = 32,
    /// N = 1024, K = 256 the in-place kernel ran 84 GF/s against 67-71 with packing per call).
    static let inPlaceMaximumRows = 32
    /// M at or above which a transposed A is worth copying to row-major first.
    static let packARows = 16

    init(_ d: GEMMDescriptor, tunables: OpenCLTunables, shape: OpenCLTunables.Shape) {
        guard shape == .cpu else {
            self = .gpu
            return
        }
        if d.m <= Self.inPlaceMaximumRows, !d.transposeB {
            self = .inPlace
            return
        }
        // The packed copies are addressed with the kernels' 32-bit indices; a narrow B padded to
        // whole panels can outgrow B itself, and then the GPU shape, which reads in place, runs.
        let columns = tunables.gemmCPUColumns
        let packedB = (d.strideB == 0 ? 1 : d.batch) * ((d.n + columns - 1) / columns) * d.k * columns
        guard packedB <= Int(Int32.max) else {
            self = .gpu
            return
        }
        self = .packed(packA: d.transposeA && d.m >= Self.packARows)
    }
}
