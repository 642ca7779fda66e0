import Foundation
import TempoTestSupport
import Testing
import Tempo

/// The README's examples, so that what it promises keeps compiling and running.
@Suite("README examples")
struct ReadmeExampleTests {
    @Test("tensors and ops through `import Tempo`")
    func tensors() throws {
        let device = Device.best
        let x = try Tensor.normal([32, 256], seed: 1, device: device)
        let w = try Tensor.normal([256, 512], seed: 2, device: device)
        let b = try Tensor.zeros([512], device: device)
        let h = try x.matmul(w).addingBias(b).tanh()
        #expect(h.shape == [32, 512])
        #expect(try h.values.allSatisfy { abs($0) <= 1 })
    }

    @Test("a model built, saved, loaded and run")
    func model() throws {
        let device = Device.best
        let url = FileManager.default.temporaryDirectory.appending(path: "readme-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        func build() throws -> Sequential {
            Sequential(
                try Linear(inputSize: 256, outputSize: 512, device: device), GELU(), try Dropout(probability: 0.1),
                try LayerNorm(512, device: device), try Linear(inputSize: 512, outputSize: 10, device: device))
        }
        let model = try Random.withSeed(42) { try build() }
        try model.save(safetensors: url)
        let loaded = try Random.withSeed(7) { try build() }
        try loaded.load(safetensors: url)
        model.eval()
        loaded.eval()
        #expect(loaded.namedParameters().map(\.key) == ["0.weight", "0.bias", "3.weight", "3.bias", "4.weight", "4.bias"])
        let x = try Tensor.normal([4, 256], seed: 3, device: device)
        let logits = try loaded(x)
        #expect(logits.shape == [4, 10])
        #expect(try logits.values == model(x).values)
        #expect(model.parameterSummary.hasSuffix("\(model.parameterCount) parameters"))
    }
}
