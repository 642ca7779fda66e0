import Foundation
import TempoTestSupport
import Testing
import Tempo

extension ReadmeExampleTests {
    @Test("recurrent layers: an LSTM loaded and run with lengths, a GRU streamed")
    func recurrentLayers() throws {
        let device = Device.best
        let url = FileManager.default.temporaryDirectory.appending(path: "readme-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Random.withSeed(1) { try LSTM(inputSize: 40, hiddenSize: 64, layers: 2, bidirectional: true) }.save(safetensors: url)

        let lstm = try LSTM(inputSize: 40, hiddenSize: 64, layers: 2, bidirectional: true, device: device)
        try lstm.load(safetensors: url)
        lstm.eval()
        let x = try Tensor.normal([50, 4, 40], seed: 1, device: device)
        let (y, state) = try lstm(x, lengths: [50, 31, 50, 7])
        #expect(y.shape == [50, 4, 128])
        #expect(state.hidden.shape == [4, 4, 64] && state.cell?.shape == [4, 4, 64])

        let gru = try GRU(inputSize: 40, hiddenSize: 64, layers: 2, device: device)
        var h: RecurrentState? = nil
        var outputs: [Float] = []
        for t in 0..<50 {
            let (out, next) = try gru.step(x.slice(axis: 0, range: t..<t + 1).reshaped([4, 40]), state: h)
            #expect(out.shape == [4, 64])
            outputs += try out.values
            h = next
        }
        expectClose(outputs, try gru(x).output.values, Tolerance(absolute: 1e-5, relative: 1e-4), "streamed GRU")
    }
}
