import TempoTestSupport
import Testing

@testable import Tempo

@Suite("TCN streaming")
struct TCNStreamingTests {
    /// Column `t` of `[B, C, L]` as one sample `[B, C]`.
    static func sample(_ x: Tensor, at t: Int) throws -> Tensor {
        try x.slice(axis: 2, range: t..<t + 1).reshaped([x.shape[0], x.shape[1]])
    }

    /// Steps every sample of `x` `[B, Cin, L]` through `step`, returning the outputs as `[B, Cout, L]` values.
    static func streamed(_ x: Tensor, outputChannels: Int, step: (Tensor) throws -> Tensor) throws -> [Float] {
        let (batch, length) = (x.shape[0], x.shape[2])
        var out = [Float](repeating: .nan, count: batch * outputChannels * length)
        for t in 0..<length {
            let y = try step(sample(x, at: t))
            #expect(y.shape == [batch, outputChannels])
            let values = try y.values
            for b in 0..<batch {
                for o in 0..<outputChannels {
                    out[(b * outputChannels + o) * length + t] = values[b * outputChannels + o]
                }
            }
        }
        return out
    }

    @Test("step by step equals the whole sequence, past the receptive field (rings wrap)", arguments: allDevices)
    func equalsSequence(device: Device) throws {
        for (index, (inputChannels, channels, kernelSize)) in TCNTests.configurations.enumerated() {
            let tcn = try TCNTests.network(
                inputChannels: inputChannels, channels: channels, kernelSize: kernelSize, seed: UInt64(index + 11),
                device: device)
            let length = tcn.receptiveField + 5
            let x = try Tensor.normal([2, inputChannels, length], seed: UInt64(index + 21), device: device)
            let state = try tcn.makeStreamingState(batch: 2)
            let outputChannels = channels.last ?? 0
            let streamed = try Self.streamed(x, outputChannels: outputChannels) { try tcn.step($0, state: state) }
            let what = "Cin \(inputChannels) channels \(channels) K \(kernelSize) on \(device.id)"
            #expect(state.steps == length, "\(what)")
            let whole = try tcn(x).values
            #expect(whole.filter { $0 > 0 }.count > whole.count / 5, "\(what): too few live outputs")
            expectClose(streamed, whole, TCNTests.tolerance, what)

            // After reset the state is that of new sequences again.
            try state.reset()
            #expect(state.steps == 0)
            let again = try Self.streamed(x, outputChannels: outputChannels) { try tcn.step($0, state: state) }
            expectClose(again, whole, TCNTests.tolerance, "\(what) after reset")
        }
    }

    @Test("a block steps like its sequence, with and without a downsample", arguments: allDevices)
    func blockEqualsSequence(device: Device) throws {
        for (inputChannels, outputChannels) in [(3, 5), (4, 4)] {
            let block = try Random.withSeed(31) {
                try TemporalBlock(
                    inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 2, dilation: 4, device: device)
            }
            try block.load(stateDict: randomParameters(for: block, seed: 32))
            block.eval()
            let x = try Tensor.normal([3, inputChannels, 13], seed: 33, device: device)
            let state = try block.makeStreamingState(batch: 3)
            let streamed = try Self.streamed(x, outputChannels: outputChannels) { try block.step($0, state: state) }
            expectClose(streamed, try block(x).values, TCNTests.tolerance, "block \(inputChannels) -> \(outputChannels) on \(device.id)")
        }
    }

    @Test("in training mode without dropout a step still equals the sequence; with dropout it draws masks")
    func trainingMode() throws {
        let quiet = try Random.withSeed(41) { try TCN(inputChannels: 3, channels: [4, 4], kernelSize: 3, dropout: 0) }
        quiet.train()
        let x = try Tensor.normal([1, 3, 9], seed: 42)
        let state = try quiet.makeStreamingState(batch: 1)
        let streamed = try Self.streamed(x, outputChannels: 4) { try quiet.step($0, state: state) }
        expectClose(streamed, try quiet(x).values, TCNTests.tolerance, "dropout 0 in training mode")

        let noisy = try Random.withSeed(43) { try TCN(inputChannels: 3, channels: [64], kernelSize: 2, dropout: 0.5) }
        noisy.train()
        let noisyState = try noisy.makeStreamingState(batch: 1)
        let trained = try noisy.step(try Tensor.normal([1, 3], seed: 44), state: noisyState)
        try noisyState.reset()
        noisy.eval()
        let evaluated = try noisy.step(try Tensor.normal([1, 3], seed: 44), state: noisyState)
        #expect(try trained.values != evaluated.values, "dropout 0.5 over 64 channels changed nothing")
    }

    @Test("the next step uses new parameters (a load), and another network's own when it steps the state", arguments: allDevices)
    func parametersChangeBetweenSteps(device: Device) throws {
        let a = try TCNTests.network(inputChannels: 3, channels: [8, 8], kernelSize: 3, seed: 51, device: device)
        let b = try TCNTests.network(inputChannels: 3, channels: [8, 8], kernelSize: 3, seed: 52, device: device)
        let x = try Tensor.normal([2, 3, 9], seed: 53, device: device)
        let (wholeA, wholeB) = (try a(x).values, try b(x).values)
        let state = try a.makeStreamingState(batch: 2)
        let fromA = try Self.streamed(x, outputChannels: 8) { try a.step($0, state: state) }
        expectClose(fromA, wholeA, TCNTests.tolerance, "a on \(device.id)")
        try state.reset()
        let fromB = try Self.streamed(x, outputChannels: 8) { try b.step($0, state: state) }
        expectClose(fromB, wholeB, TCNTests.tolerance, "b stepping a's state on \(device.id)")
        #expect(fromA != fromB, "the two networks' outputs should differ")

        // Loaded mid-stream: the step right after the load uses the new weights.
        try state.reset()
        _ = try a.step(try Self.sample(x, at: 0), state: state)
        try a.load(stateDict: Dictionary(uniqueKeysWithValues: b.stateDict().map { ($0.key, $0.tensor) }))
        try state.reset()
        let loaded = try Self.streamed(x, outputChannels: 8) { try a.step($0, state: state) }
        expectClose(loaded, wholeB, TCNTests.tolerance, "a after loading b's parameters on \(device.id)")
        // The same for one block stepped alone.
        let blockState = try a.blocks[0].makeStreamingState(batch: 2)
        _ = try a.blocks[0].step(try Self.sample(x, at: 0), state: blockState)
        try a.blocks[0].load(stateDict: randomParameters(for: a.blocks[0], seed: 54))
        try blockState.reset()
        let block = try Self.streamed(x, outputChannels: 8) { try a.blocks[0].step($0, state: blockState) }
        expectClose(block, try a.blocks[0](x).values, TCNTests.tolerance, "block after a load on \(device.id)")
    }

    @Test("bad samples and foreign states throw, naming the argument")
    func badInput() throws {
        let tcn = try TCN(inputChannels: 3, channels: [4, 5], kernelSize: 2)
        let other = try TCN(inputChannels: 3, channels: [4], kernelSize: 2)
        let state = try tcn.makeStreamingState(batch: 2)
        for x in [try Tensor.zeros([2, 4]), try Tensor.zeros([3, 3]), try Tensor.zeros([2, 3, 1])] {
            #expect(throws: TempoError.self) { try tcn.step(x, state: state) }
            do {
                _ = try tcn.step(x, state: state)
            } catch let error as TempoError {
                #expect("\(error)".contains("x"), "\(error)")
                #expect("\(error)".contains("[2, 3]"), "\(error) does not give the expected shape")
            }
        }
        #expect(state.steps == 0, "a rejected sample advanced the state")
        let foreign = try other.makeStreamingState(batch: 2)
        do {
            _ = try tcn.step(try Tensor.zeros([2, 3]), state: foreign)
            Issue.record("a state of another network was accepted")
        } catch let error as TempoError {
            #expect("\(error)".contains("state"), "\(error)")
        }
        // A block's state made for other channels.
        do {
            _ = try tcn.blocks[1].step(try Tensor.zeros([2, 4]), state: try tcn.blocks[0].makeStreamingState(batch: 2))
            Issue.record("a block accepted another block's state")
        } catch let error as TempoError {
            #expect("\(error)".contains("state"), "\(error)")
        }
        #expect(throws: TempoError.self) { try tcn.makeStreamingState(batch: 0) }
    }
}
