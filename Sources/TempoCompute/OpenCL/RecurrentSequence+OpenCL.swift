extension OpenCLBackend {
    func recurrentSequence(
        _ descriptor: RecurrentSequenceDescriptor, input: any DeviceBuffer, weights: [RecurrentWeightBuffers],
        initialHidden: (any DeviceBuffer)?, initialCell: (any DeviceBuffer)?, lengths: [Int32]?,
        output: any DeviceBuffer, finalHidden: any DeviceBuffer, finalCell: (any DeviceBuffer)?
    ) throws {
        // Placeholder while the fused implementation is being written (same branch, not landed).
        throw TempoError.invalidArgument(argument: "device", expected: "a backend with recurrentSequence", actual: "OpenCL")
    }
}
