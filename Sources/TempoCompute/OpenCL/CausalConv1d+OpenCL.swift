extension OpenCLBackend {
    func causalConv1d(
        _ descriptor: CausalConv1dDescriptor, input: any DeviceBuffer, weight: any DeviceBuffer,
        bias: (any DeviceBuffer)?, output: any DeviceBuffer
    ) throws {
        // Placeholder while the kernels are being written on a branch; never lands.
        throw TempoError.invalidArgument(argument: "device", expected: "a backend with causalConv1d", actual: "OpenCL")
    }
}
