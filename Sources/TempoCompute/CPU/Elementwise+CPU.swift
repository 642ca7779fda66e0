extension CPUBackend {
    /// Below this many elements a loop runs on one thread.
    static let elementwiseGrain = 1 << 15

    func binary(_ op: BinaryOp, _ a: any DeviceBuffer, _ b: any DeviceBuffer, into out: any DeviceBuffer, count: Int) throws {
        counters.recordLaunches()
        let a = pointer(a), b = pointer(b), out = pointer(out)
        CPUThreads.forEachChunk(of: count, grain: Self.elementwiseGrain) { range in
            switch op {
            case .add:
                for i in range { out[i] = a[i] + b[i] }
            case .multiply:
                for i in range { out[i] = a[i] * b[i] }
            }
        }
    }

    func scale(_ x: any DeviceBuffer, by alpha: Float, into out: any DeviceBuffer, count: Int) throws {
        counters.recordLaunches()
        let x = pointer(x), out = pointer(out)
        CPUThreads.forEachChunk(of: count, grain: Self.elementwiseGrain) { range in
            for i in range { out[i] = alpha * x[i] }
        }
    }

    func addBias(_ x: any DeviceBuffer, _ bias: any DeviceBuffer, into out: any DeviceBuffer, rows: Int, columns: Int) throws {
        counters.recordLaunches()
        let x = pointer(x), bias = pointer(bias), out = pointer(out)
        CPUThreads.forEachChunk(of: rows, grain: max(Self.elementwiseGrain / max(columns, 1), 1), alignment: 1) { range in
            for row in range {
                let offset = row * columns
                for column in 0..<columns { out[offset + column] = x[offset + column] + bias[column] }
            }
        }
    }
}
