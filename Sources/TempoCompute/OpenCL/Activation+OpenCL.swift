import TempoKernels

extension OpenCLBackend {
    func activation(_ function: Activation, _ x: any DeviceBuffer, into out: any DeviceBuffer, count: Int) throws {
        let name: String
        switch function {
        case .sigmoid: name = "activation_sigmoid"
        case .tanh: name = "activation_tanh"
        case .relu: name = "activation_relu"
        case .gelu: name = "activation_gelu"
        case .geluTanh: name = "activation_gelu_tanh"
        }
        try launch(program(.activation), name, global: [count], [.buffer(x), .buffer(out), .int(count)])
    }
}
