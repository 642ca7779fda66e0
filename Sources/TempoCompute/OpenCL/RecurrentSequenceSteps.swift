import COpenCL

extension OpenCLBackend {
    /// The T steps of a call: `rec_gates` (then `rec_finish` for the two-launch variants) once per
    /// step, every direction in each launch.
    func runSteps(
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

