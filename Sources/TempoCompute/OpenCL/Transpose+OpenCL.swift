import TempoKernels

extension OpenCLBackend {
    func transpose(_ x: any DeviceBuffer, into out: any DeviceBuffer, batch: Int, rows: Int, columns: Int) throws {
        try transpose(x, into: out, batch: batch, rows: rows, columns: columns, shape: tunables.shape)
    }

    func transpose(
        _ x: any DeviceBuffer, into out: any DeviceBuffer, batch: Int, rows: Int, columns: Int, shape: OpenCLTunables.Shape
    ) throws {
        let arguments: [KernelArgument] = [.buffer(x), .buffer(out), .int(rows), .int(columns)]
        switch shape {
        case .cpu:
            try launch(program(.transpose), "transpose_direct", global: [rows, columns, batch], arguments)
        case .gpu:
            let tile = tunables.transposeTile
            try launch(
                program(.transpose), "transpose_tiled", global: [columns, rows, batch], local: [tile, tile, 1], arguments)
        }
    }
}
