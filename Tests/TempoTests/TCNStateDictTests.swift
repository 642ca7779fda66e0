import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

@Suite("TCN state dict")
struct TCNStateDictTests {
    /// PyTorch's `TemporalConvNet(3, [5, 5], kernel_size=3).state_dict().keys()`, written out from
    /// locuslab's tcn.py: per block conv1, conv2 (weight_norm appends weight_g and weight_v after
    /// bias), the same modules again in `net` (indices 0 and 4 of its Sequential), then
    /// downsample in block 0 only (3 != 5).
    static let pytorchKeys = [
        "network.0.conv1.bias", "network.0.conv1.weight_g", "network.0.conv1.weight_v",
        "network.0.conv2.bias", "network.0.conv2.weight_g", "network.0.conv2.weight_v",
        "network.0.net.0.bias", "network.0.net.0.weight_g", "network.0.net.0.weight_v",
        "network.0.net.4.bias", "network.0.net.4.weight_g", "network.0.net.4.weight_v",
        "network.0.downsample.weight", "network.0.downsample.bias",
        "network.1.conv1.bias", "network.1.conv1.weight_g", "network.1.conv1.weight_v",
        "network.1.conv2.bias", "network.1.conv2.weight_g", "network.1.conv2.weight_v",
        "network.1.net.0.bias", "network.1.net.0.weight_g", "network.1.net.0.weight_v",
        "network.1.net.4.bias", "network.1.net.4.weight_g", "network.1.net.4.weight_v",
    ]

    static func make(seed: UInt64 = 1, device: Device = .cpu) throws -> TCN {
        try Random.withSeed(seed) { try TCN(inputChannels: 3, channels: [5, 5], kernelSize: 3, device: device) }
    }

    @Test("state_dict keys and shapes are PyTorch's for locuslab's TemporalConvNet")
    func keys() throws {
        let tcn = try Self.make()
        #expect(tcn.stateDict().map(\.key) == Self.pytorchKeys)
        // named_parameters() lists each parameter once: the net.* duplicates go.
        #expect(tcn.namedParameters().map(\.key) == Self.pytorchKeys.filter { !$0.contains(".net.") })
        let shapes = Dictionary(uniqueKeysWithValues: tcn.stateDict().map { ($0.key, $0.tensor.shape) })
        #expect(shapes["network.0.conv1.weight_g"] == [5, 1, 1])
        #expect(shapes["network.0.conv1.weight_v"] == [5, 3, 3])
        #expect(shapes["network.0.net.4.weight_v"] == [5, 5, 3])
        #expect(shapes["network.0.downsample.weight"] == [5, 3, 1])
        #expect(shapes["network.1.conv2.bias"] == [5])
        // 5*(1 + 9 + 1) + 5*(1 + 15 + 1) + 5*3 + 5, then 2 * 5*(1 + 15 + 1): duplicates not counted.
        #expect(tcn.parameterCount == 55 + 85 + 20 + 170)
    }

    @Test("fresh parameters: v and downsample N(0, 0.01^2), g = ||v|| per row, biases PyTorch's default")
    func initialisation() throws {
        let tcn = try Random.withSeed(2) { try TCN(inputChannels: 40, channels: [48, 48], kernelSize: 5) }
        for block in tcn.blocks {
            for conv in [block.conv1, block.conv2] {
                let v = try conv.weightV.value.values, g = try conv.weightG.value.values
                let deviation = (v.map { Double($0) * Double($0) }.reduce(0, +) / Double(v.count)).squareRoot()
                #expect(abs(deviation - 0.01) < 0.0005, "std of v \(deviation)")
                let row = conv.inputChannels * 5
                for o in 0..<48 {
                    let norm = v[o * row..<(o + 1) * row].map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
                    #expect(abs(Double(g[o]) - norm) < 1e-6 * norm + 1e-9, "g[\(o)]")
                }
                let bound = 1 / Float(row).squareRoot()
                #expect(try #require(conv.bias).value.values.allSatisfy { abs($0) <= bound })
            }
        }
        let downsample = try #require(tcn.blocks[0].downsample)
        let w = try downsample.weight.value.values
        #expect(abs((w.map { $0 * $0 }.reduce(0, +) / Float(w.count)).squareRoot() - 0.01) < 0.001)
        #expect(tcn.blocks[1].downsample == nil)
    }

    @Test("a locuslab state_dict loads: with its net.* duplicates, without them, or with them alone")
    func loadLocuslab() throws {
        let source = try Self.make(seed: 3)
        try source.load(stateDict: randomParameters(for: source, seed: 4))
        source.eval()
        let x = try Tensor.normal([2, 3, 12], seed: 5)
        let expected = try source(x).values
        let full = Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.key, $0.tensor) })
        let subsets: [(String, [String: Tensor])] = [
            ("every key", full),
            ("no net.*", full.filter { !$0.key.contains(".net.") }),
            ("net.* for the convolutions", full.filter { !$0.key.contains(".conv1.") && !$0.key.contains(".conv2.") }),
        ]
        for (what, tensors) in subsets {
            let tcn = try Self.make(seed: 6)
            try tcn.load(stateDict: tensors)
            tcn.eval()
            #expect(bits(try tcn(x).values) == bits(expected), "\(what)")
        }
        // A parameter with neither key is missing, named by its first key.
        let none = full.filter { !$0.key.hasSuffix("1.conv2.weight_v") && !$0.key.hasSuffix("1.net.4.weight_v") }
        #expect(modelFileProblem { try Self.make().load(stateDict: none) } == .missingTensors(["network.1.conv2.weight_v"]))
    }

    @Test("duplicate keys holding different values are rejected, and the module keeps its values")
    func conflictingDuplicates() throws {
        let tcn = try Self.make(seed: 7)
        var tensors = Dictionary(uniqueKeysWithValues: try Self.make(seed: 8).stateDict().map { ($0.key, $0.tensor) })
        tensors["network.0.net.4.weight_g"] = try Tensor(shape: [5, 1, 1], repeating: 2)
        let before = try tcn.stateDict().map { bits(try $0.tensor.values) }
        #expect(modelFileProblem { try tcn.load(stateDict: tensors) } == .conflictingDuplicates(
            tensor: "network.0.net.4.weight_g", duplicateOf: "network.0.conv2.weight_g"))
        #expect(try tcn.stateDict().map { bits(try $0.tensor.values) } == before)
        expectTempoError(containing: ["network.0.net.4.weight_g", "network.0.conv2.weight_g", "other values"]) {
            try tcn.load(stateDict: tensors)
        }
    }

    @Test("save and load round trip through safetensors, duplicates included, on every device", arguments: allDevices)
    func safetensorsRoundTrip(device: Device) throws {
        let original = try Self.make(seed: 9, device: device)
        try original.load(stateDict: randomParameters(for: original, seed: 10))
        original.eval()
        let url = FileManager.default.temporaryDirectory.appending(path: "tempo-tcn-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try original.save(safetensors: url)
        // The file holds what PyTorch's load_state_dict(strict=True) asks for.
        #expect(Set(try SafetensorsFile(contentsOf: url).tensors.map(\.name)) == Set(Self.pytorchKeys))
        let copy = try Self.make(seed: 11, device: device)
        try copy.load(safetensors: url)
        copy.eval()
        #expect(copy.device == device)
        let x = try Tensor.normal([2, 3, 20], seed: 12, device: device)
        #expect(bits(try copy(x).values) == bits(try original(x).values))
    }

    /// `Fixtures/tcn_locuslab`: locuslab's own `TemporalConvNet(3, [6, 6, 4], kernel_size=3)` code run
    /// by PyTorch 2.15 in eval mode (make_fixture.py), its state_dict saved as PyTorch gives it.
    @Test("a state_dict saved from locuslab's TemporalConvNet loads unchanged and gives PyTorch's output, whole and streamed", arguments: allDevices)
    func locuslabFixture(device: Device) throws {
        let directory = fixturesDirectory.appending(path: "tcn_locuslab")
        let tcn = try TCN(inputChannels: 3, channels: [6, 6, 4], kernelSize: 3, device: device)
        try tcn.load(safetensors: directory.appending(path: "model.safetensors"))
        tcn.eval()
        let io = try SafetensorsFile(contentsOf: directory.appending(path: "io.safetensors"))
        let x = try io.tensor("x", device: device)
        let expected = try io.values("y")
        let y = try tcn(x)
        #expect(y.shape == [2, 4, 40])
        // Float32 in PyTorch and in Tempo, six convolutions deep, values ~1.
        let tolerance = Tolerance(absolute: 1e-5, relative: 1e-4)
        expectClose(try y.values, expected, tolerance, "TCN vs PyTorch on \(device.id)")
        let state = try tcn.makeStreamingState(batch: 2)
        let streamed = try TCNStreamingTests.streamed(x, outputChannels: 4) { try tcn.step($0, state: state) }
        expectClose(streamed, expected, tolerance, "streamed TCN vs PyTorch on \(device.id)")
    }
}
