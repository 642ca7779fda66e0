import TempoKernels

extension OpenCLBackend {
    func binary(_ op: BinaryOp, _ a: any DeviceBuffer, _ b: any DeviceBuffer, into out: any DeviceBuffer, count: Int) throws {
        let name: String
        switch op {
        case .add: name = "elementwise_add"
        case .multiply: name = "elementwise_multiply"
        }
        try launch(program(.elementwise), name, global: [count], [.buffer(a), .buffer(b), .buffer(out), .int(count)])
    }

    func scale(_ x: any DeviceBuffer, by alpha: Float, into out: any DeviceBuffer, count: Int) throws {
        try launch(
            program(.elementwise), "elementwise_scale", global: [count], [.buffer(x), .float(alpha), .buffer(out), .int(count)])
    }

    func addBias(_ x: any DeviceBuffer, _ bias: any DeviceBuffer, into out: any DeviceBuffer, rows: Int, columns: Int) throws {
        try launch(
            program(.elementwise), "elementwise_add_bias", global: [columns, rows],
            [.buffer(x), .buffer(bias), .buffer(out), .int(rows), .int(columns)])
    }
}
