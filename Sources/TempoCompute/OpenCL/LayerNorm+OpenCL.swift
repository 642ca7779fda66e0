import TempoKernels

extension OpenCLBackend {
    func layerNorm(
        _ x: any DeviceBuffer, gamma: (any DeviceBuffer)?, beta: (any DeviceBuffer)?,
        into out: any DeviceBuffer, rows: Int, columns: Int, epsilon: Float
    ) throws {
        try layerNorm(x, gamma: gamma, beta: beta, into: out, rows: rows, columns: columns, epsilon: epsilon, shape: tunables.shape)
    }

    func layerNorm(
        _ x: any DeviceBuffer, gamma: (any DeviceBuffer)?, beta: (any DeviceBuffer)?,
        into out: any DeviceBuffer, rows: Int, columns: Int, epsilon: Float, shape: OpenCLTunables.Shape
    ) throws {
        // An absent gamma or beta is flagged off; x stands in so the argument is a valid buffer.
        let arguments: [KernelArgument] = [
            .buffer(x), .buffer(gamma ?? x), .buffer(beta ?? x), .buffer(out),
            .int(rows), .int(columns), .float(epsilon), .int(gamma == nil ? 0 : 1), .int(beta == nil ? 0 : 1),
        ]
        switch shape {
        case .cpu:
            try launch(program(.layerNorm), "layer_norm_rows", global: [rows], arguments)
        case .gpu:
            let group = tunables.rowWorkGroup
            try launch(program(.layerNorm), "layer_norm_workgroup", global: [rows * group], local: [group], arguments)
        }
    }
}
