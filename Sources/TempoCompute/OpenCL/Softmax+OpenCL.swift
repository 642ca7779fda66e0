import TempoKernels

extension OpenCLBackend {
    func softmax(_ x: any DeviceBuffer, into out: any DeviceBuffer, rows: Int, columns: Int) throws {
        try softmax(x, into: out, rows: rows, columns: columns, shape: tunables.shape)
    }

    func softmax(_ x: any DeviceBuffer, into out: any DeviceBuffer, rows: Int, columns: Int, shape: OpenCLTunables.Shape) throws {
        let arguments: [KernelArgument] = [.buffer(x), .buffer(out), .int(rows), .int(columns)]
        switch shape {
        case .cpu:
            try launch(program(.softmax), "softmax_rows", global: [rows], arguments)
        case .gpu:
            let group = tunables.rowWorkGroup
            try launch(program(.softmax), "softmax_workgroup", global: [rows * group], local: [group], arguments)
        }
    }
}
