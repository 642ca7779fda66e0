import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

/// One case of `Fixtures/reference` (a copy of the shared reference set): raw little-endian float32
/// arrays whose names, shapes and sha256 are in `manifest.json` (checked on every read).
struct ReferenceCase {
    private struct Manifest: Decodable {
        var cases: [Entry]
    }

    private struct Entry: Decodable {
        var name: String
        var inputs: [ArrayEntry]
        var outputs: [ArrayEntry]
        var suggested_tolerance: [String: Float]
    }

    private struct ArrayEntry: Decodable {
        var name: String
        var file: String
        var shape: [Int]
        var sha256: String
    }

    static let directory = fixturesDirectory.appending(path: "reference")

    let name: String
    private let arrays: [String: ArrayEntry]
    /// Every input except the sequence and the initial state: the parameters, under their file names.
    let parameterNames: [String]
    let tolerance: Tolerance

    init(_ name: String) throws {
        let data = try Data(contentsOf: Self.directory.appending(path: "manifest.json"))
        let manifest = try JSONDecoder().decode(Manifest.self, from: data)
        let entry = try #require(manifest.cases.first { $0.name == name }, "no case \(name) in the manifest")
        self.name = name
        arrays = Dictionary(uniqueKeysWithValues: (entry.inputs + entry.outputs).map { ($0.name, $0) })
        parameterNames = entry.inputs.map(\.name).filter { !["x", "h0", "c0"].contains($0) }
        tolerance = Tolerance(
            absolute: try #require(entry.suggested_tolerance["atol"]), relative: try #require(entry.suggested_tolerance["rtol"]))
    }

    func shape(_ array: String) throws -> [Int] {
        try #require(arrays[array], "no array \(array) in case \(name)").shape
    }

    func values(_ array: String) throws -> [Float] {
        let entry = try #require(arrays[array], "no array \(array) in case \(name)")
        let url = Self.directory.appending(path: entry.file)
        let digest = sha256Hex(try Data(contentsOf: url))
        try #require(digest == entry.sha256, "\(entry.file): sha256 \(digest), manifest says \(entry.sha256)")
        let values = try readFloats(url)
        let count = entry.shape.reduce(1, *)
        try #require(values.count == count, "\(entry.file): \(values.count) floats for shape \(entry.shape)")
        return values
    }

    func tensor(_ array: String, device: Device) throws -> Tensor {
        try Tensor(shape: shape(array), values: values(array), device: device)
    }

    /// The parameters under PyTorch's `state_dict` keys: the single-layer cases' files leave out
    /// the layer suffix (`weight_ih`), which a module's keys always have (`weight_ih_l0`).
    func stateDict(device: Device) throws -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: try parameterNames.map { name in
            let key = name.range(of: "_l[0-9]", options: .regularExpression) == nil ? name + "_l0" : name
            return (key, try tensor(name, device: device))
        })
    }
}

/// Float32 recurrences in a different order (one step at a time, another batch size, another
/// device's GEMM): a few ulp of values of order 1, compounded over a few steps.
let recurrentTolerance = Tolerance(absolute: 1e-5, relative: 1e-5)

/// `values` of shape `[a, b, c]` as `[b, a, c]`, computed on the host as an independent check.
func swappingLeadingAxes(_ values: [Float], _ a: Int, _ b: Int, _ c: Int) -> [Float] {
    var result = [Float](repeating: 0, count: values.count)
    for i in 0..<a {
        for j in 0..<b {
            for k in 0..<c { result[(j * a + i) * c + k] = values[(i * b + j) * c + k] }
        }
    }
    return result
}

/// Element `[i, j, ...]` block of a row-major `[A, B, C]` array: the `C` values at `(i, j)`.
func block(_ values: [Float], _ i: Int, _ j: Int, shape: [Int]) -> [Float] {
    let start = (i * shape[1] + j) * shape[2]
    return Array(values[start..<start + shape[2]])
}

/// A random initial state for `layer` and batch `batch`, zeros nowhere.
func randomState(for layer: RecurrentModule, batch: Int, seed: UInt64, device: Device) throws -> RecurrentState {
    let rows = layer.layers * layer.directions
    return RecurrentState(
        hidden: try Tensor.normal([rows, batch, layer.stateSize], standardDeviation: 0.5, seed: seed, device: device),
        cell: layer.cell.hasCellState
            ? try Tensor.normal([rows, batch, layer.hiddenSize], standardDeviation: 0.5, seed: seed + 1, device: device)
            : nil)
}

/// The module's parameters as a dictionary, to load into a twin.
func parameterDictionary(_ module: Module) -> [String: Tensor] {
    Dictionary(uniqueKeysWithValues: module.stateDict().map { ($0.key, $0.tensor) })
}
