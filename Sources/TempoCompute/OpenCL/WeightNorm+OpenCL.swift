import TempoKernels

extension OpenCLBackend {
    func weightNorm(_ v: any DeviceBuffer, g: any DeviceBuffer, into out: any DeviceBuffer, rows: Int, columns: Int) throws {
        try weightNorm(v, g: g, into: out, rows: rows, columns: columns, shape: tunables.shape)
    }

    /// `weightNorm` in a given kernel shape (tests force each one): `weight_norm_rows` or
    /// `weight_norm_workgroup` of `Kernels/weight_norm.cl`, whose header gives the geometry.
    func weightNorm(
        _ v: any DeviceBuffer, g: any DeviceBuffer, into out: any DeviceBuffer, rows: Int, columns: Int,
        shape: OpenCLTunables.Shape
    ) throws {
        let program = try program(.weightNorm)
        let arguments: [KernelArgument] = [.buffer(v), .buffer(g), .buffer(out), .int(rows), .int(columns)]
        switch shape {
        case .cpu:
            try launch(program, "weight_norm_rows", global: [rows], arguments)
        case .gpu:
            let group = tunables.rowWorkGroup
            try launch(program, "weight_norm_workgroup", global: [rows * group], local: [group], arguments)
        }
    }
}
