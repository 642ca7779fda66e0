import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("Causal convolution step")
struct CausalConv1dStepTests {
    private func expectSteps(
        _ actual: [[Float]], _ expected: [[Float]], _ tolerance: Tolerance, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(actual.count == expected.count, "\(what): steps", sourceLocation: sourceLocation)
        for (t, (a, e)) in zip(actual, expected).enumerated() {
            expectClose(a, e, tolerance, "\(what) step \(t)", sourceLocation: sourceLocation)
        }
    }

    @Test("OpenCL is present when required")
    func availability() {
        checkOpenCLRequirement()
    }

    /// Every step of a sequence that wraps the ring twice (2S + 2 samples), so the first S steps
    /// check a history that never wrapped and the rest one that did.
    @Test(
        "K 1, 2, 3, 5 x d 1, 2, 4 x groups 1, C x B 1, 3 x C 1, 3, 17 match the sequence op on every device",
        arguments: [1, 2, 3, 5])
    func matchesSequence(kernelSize: Int) throws {
        var index = 0
        for dilation in [1, 2, 4] {
            for channels in [1, 3, 17] {
                for groups in Set([1, channels]).sorted() {
                    for batch in [1, 3] {
                        index += 1
                        let c = CausalConvStepCase(
                            batch: batch, inputChannels: channels, outputChannels: groups == 1 ? channels + 1 : channels,
                            length: 2 * (kernelSize - 1) * dilation + 4, kernelSize: kernelSize, dilation: dilation,
                            groups: groups, bias: index % 3 != 0, epilogue: .variety(index))
                        let expected = c.expected()
                        for device in TestDevices.all {
                            expectSteps(try c.run(on: device), expected, c.tolerance, "\(c) on \(device.id)")
                        }
                    }
                }
            }
        }
    }

    @Test("the steps equal the device's own whole-sequence causalConv1d column by column")
    func equalsSequenceOp() throws {
        let c = CausalConvStepCase(
            batch: 2, inputChannels: 5, outputChannels: 7, length: 12, kernelSize: 3, dilation: 2, epilogue: EpilogueReference())
        for device in TestDevices.all {
            let (weight, bias) = try c.conv.parameters(on: device)
            let sequence = try Tensor(shape: [c.batch, c.inputChannels, c.length], values: c.x, device: device)
                .causalConv1d(weight: weight, bias: bias, dilation: c.dilation).values
            let columns = (0..<c.length).map { t in (0..<c.batch * c.outputChannels).map { sequence[$0 * c.length + t] } }
            expectSteps(try c.run(on: device), columns, Tolerance(absolute: 1e-6, relative: 1e-5), "\(c) on \(device.id)")
        }
    }

    /// All but the first are over 64 KFLOP a step, where the CPU shares a step's items with a
    /// ready worker (panels and row blocks; (row, 16 outputs) items for groups). Cin 300 crosses
    /// the 256 channels a paired step forms its inputs in at a time.
    @Test("panels and row blocks: Cout 70, 130, 200 (partial 64-output panels), B 1 to 32, Cin to 300, threaded steps")
    func widerShapes() throws {
        for (batch, input, output, groups) in [
            (7, 33, 70, 1), (16, 40, 130, 1), (1, 128, 128, 1), (32, 128, 200, 1), (3, 300, 70, 1), (32, 256, 256, 2),
        ] {
            let c = CausalConvStepCase(
                batch: batch, inputChannels: input, outputChannels: output, length: groups == 1 ? 6 : 3, kernelSize: 3,
                dilation: 2, groups: groups, epilogue: .tcnBlock)
            let expected = c.expected()
            for device in TestDevices.all {
                expectSteps(try c.run(on: device), expected, c.tolerance, "\(c) on \(device.id)")
            }
        }
    }

    /// Steps share items with the team's workers without waiting for them, and whole sequences
    /// run the team in lockstep: streams stepping on several tasks at once, beside tasks running
    /// recurrent sequences, mix both kinds of job, and each stream's steps must stay its own.
    @Test("steps on several tasks at once, beside recurrent sequences, are each right")
    func concurrentSteps() async throws {
        let streams = (0..<4).map { index in
            CausalConvStepCase(
                batch: 16, inputChannels: 64, outputChannels: 64 + 7 * index, length: 9, kernelSize: 3,
                dilation: 1 + index, epilogue: .tcnBlock)
        }
        let sequences = (0..<2).map { index in
            RecurrentCase(cell: .lstm(), steps: 6, batch: 9, inputSize: 16, hiddenSize: 48, seed: UInt64(index + 1))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in streams {
                group.addTask {
                    let expected = c.expected()
                    for _ in 0..<4 { expectSteps(try c.run(on: .cpu), expected, c.tolerance, "\(c)") }
                }
            }
            for c in sequences {
                group.addTask {
                    let expected = c.reference().output
                    for _ in 0..<4 { expectClose(try c.run(on: .cpu).0.values, expected, recurrentTolerance, "\(c)") }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("each OpenCL kernel shape, grouped and not", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func openCLShapes(device: Device, shape: OpenCLTunables.Shape) throws {
        for (groups, output) in [(1, 70), (2, 6), (6, 6)] {
            for (index, kernelSize) in [1, 3, 5].enumerated() {
                let c = CausalConvStepCase(
                    batch: 3, inputChannels: 6, outputChannels: output, length: 2 * (kernelSize - 1) * 3 + 4,
                    kernelSize: kernelSize, dilation: 3, groups: groups, epilogue: .variety(index + groups))
                expectSteps(try c.run(on: device, shape: shape), c.expected(), c.tolerance, "\(c) \(shape) on \(device.id)")
            }
        }
    }

    @Test("CPU and OpenCL agree step by step at B 16, C 64, K 3, d 4")
    func parity() throws {
        let c = CausalConvStepCase(
            batch: 16, inputChannels: 64, outputChannels: 64, length: 12, kernelSize: 3, dilation: 4, epilogue: .tcnBlock)
        let cpu = try c.run(on: .cpu)
        for device in TestDevices.openCL {
            expectSteps(try c.run(on: device), cpu, Tolerance(absolute: 1e-5, relative: 1e-5), "\(c) on \(device.id) vs cpu")
        }
    }

    @Test("reset() returns to zeros and step 0")
    func reset() throws {
        let c = CausalConvStepCase(
            batch: 2, inputChannels: 3, outputChannels: 4, length: 7, kernelSize: 3, dilation: 2,
            epilogue: EpilogueReference(activation: .tanh))
        let expected = c.expected()
        for device in TestDevices.all {
            let history = try c.makeHistory(on: device)
            _ = try c.run(on: device, history: history)
            #expect(history.steps == c.length)
            try history.reset()
            #expect(history.steps == 0)
            expectSteps(try c.run(on: device, history: history), expected, c.tolerance, "\(c) after reset on \(device.id)")
        }
    }

    @Test("a warm step is one launch and moves no bytes", arguments: TestDevices.all)
    func launches(device: Device) throws {
        for (groups, kernelSize) in [(1, 3), (4, 3), (1, 1)] {
            let c = CausalConvStepCase(
                batch: 4, inputChannels: 8, outputChannels: 8, length: 1, kernelSize: kernelSize, dilation: 2,
                groups: groups, epilogue: .tcnBlock)
            let (weight, bias) = try c.conv.parameters(on: device)
            let history = try c.makeHistory(on: device)
            let x = try Tensor.normal([4, 8], seed: 1, device: device)
            let residual = try Tensor.normal([4, 8], seed: 2, device: device)
            func step() throws -> Tensor {
                try x.causalConv1dStep(
                    weight: weight, bias: bias, dilation: 2, groups: groups, history: history, activation: .relu,
                    residual: residual, outputActivation: .relu)
            }
            _ = try step()  // builds the program and packs the weight
            let (_, counters) = try device.counting {
                for _ in 0..<5 { _ = try step() }
                try device.synchronize()
            }
            #expect(counters.launches == 5, "g\(groups) K\(kernelSize) on \(device.id): \(counters)")
            #expect(counters.bytesToDevice == 0 && counters.bytesToHost == 0, "g\(groups) K\(kernelSize) on \(device.id): \(counters)")
            #expect(history.steps == 6)
        }
    }

    @Test(
        "a history stepped with two weights in turn gives each step its own weight's sum (paired steps on the CPU)",
        arguments: TestDevices.all)
    func weightsInTurn(device: Device) throws {
        let (batch, channels, outputs, dilation, length) = (3, 5, 7, 2, 23)
        let weights = try [31, 32].map { seed in
            try Tensor.normal([outputs, channels, 3], seed: UInt64(seed), device: device)
        }
        let samples = try (0..<length).map { t in try Tensor.normal([batch, channels], seed: UInt64(40 + t), device: device) }
        let values = try samples.map { try $0.values }
        let weightValues = try weights.map { try $0.values }
        // Runs of 3 steps per weight, so that pairs d = 2 apart straddle every switch; a reset at 17.
        let history = try CausalConv1dHistory(device: device, batch: batch, channels: channels, kernelSize: 3, dilation: dilation)
        var start = 0
        for t in 0..<length {
            if t == 17 {
                try history.reset()
                start = 17
            }
            let which = (t / 3) % 2
            let y = try samples[t].causalConv1dStep(weight: weights[which], dilation: dilation, history: history).values
            var expected = [Float](repeating: 0, count: batch * outputs)
            for b in 0..<batch {
                for o in 0..<outputs {
                    var sum = 0.0
                    for k in 0..<3 {
                        let source = t - (2 - k) * dilation
                        guard source >= start else { continue }
                        for c in 0..<channels {
                            sum += Double(weightValues[which][(o * channels + c) * 3 + k]) * Double(values[source][b * channels + c])
                        }
                    }
                    expected[b * outputs + o] = Float(sum)
                }
            }
            expectClose(y, expected, Tolerance(absolute: 1e-5, relative: 1e-4), "step \(t) with weight \(which) on \(device.id)")
        }
    }

    @Test("bad input throws naming the argument, and leaves the history where it was")
    func badInput() throws {
        let weight = try Tensor.zeros([4, 6, 3])
        let history = try CausalConv1dHistory(batch: 2, weight: weight, dilation: 2)
        let x = try Tensor.zeros([2, 6])
        expectTempoError(containing: ["input", "[B, Cin]"]) {
            _ = try Tensor.zeros([2, 6, 1]).causalConv1dStep(weight: weight, dilation: 2, history: history)
        }
        expectTempoError(containing: ["history", "d = 1", "d = 2"]) {
            _ = try x.causalConv1dStep(weight: weight, dilation: 1, history: history)
        }
        expectTempoError(containing: ["history", "B = 3", "B = 2"]) {
            _ = try Tensor.zeros([3, 6]).causalConv1dStep(weight: weight, dilation: 2, history: history)
        }
        expectTempoError(containing: ["history", "K = 2", "K = 3"]) {
            _ = try x.causalConv1dStep(weight: try Tensor.zeros([4, 6, 2]), dilation: 2, history: history)
        }
        expectTempoError(containing: ["weight", "Cin/groups = 6"]) {
            _ = try x.causalConv1dStep(weight: try Tensor.zeros([4, 5, 3]), dilation: 2, history: history)
        }
        expectTempoError(containing: ["residual", "[2, 4]"]) {
            _ = try x.causalConv1dStep(weight: weight, dilation: 2, history: history, residual: try Tensor.zeros([2, 5]))
        }
        expectTempoError(containing: ["bias", "[4]"]) {
            _ = try x.causalConv1dStep(weight: weight, bias: try Tensor.zeros([3]), dilation: 2, history: history)
        }
        expectTempoError(containing: ["groups"]) {
            _ = try x.causalConv1dStep(weight: weight, dilation: 2, groups: 4, history: history)
        }
        #expect(history.steps == 0)
        expectTempoError(containing: ["batch", "at least 1"]) {
            _ = try CausalConv1dHistory(device: .cpu, batch: 0, channels: 6, kernelSize: 3, dilation: 1)
        }
        expectTempoError(containing: ["dilation"]) {
            _ = try CausalConv1dHistory(device: .cpu, batch: 1, channels: 6, kernelSize: 3, dilation: Int(Int32.max))
        }
        expectTempoError(containing: ["weight"]) { _ = try CausalConv1dHistory(batch: 1, weight: x, dilation: 1) }
        if let device = TestDevices.openCL.first {
            let there = try CausalConv1dHistory(device: device, batch: 2, channels: 6, kernelSize: 3, dilation: 2)
            expectTempoError(containing: ["history", device.id, "cpu"]) {
                _ = try x.causalConv1dStep(weight: weight, dilation: 2, history: there)
            }
        }
    }
}
