import TempoKernels

extension OpenCLBackend {
    func recurrentSequence(
        _ descriptor: RecurrentSequenceDescriptor, input: any DeviceBuffer, weights: [RecurrentWeightBuffers],
        initialHidden: (any DeviceBuffer)?, initialCell: (any DeviceBuffer)?, lengths: [Int32]?,
        output: any DeviceBuffer, finalHidden: any DeviceBuffer, finalCell: (any DeviceBuffer)?
    ) throws {
        try recurrentSequence(
            descriptor, input: input, weights: weights, initialHidden: initialHidden, initialCell: initialCell,
            lengths: lengths, output: output, finalHidden: finalHidden, finalCell: finalCell, shape: tunables.shape)
    }

    /// `recurrentSequence` in a given kernel shape (tests force each one; see ``OpenCLTunables``).
    ///
    /// Launches, D directions and T steps: `rec_pack` once per direction; the input projection
    /// `[T*B, I] x [I, G*H]` as one GEMM for all directions (CPU shape) or one per direction (GPU
    /// shape); then per step one `rec_gates` for every direction, plus one `rec_finish` for Cho's
    /// GRU and an LSTM with a projection. Nothing moves between host and device but the lengths,
    /// uploaded once, and nothing waits for the queue.
    func recurrentSequence(
        _ descriptor: RecurrentSequenceDescriptor, input: any DeviceBuffer, weights: [RecurrentWeightBuffers],
        initialHidden: (any DeviceBuffer)?, initialCell: (any DeviceBuffer)?, lengths: [Int32]?,
        output: any DeviceBuffer, finalHidden: any DeviceBuffer, finalCell: (any DeviceBuffer)?,
        shape: OpenCLTunables.Shape
    ) throws {
        let plan = RecurrentSequenceKernelPlan(descriptor, tunables: tunables, shape: shape)
        try plan.checkAddressable()
        let program = try program(.recurrentSequence, extraOptions: plan.buildOptions)
        let sources = weights.flatMap { w in
            [w.input, w.hidden] + [w.projection, w.inputBias, w.hiddenBias, w.peephole].compactMap { $0 }
        }
        let packed = try packedRecurrentWeights.prepared(
            for: sources, variant: "\(shape) \(plan.buildOptions) I\(descriptor.inputSize) H\(descriptor.hiddenSize)",
            bytes: 4 * plan.packedFloats
        ) {
            try packWeights(weights, plan: plan, program: program)
        }
        let projected = try projectInputs(input, weights: weights, packed: packed, plan: plan)
        let lengthBuffer = try lengths.map { lengths in
            // Raw int32s in a float-sized buffer, as gather's indices; the kernels read them as int.
            let buffer = try allocate(count: lengths.count)
            try lengths.withUnsafeBufferPointer { values in
                try values.withMemoryRebound(to: Float.self) { try upload($0, to: buffer) }
            }
            return buffer
        }
        try runSteps(
            plan, program: program, projected: projected, packed: packed,
            state: RecurrentStepBuffers(
                initialHidden: initialHidden, initialCell: initialCell, lengths: lengthBuffer, output: output,
                finalHidden: finalHidden, finalCell: finalCell))
    }

    /// One launch of `rec_pack` per direction: the recurrent weight (and projection) into tile
    /// panels, the input weight into gemm.cl's panels (CPU shape), and the biases and peepholes
    /// into `params`. Kept across calls in ``OpenCLBackend/packedRecurrentWeights`` (buffers never
    /// change once written, so the buffers' identities name the weights).
    private func packWeights(
        _ weights: [RecurrentWeightBuffers], plan: RecurrentSequenceKernelPlan, program: OpenCLProgram
    ) throws -> RecurrentPackedWeights {
        let d = plan.descriptor
        let hidden = try allocate(count: d.directions * plan.packedHiddenPerDirection)
        let parameters = try allocate(count: d.directions * plan.parametersPerDirection)
        let input = plan.gemmPanel > 0 ? try allocate(count: d.directions * plan.packedInputPerDirection) : nil
        let projection = d.projectionSize > 0
            ? try allocate(count: d.directions * plan.packedProjectionPerDirection) : nil
        for (direction, w) in weights.enumerated() {
            // Absent sources and destinations are never touched: their jobs are skipped.
            try launch(
                program, "rec_pack", global: plan.packGlobal, local: [1, 1, 1],
                [
                    .buffer(w.input), .buffer(w.hidden), .buffer(w.projection ?? w.hidden),
                    .buffer(w.inputBias ?? w.hidden), .buffer(w.hiddenBias ?? w.hidden),
                    .buffer(w.peephole ?? w.hidden),
                    .int(d.inputSize), .int(d.hiddenSize), .int(d.stateSize), .int(d.projectionSize),
                    .int(d.hasBias ? 1 : 0), .int(plan.gemmPanel), .int(plan.units),
                    .buffer(input ?? hidden), .int(direction * plan.packedInputPerDirection),
                    .buffer(hidden), .int(direction * plan.packedHiddenPerDirection),
                    .buffer(projection ?? hidden), .int(direction * plan.packedProjectionPerDirection),
                    .buffer(parameters), .int(direction * plan.parametersPerDirection),
                ])
        }
        return RecurrentPackedWeights(input: input, hidden: hidden, projection: projection, parameters: parameters)
    }

    /// `gx [T*B, ldgx]` = `x [T*B, I]` times every direction's `W_ih^T`, biases left to the steps.
    private func projectInputs(
        _ input: any DeviceBuffer, weights: [RecurrentWeightBuffers], packed: RecurrentPackedWeights,
        plan: RecurrentSequenceKernelPlan
    ) throws -> any DeviceBuffer {
        let d = plan.descriptor
        let rows = d.steps * d.batch
        let projected = try allocate(count: plan.projectedCount)
        if let packedInput = packed.input {
            // The directions' packed weights sit side by side, whole panels each: one gemm_cpu
            // over N = D * projectedColumns (the zero columns of a partial panel cost little).
            let m = tunables.gemmCPURows
            try launch(
                program(.gemm), "gemm_cpu",
                global: [(rows + m - 1) / m, plan.projectedStride / plan.gemmPanel, 1], local: [1, 1, 1],
                [
                    .buffer(input), .int(0), .int(0), .int(d.inputSize), .int(1),
                    .buffer(packedInput), .int(0),
                    .buffer(projected), .int(0), .int(0), .int(plan.projectedStride),
                    .int(rows), .int(plan.projectedStride), .int(d.inputSize), .float(1), .float(0),
                ])
        } else {
            for (direction, w) in weights.enumerated() {
                var gemm = GEMMDescriptor(
                    batch: 1, m: rows, n: d.gateCount * d.hiddenSize, k: d.inputSize, transposeB: true)
                gemm.ldc = plan.projectedStride
                gemm.offsetC = direction * plan.projectedColumns
                try self.gemm(gemm, a: input, b: w.input, c: projected, shape: plan.shape)
            }
        }
        return projected
    }
}

/// The weights of every direction as the kernels read them (layouts in `recurrent_sequence.cl`).
/// A Sendable class, so that it can be kept across calls in a ``PreparedWeightCache``.
final class RecurrentPackedWeights: Sendable {
    /// gemm.cl panels of `W_ih^T`, CPU shape only.
    let input: (any DeviceBuffer)?
    let hidden: any DeviceBuffer
    let projection: (any DeviceBuffer)?
    let parameters: any DeviceBuffer

    init(input: (any DeviceBuffer)?, hidden: any DeviceBuffer, projection: (any DeviceBuffer)?, parameters: any DeviceBuffer) {
        self.input = input
        self.hidden = hidden
        self.projection = projection
        self.parameters = parameters
    }
}

/// The caller's state and output buffers, and the uploaded lengths.
struct RecurrentStepBuffers {
    var initialHidden: (any DeviceBuffer)?
    var initialCell: (any DeviceBuffer)?
    var lengths: (any DeviceBuffer)?
    var output: any DeviceBuffer
    var finalHidden: any DeviceBuffer
    var finalCell: (any DeviceBuffer)?
}
