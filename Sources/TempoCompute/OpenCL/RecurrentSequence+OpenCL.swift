import COpenCL
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
        let packed = try packWeights(weights, plan: plan, program: program)
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
    /// into `params`. Weights are packed per call: the op cannot know when they change.
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

    /// T step launches (2T with `rec_finish`), every direction in each.
    private func runSteps(
        _ plan: RecurrentSequenceKernelPlan, program: OpenCLProgram, projected: any DeviceBuffer,
        packed: RecurrentPackedWeights, state: RecurrentStepBuffers
    ) throws {
        let d = plan.descriptor
        let suffix = plan.shape == .cpu ? "_cpu" : "_gpu"
        // h ping-pongs between finalHidden and a spare (the kernels pick the pair from the step);
        // c is updated in place in finalCell.
        let spare = d.steps > 1 ? try allocate(count: d.directions * d.batch * d.stateSize) : state.finalHidden
        let scratch = plan.finishesInSecondLaunch ? try allocate(count: d.directions * d.batch * d.hiddenSize) : nil
        let zScratch = d.cell == .gru(.resetBeforeMatmul)
            ? try allocate(count: d.directions * d.batch * d.hiddenSize) : nil
        // Pointer arguments a variant never touches get any valid buffer.
        let unused = projected

        // Every argument but the first, `step`.
        let arguments: [KernelArgument] = [
            .buffer(projected), .int(plan.projectedStride), .int(plan.projectedColumns),
            .buffer(packed.hidden), .int(plan.packedHiddenPerDirection),
            .buffer(packed.parameters), .int(plan.parametersPerDirection), .int(plan.paddedHidden),
            .buffer(state.initialHidden ?? unused), .int(state.initialHidden == nil ? 0 : 1),
            .buffer(state.finalHidden), .buffer(spare),
            .buffer(state.initialCell ?? unused), .buffer(state.finalCell ?? unused),
            .buffer(state.output), .int(d.directions * d.stateSize),
            .buffer(scratch ?? unused), .buffer(zScratch ?? unused),
            .buffer(state.lengths ?? unused), .int(state.lengths == nil ? 0 : 1),
            .int(d.steps), .int(d.batch), .int(d.hiddenSize), .int(d.stateSize),
        ]
        let gates = plan.stepGeometry(outputs: d.hiddenSize)
        var kernels = [StepKernel(name: "rec_gates" + suffix, global: gates.global, local: gates.local, arguments: arguments)]
        if plan.finishesInSecondLaunch {
            var finishArguments = arguments
            if let projection = packed.projection {
                finishArguments[3] = .buffer(projection)
                finishArguments[4] = .int(plan.packedProjectionPerDirection)
                finishArguments += [.int(0), .int(plan.units)]
            } else {
                // Cho's GRU: gate n of the packed W_hh, whose rows hold r, z, n.
                finishArguments += [.int(2 * plan.units), .int(d.gateCount * plan.units)]
            }
            let finish = plan.stepGeometry(outputs: d.stateSize)
            kernels.append(
                StepKernel(name: "rec_finish" + suffix, global: finish.global, local: finish.local, arguments: finishArguments))
        }
        try enqueueSteps(kernels, steps: d.steps, program: program)
    }

    /// Enqueues `kernels` in turn for each step. Each kernel object is borrowed once for the whole
    /// sequence and its arguments set once, so a step costs the host one `clSetKernelArg` and one
    /// enqueue per kernel: at a small batch a step's work is a few microseconds, and going through
    /// ``launch(_:_:global:local:_:)`` every time (every argument set again) cost about as much.
    private func enqueueSteps(_ kernels: [StepKernel], steps: Int, program: OpenCLProgram) throws {
        func borrow(_ index: Int, _ handles: [cl_kernel]) throws {
            guard index < kernels.count else {
                try enqueue(handles)
                return
            }
            try program.withKernel(kernels[index].name) { kernel in
                for (position, argument) in kernels[index].arguments.enumerated() {
                    try argument.set(on: kernel, index: position + 1, kernelName: kernels[index].name)
                }
                try borrow(index + 1, handles + [kernel])
            }
        }
        func enqueue(_ handles: [cl_kernel]) throws {
            for step in 0..<steps {
                for (kernel, handle) in zip(kernels, handles) {
                    try KernelArgument.int(step).set(on: handle, index: 0, kernelName: kernel.name)
                    var global = kernel.global
                    var local = kernel.local
                    try checkCL(
                        clEnqueueNDRangeKernel(queue, handle, cl_uint(global.count), nil, &global, &local, 0, nil, nil),
                        "clEnqueueNDRangeKernel(\(program.name).\(kernel.name))")
                    counters.recordLaunches()
                }
            }
        }
        try borrow(0, [])
    }
}

/// One per-step kernel: its name, its grid (global a multiple of local) and every argument after `step`.
private struct StepKernel {
    var name: String
    var global: [Int]
    var local: [Int]
    var arguments: [KernelArgument]
}

/// The weights of every direction as the kernels read them (layouts in `recurrent_sequence.cl`).
private struct RecurrentPackedWeights {
    /// gemm.cl panels of `W_ih^T`, CPU shape only.
    var input: (any DeviceBuffer)?
    var hidden: any DeviceBuffer
    var projection: (any DeviceBuffer)?
    var parameters: any DeviceBuffer
}

/// The caller's state and output buffers, and the uploaded lengths.
private struct RecurrentStepBuffers {
    var initialHidden: (any DeviceBuffer)?
    var initialCell: (any DeviceBuffer)?
    var lengths: (any DeviceBuffer)?
    var output: any DeviceBuffer
    var finalHidden: any DeviceBuffer
    var finalCell: (any DeviceBuffer)?
}
