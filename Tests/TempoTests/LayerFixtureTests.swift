import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

/// Layers loaded from PyTorch-keyed state dicts reproduce the reference outputs of
/// `Fixtures/make_fixtures.py` (float64 NumPy, per PyTorch's definitions).
@Suite("Layers against the reference fixtures")
struct LayerFixtureTests {
    @Test("Linear(5, 3) loaded from its state dict gives y = x W^T + b", arguments: allDevices)
    func linear(device: Device) throws {
        let layer = try Linear(inputSize: 5, outputSize: 3, device: device)
        try layer.load(safetensors: fixturesDirectory.appending(path: "linear.safetensors"))
        layer.eval()
        let io = try SafetensorsFile(contentsOf: fixturesDirectory.appending(path: "linear_io.safetensors"))
        let y = try layer(io.tensor("x", device: device))
        #expect(y.shape == [4, 3] && y.device == device)
        // Five products in float32 against a float64 reference: a few ulp of values ~1.
        expectClose(try y.values, try io.values("y"), Tolerance(absolute: 1e-5, relative: 1e-5), "Linear on \(device.id)")
    }

    @Test("LayerNorm(6) loaded from its state dict matches, even with a large offset", arguments: allDevices)
    func layerNorm(device: Device) throws {
        let layer = try LayerNorm(6, device: device)
        try layer.load(safetensors: fixturesDirectory.appending(path: "layer_norm.safetensors"))
        let io = try SafetensorsFile(contentsOf: fixturesDirectory.appending(path: "layer_norm_io.safetensors"))
        let y = try layer(io.tensor("x", device: device))
        expectClose(try y.values, try io.values("y"), Tolerance(absolute: 2e-5, relative: 1e-5), "LayerNorm on \(device.id)")
    }

    @Test("a module with F16 and BF16 parameters in the file loads them converted")
    func halfPrecisionParameters() throws {
        final class Holder: Module {
            let half = Parameter(try! Tensor.zeros([14]))
            let brain = Parameter(try! Tensor.zeros([2, 6]))
            override var members: [(key: String, member: ModuleMember)] {
                [("weights.f16", .parameter(half)), ("weights.bf16", .parameter(brain))]
            }
        }
        let url = fixturesDirectory.appending(path: "mixed_dtypes.safetensors")
        let file = try SafetensorsFile(contentsOf: url)
        let holder = Holder()
        try holder.load(safetensors: url, allowUnexpected: true)
        #expect(try holder.half.value.values.map(\.bitPattern) == file.values("weights.f16").map(\.bitPattern))
        #expect(try holder.brain.value.values.map(\.bitPattern) == file.values("weights.bf16").map(\.bitPattern))
        // Without permission, the file's other tensors are unexpected.
        expectTempoError(containing: ["mixed_dtypes.safetensors", "unexpected tensors", "\"weights.f32\""]) {
            try Holder().load(safetensors: url)
        }
    }
}

@Suite("Linear and Embedding")
struct LinearEmbeddingTests {
    @Test("Linear's fresh weights follow PyTorch's default U(-1/sqrt(in), 1/sqrt(in))")
    func linearInitialisation() throws {
        let layer = try Random.withSeed(5) { try Linear(inputSize: 400, outputSize: 300) }
        let bound = 1 / Float(400).squareRoot()
        let weights = try layer.weight.value.values
        let biases = try #require(try layer.bias?.value.values)
        #expect(weights.allSatisfy { abs($0) <= bound } && biases.allSatisfy { abs($0) <= bound })
        // Uniform variance bound^2 / 3; 120,000 draws give a standard error of ~0.3% on it.
        let variance = weights.map { $0 * $0 }.reduce(0, +) / Float(weights.count)
        #expect(abs(variance / (bound * bound / 3) - 1) < 0.02)
        #expect(layer.namedParameters().map(\.key) == ["weight", "bias"])
        #expect(layer.weight.shape == [300, 400])
        #expect(try Linear(inputSize: 3, outputSize: 2, bias: false).namedParameters().map(\.key) == ["weight"])
    }

    @Test("Linear on any leading shape, on every device, agrees with the CPU", arguments: allDevices)
    func linearShapes(device: Device) throws {
        let layer = try Random.withSeed(9) { try Linear(inputSize: 17, outputSize: 33) }
        let x = try Tensor.normal([3, 5, 17], seed: 2)
        let expected = try layer(x).values
        try layer.to(device)
        let y = try layer(x.to(device))
        #expect(y.shape == [3, 5, 33])
        expectClose(try y.values, expected, Tolerance(absolute: 1e-5, relative: 1e-5), "Linear [3, 5, 17] on \(device.id)")
        #expect(try layer(Tensor.normal([17], seed: 3, device: device)).shape == [33])
        expectTempoError(containing: ["`x`", "[..., 17]", "[3, 16]"]) { _ = try layer(Tensor.zeros([3, 16], device: device)) }
        expectTempoError(containing: ["`inputSize`", "at least 1"]) { _ = try Linear(inputSize: 0, outputSize: 3) }
    }

    @Test("Embedding looks rows up, zeroes its padding row, and checks indices", arguments: allDevices)
    func embedding(device: Device) throws {
        let table = try Random.withSeed(1) { try Embedding(count: 10, dimension: 4, paddingIndex: -1, device: device) }
        #expect(table.paddingIndex == 9)
        let weights = try table.weight.value.values
        #expect(weights[36..<40].allSatisfy { $0 == 0 })
        // N(0, 1) elsewhere: all 36 values finite and not all equal.
        #expect(Set(weights[0..<36]).count == 36)
        let tokens = [3, 9, 0, 3, 7, 1]
        let y = try table(tokens, shape: [3, 2])
        #expect(y.shape == [3, 2, 4])
        #expect(try y.values == tokens.flatMap { Array(weights[$0 * 4..<$0 * 4 + 4]) })
        expectTempoError(containing: ["`indices[1]`", "10"]) { _ = try table([1, 10]) }
        expectTempoError(containing: ["`shape`", "2 elements", "[3]"]) { _ = try table([1, 2], shape: [3]) }
        expectTempoError(containing: ["`paddingIndex`", "-10..<10", "10"]) { _ = try Embedding(count: 10, dimension: 4, paddingIndex: 10) }
    }
}

@Suite("Model files")
struct ModelFileTests {
    static func temporaryURL() -> URL {
        FileManager.default.temporaryDirectory.appending(path: "tempo-\(UUID().uuidString).safetensors")
    }

    static func model(device: Device) throws -> Sequential {
        try Random.withSeed(3) {
            Sequential(
                try Linear(inputSize: 6, outputSize: 8, device: device), ReLU(), try LayerNorm(8, device: device),
                try Linear(inputSize: 8, outputSize: 2, device: device))
        }
    }

    @Test("save then load round-trips bit-exactly and gives the same outputs", arguments: allDevices)
    func roundTrip(device: Device) throws {
        let url = Self.temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        let original = try Self.model(device: device)
        try original.save(safetensors: url, metadata: ["format": "pt"])
        let file = try SafetensorsFile(contentsOf: url)
        #expect(file.tensors.map(\.name) == original.namedParameters().map(\.key))
        #expect(file.metadata == ["format": "pt"])

        let copy = try Random.withSeed(99) {
            Sequential(
                try Linear(inputSize: 6, outputSize: 8, device: device), ReLU(), try LayerNorm(8, device: device),
                try Linear(inputSize: 8, outputSize: 2, device: device))
        }
        try copy.load(safetensors: url)
        for ((key, a), (_, b)) in zip(original.stateDict(), copy.stateDict()) {
            #expect(try a.values.map(\.bitPattern) == b.values.map(\.bitPattern), "\(key)")
        }
        let x = try Tensor.normal([4, 6], seed: 8, device: device)
        #expect(try copy(x).values == original(x).values)
    }

    @Test("wrong names, shapes and dtypes are refused, naming the tensor, and change nothing")
    func refusals() throws {
        let url = Self.temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        let model = try Self.model(device: .cpu)
        let before = try model.stateDict().map { try $0.tensor.values }
        let state = model.stateDict().map { (name: $0.key, tensor: $0.tensor) }

        try SafetensorsFile.write(Array(state.dropLast()), to: url)
        expectTempoError(containing: [url.lastPathComponent, "missing tensor", "\"3.bias\""]) { try model.load(safetensors: url) }

        try SafetensorsFile.write(state + [(name: "4.weight", tensor: try Tensor.zeros([1]))], to: url)
        expectTempoError(containing: ["unexpected tensor", "\"4.weight\""]) { try model.load(safetensors: url) }

        var misshapen = state
        misshapen[0].tensor = try Tensor.zeros([6, 8])
        try SafetensorsFile.write(misshapen, to: url)
        expectTempoError(containing: ["\"0.weight\"", "[6, 8]", "[8, 6]"]) { try model.load(safetensors: url) }

        #expect(try model.stateDict().map { try $0.tensor.values } == before)
    }

    @Test("a truncated or garbled file is an error naming the file, never a crash")
    func damagedFiles() throws {
        let url = Self.temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        let model = try Self.model(device: .cpu)
        try model.save(safetensors: url)
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 5).write(to: url)
        expectTempoError(containing: [url.lastPathComponent]) { try model.load(safetensors: url) }
        try Data("{not json".utf8).write(to: url)
        expectTempoError(containing: [url.lastPathComponent]) { try model.load(safetensors: url) }
        expectTempoError(containing: ["no-such-file"]) { try model.load(safetensors: URL(fileURLWithPath: "/tmp/no-such-file.safetensors")) }
    }
}
