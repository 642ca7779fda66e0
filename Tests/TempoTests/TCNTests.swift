import TempoTestSupport
import Testing

@testable import Tempo

@Suite("TCN")
struct TCNTests {
    /// A few float32 convolutions deep, against Double: O(1) values agree to ~1e-6.
    static let tolerance = Tolerance(absolute: 2e-5, relative: 1e-4)

    /// A TCN in eval mode with random parameters (g away from ||v||), on `device`.
    static func network(
        inputChannels: Int, channels: [Int], kernelSize: Int, seed: UInt64, device: Device = .cpu
    ) throws -> TCN {
        let tcn = try Random.withSeed(seed) {
            try TCN(inputChannels: inputChannels, channels: channels, kernelSize: kernelSize, device: device)
        }
        try tcn.load(stateDict: randomParameters(for: tcn, seed: seed))
        tcn.eval()
        return tcn
    }

    /// (Cin, channels, K): channel counts 1, 3 and 17, blocks with and without downsample, K 2/3.
    static let configurations: [(Int, [Int], Int)] = [(1, [3, 17], 2), (3, [3, 3], 3), (17, [1, 3, 17], 3)]

    @Test("matches a Double reference composed from conv1d and weight norm, for L = 1, L < and > receptive field", arguments: allDevices)
    func matchesReference(device: Device) throws {
        for (index, (inputChannels, channels, kernelSize)) in Self.configurations.enumerated() {
            let tcn = try Self.network(
                inputChannels: inputChannels, channels: channels, kernelSize: kernelSize, seed: UInt64(index + 1),
                device: device)
            for length in [1, tcn.receptiveField / 2, tcn.receptiveField + 6] {
                let x = try Tensor.normal([2, inputChannels, length], seed: UInt64(length), device: device)
                let y = try tcn(x)
                let what = "Cin \(inputChannels) channels \(channels) K \(kernelSize) L \(length) on \(device.id)"
                #expect(y.shape == [2, channels.last ?? 0, length], "\(what)")
                #expect(y.device == device, "\(what)")
                let expected = try referenceTCN(tcn, x: try x.values, batch: 2, length: length)
                // ReLU outputs: a network whose outputs are all 0 would test nothing.
                #expect(expected.filter { $0 > 0 }.count > expected.count / 5, "\(what): too few live outputs")
                expectClose(try y.values, expected, Self.tolerance, what)
            }
        }
    }

    @Test("a block with a downsample (Cin != Cout) and one without match the reference", arguments: allDevices)
    func blocks(device: Device) throws {
        for (inputChannels, outputChannels) in [(3, 5), (4, 4)] {
            let block = try Random.withSeed(7) {
                try TemporalBlock(
                    inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, dilation: 2, device: device)
            }
            #expect(block.receptiveField == 9)   // 2 convolutions of K 3 at d 2: 1 + 2*2*2
            #expect((block.downsample != nil) == (inputChannels != outputChannels))
            #expect(block.downsample?.weight.shape == (inputChannels != outputChannels ? [outputChannels, inputChannels, 1] : nil))
            try block.load(stateDict: randomParameters(for: block, seed: 8))
            block.eval()
            let x = try Tensor.normal([3, inputChannels, 11], seed: 9, device: device)
            let what = "block \(inputChannels) -> \(outputChannels) on \(device.id)"
            expectClose(
                try block(x).values, try referenceTemporalBlock(block, x: try x.values, batch: 3, length: 11),
                Self.tolerance, what)
        }
    }

    @Test("receptive field is 1 + 2(K-1)(2^n - 1), and the output depends on exactly that window")
    func receptiveField() throws {
        // Written out by hand: K 2, 1 block: 1 + 2 = 3; K 3, 4 blocks: 1 + 2*2*15 = 61; K 7, 2 blocks: 1 + 12*3 = 37.
        for (kernelSize, blocks, expected) in [(2, 1, 3), (3, 4, 61), (7, 2, 37), (2, 8, 511)] {
            let tcn = try TCN(inputChannels: 2, channels: Array(repeating: 2, count: blocks), kernelSize: kernelSize)
            #expect(tcn.receptiveField == expected, "K \(kernelSize), \(blocks) blocks")
        }
        // Changing only x[0] reaches the output at t = RF - 1 and not at t = RF.
        let tcn = try Self.network(inputChannels: 4, channels: [8, 8, 8], kernelSize: 3, seed: 3)
        let field = tcn.receptiveField   // 1 + 2*2*7 = 29
        var values = try Tensor.normal([1, 4, field + 1], seed: 4).values
        let before = try tcn(Tensor(shape: [1, 4, field + 1], values: values)).values
        for c in 0..<4 { values[c * (field + 1)] += 5 }
        let after = try tcn(Tensor(shape: [1, 4, field + 1], values: values)).values
        let changedAt = { (t: Int) in (0..<8).contains { before[$0 * (field + 1) + t] != after[$0 * (field + 1) + t] } }
        #expect(changedAt(field - 1), "the oldest step in the window must matter")
        #expect(!changedAt(field), "a step outside the window must not matter")
    }

    @Test("causal: changing the input from step t on changes no output before t", arguments: allDevices)
    func causality(device: Device) throws {
        let tcn = try Self.network(inputChannels: 3, channels: [5, 5, 2], kernelSize: 3, seed: 5, device: device)
        let length = 40
        let x = try Tensor.normal([2, 3, length], seed: 6).values
        let y = try tcn(Tensor(shape: [2, 3, length], values: x, device: device)).values
        for t in [0, 1, 17, 39] {
            var changed = x
            for row in 0..<6 { for s in t..<length { changed[row * length + s] += 3 } }
            let z = try tcn(Tensor(shape: [2, 3, length], values: changed, device: device)).values
            for row in 0..<4 {
                #expect(bits(Array(z[row * length..<row * length + t])) == bits(Array(y[row * length..<row * length + t])),
                        "output row \(row) before \(t) on \(device.id)")
            }
            #expect(z != y, "changing steps \(t)... must change some output on \(device.id)")
        }
    }

    @Test("eval is deterministic and is the identity dropout; train drops reproducibly from the seed")
    func evalAndTrain() throws {
        func make() throws -> TCN {
            let tcn = try Random.withSeed(11) { try TCN(inputChannels: 3, channels: [6, 6], kernelSize: 2, dropout: 0.5) }
            try tcn.load(stateDict: randomParameters(for: tcn, seed: 12))
            return tcn
        }
        let (tcn, twin) = (try make(), try make())
        let x = try Tensor.normal([2, 3, 16], seed: 13)
        #expect(tcn.isTraining && tcn.blocks[1].dropout2.isTraining)   // as PyTorch: training first
        let trained = try tcn(x).values
        #expect(try tcn(x).values != trained, "the second call draws another mask")
        #expect(try twin(x).values == trained, "the same seed drops the same elements")
        tcn.eval()
        let evaluated = try tcn(x).values
        #expect(evaluated != trained)
        #expect(try tcn(x).values == evaluated)
        expectClose(evaluated, try referenceTCN(tcn, x: try x.values, batch: 2, length: 16), Self.tolerance, "eval")
    }

    @Test("eval keeps the weight-normalised weights until a load replaces g or v", arguments: allDevices)
    func weightCache(device: Device) throws {
        let tcn = try Self.network(inputChannels: 3, channels: [4, 4], kernelSize: 3, seed: 14, device: device)
        let x = try Tensor.normal([1, 3, 9], seed: 15, device: device)
        let first = try device.counting { try tcn(x) }.counters.launches
        let (y, counters) = try device.counting { try tcn(x) }
        // Two weight norms per block are skipped the second time.
        #expect(counters.launches == first - 4, "launches \(counters.launches) after \(first) on \(device.id)")
        // New values must be used: the cache is keyed on the parameter tensors, not on the layer.
        try tcn.load(stateDict: randomParameters(for: tcn, seed: 16))
        let reloaded = try device.counting { try tcn(x) }
        #expect(reloaded.counters.launches == first)
        #expect(try reloaded.result.values != y.values)
        expectClose(
            try reloaded.result.values, try referenceTCN(tcn, x: try x.values, batch: 1, length: 9), Self.tolerance,
            "after reload on \(device.id)")
    }

    @Test("bad inputs and arguments throw naming them")
    func errors() throws {
        let tcn = try TCN(inputChannels: 3, channels: [4, 5])
        expectTempoError(containing: ["`x`", "[B, 3, L]", "[2, 4, 7]"]) { _ = try tcn(Tensor.zeros([2, 4, 7])) }
        expectTempoError(containing: ["`x`", "[B, 3, L]", "[3, 7]"]) { _ = try tcn(Tensor.zeros([3, 7])) }
        expectTempoError(containing: ["`x`", "[B, 3, L]", "[1, 3, 7, 1]"]) { _ = try tcn(Tensor.zeros([1, 3, 7, 1])) }
        expectTempoError(containing: ["`x`", "[2, 3, 0]"]) { _ = try tcn(Tensor.zeros([2, 3, 0])) }
        expectTempoError(containing: ["`x`", "[B, 3, L]", "[2, 4, 7]"]) { _ = try tcn.blocks[0](Tensor.zeros([2, 4, 7])) }
        expectTempoError(containing: ["`channels`", "0 blocks"]) { _ = try TCN(inputChannels: 3, channels: []) }
        expectTempoError(containing: ["`dropout`", "1.5"]) { _ = try TCN(inputChannels: 3, channels: [4], dropout: 1.5) }
        expectTempoError(containing: ["`kernelSize`", "at least 1"]) { _ = try TCN(inputChannels: 3, channels: [4], kernelSize: 0) }
        expectTempoError(containing: ["`outputChannels`", "at least 1"]) { _ = try TCN(inputChannels: 3, channels: [4, 0]) }
        expectTempoError(containing: ["`inputChannels`", "at least 1"]) { _ = try TCN(inputChannels: 0, channels: [4]) }
        // Block 20 of K 5000 would look back (K-1) * 2^19 steps, too far for the kernels' 32-bit indices.
        expectTempoError(containing: ["`dilation`", "below"]) {
            _ = try TCN(inputChannels: 1, channels: Array(repeating: 1, count: 20), kernelSize: 5000)
        }
        if let device = Device.openCLDevices.first {
            expectTempoError(containing: ["`x`", "device mismatch"]) { _ = try tcn(Tensor.zeros([1, 3, 5], device: device)) }
        }
    }
}
