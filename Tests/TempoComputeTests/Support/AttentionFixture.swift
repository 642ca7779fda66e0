import Foundation
import TempoTestSupport
import Testing

/// The `sdpa_causal` case of `../shared/reference` (ONNX Runtime's opset-23 `Attention`,
/// `is_causal = 1`, B2 h2 S6 d4, scale 0.5), copied into `Fixtures/sdpa_causal` with the manifest
/// entry; every file is checked against the manifest's sha256 before use.
struct AttentionFixture {
    var q: [Float]
    var k: [Float]
    var v: [Float]
    var y: [Float]

    private struct Manifest: Decodable {
        struct Case: Decodable {
            struct File: Decodable {
                var name: String
                var file: String
                var sha256: String
            }
            var name: String
            var inputs: [File]
            var outputs: [File]
        }
        var cases: [Case]
    }

    static func sdpaCausal() throws -> AttentionFixture {
        let directory = computeFixturesDirectory.appending(path: "sdpa_causal")
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: directory.appending(path: "manifest.json")))
        let entry = try #require(manifest.cases.first { $0.name == "sdpa_causal" })
        var arrays: [String: [Float]] = [:]
        for file in entry.inputs + entry.outputs {
            // The manifest names files relative to the shared reference folder: "sdpa_causal/q.f32".
            let url = directory.appending(path: URL(fileURLWithPath: file.file).lastPathComponent)
            let digest = sha256Hex(try Data(contentsOf: url))
            try #require(digest == file.sha256, "\(file.file): sha256 \(digest), manifest says \(file.sha256)")
            arrays[file.name] = try readFloats(url)
        }
        return AttentionFixture(
            q: try #require(arrays["q"]), k: try #require(arrays["k"]), v: try #require(arrays["v"]),
            y: try #require(arrays["y"]))
    }
}
