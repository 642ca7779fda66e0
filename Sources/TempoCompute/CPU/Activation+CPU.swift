extension CPUBackend {
    func activation(_ function: Activation, _ x: any DeviceBuffer, into out: any DeviceBuffer, count: Int) throws {
        counters.recordLaunches()
        let x = pointer(x), out = pointer(out)
        // Transcendentals cost ~10x an add, so fewer elements already pay for a second thread.
        CPUThreads.forEachChunk(of: count, grain: 1 << 13) { range in
            let source = x + range.lowerBound, destination = out + range.lowerBound
            switch function {
            case .sigmoid: VectorMath.sigmoid(source, destination, count: range.count)
            case .tanh: VectorMath.tanh(source, destination, count: range.count)
            case .relu: VectorMath.relu(source, destination, count: range.count)
            case .gelu: VectorMath.gelu(source, destination, count: range.count)
            case .geluTanh: VectorMath.geluTanh(source, destination, count: range.count)
            }
        }
    }
}
