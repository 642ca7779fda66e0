import TempoTestSupport
import Testing

@testable import Tempo

/// A module nested like PyTorch's TransformerEncoder, to check dotted keys.
final class Block: Module {
    let norm1: LayerNorm
    let norm2: LayerNorm
    init(size: Int, device: Device) throws {
        norm1 = try LayerNorm(size, device: device)
        norm2 = try LayerNorm(size, elementwiseAffine: false, device: device)
    }
    override var members: [(key: String, member: ModuleMember)] { [("norm1", .module(norm1)), ("norm2", .module(norm2))] }
}

final class Encoder: Module {
    let layers: [Block]
    let scale: Parameter
    init(device: Device) throws {
        layers = try (0..<2).map { _ in try Block(size: 3, device: device) }
        scale = Parameter(try Tensor(shape: [1], values: [2], device: device))
    }
    override var members: [(key: String, member: ModuleMember)] {
        [("scale", .parameter(scale))] + layers.enumerated().map { ("layers.\($0.offset)", .module($0.element)) }
    }
}

@Suite("Module")
struct ModuleTests {
    @Test("parameter keys are PyTorch state_dict keys, nested with dots")
    func keys() throws {
        let encoder = try Encoder(device: .cpu)
        #expect(encoder.namedParameters().map(\.key) == [
            "scale", "layers.0.norm1.weight", "layers.0.norm1.bias", "layers.1.norm1.weight", "layers.1.norm1.bias",
        ])
        #expect(encoder.parameterCount == 1 + 2 * 6)
        #expect(encoder.namedModules().map(\.key) == ["", "layers.0", "layers.0.norm1", "layers.0.norm2", "layers.1", "layers.1.norm1", "layers.1.norm2"])
        let sequential = Sequential(try LayerNorm(4), ReLU(), try LayerNorm([2, 4]))
        #expect(sequential.namedParameters().map(\.key) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(sequential.namedParameters().map(\.parameter.shape) == [[4], [4], [2, 4], [2, 4]])
        #expect(TimeDistributed(try LayerNorm(4)).namedParameters().map(\.key) == ["module.weight", "module.bias"])
        #expect(encoder.parameterSummary.contains("layers.1.norm1.bias: [3] on cpu"))
    }

    @Test("training and evaluation mode reach every sub-module")
    func modes() throws {
        let encoder = try Encoder(device: .cpu)
        #expect(encoder.isTraining && encoder.layers[1].norm2.isTraining)   // as PyTorch: training first
        encoder.eval()
        #expect(encoder.namedModules().allSatisfy { !$0.module.isTraining })
        encoder.train()
        #expect(encoder.namedModules().allSatisfy { $0.module.isTraining })
    }

    @Test("to(_:) moves every parameter; values are kept", .needsOpenCL)
    func moving() throws {
        let encoder = try Encoder(device: .cpu)
        let before = try encoder.stateDict().map { try $0.tensor.values }
        for device in Device.openCLDevices {
            try encoder.to(device)
            #expect(encoder.device == device)
            #expect(encoder.namedParameters().allSatisfy { $0.parameter.device == device })
            #expect(try encoder.stateDict().map { try $0.tensor.values } == before)
        }
        try encoder.to(.cpu)
        #expect(encoder.device == .cpu)
    }

    @Test("load(stateDict:) replaces values, moving them to the parameters' device", arguments: allDevices)
    func loadStateDict(device: Device) throws {
        let norm = try LayerNorm(3, device: device)
        try norm.load(stateDict: [
            "weight": try Tensor(shape: [3], values: [1, 2, 3]), "bias": try Tensor(shape: [3], values: [0, 0, 1]),
        ])
        #expect(norm.weight?.device == device)
        #expect(try norm.weight?.value.values == [1, 2, 3])
        let y = try norm(Tensor(shape: [1, 3], values: [1, 2, 3], device: device)).values
        // (x - 2) / sqrt(2/3 + 1e-5) * [1, 2, 3] + [0, 0, 1]
        let inverse = 1 / (Float(2) / 3 + 1e-5).squareRoot()
        expectClose(y, [-inverse, 0, 3 * inverse + 1], Tolerance(absolute: 1e-5), "loaded LayerNorm on \(device.id)")
    }

    @Test("a bad state dict is rejected whole: missing, unexpected, misshapen")
    func loadErrors() throws {
        let norm = try LayerNorm(3)
        let weight = try Tensor(shape: [3], values: [5, 5, 5])
        expectTempoError(containing: ["state dict", "missing tensor", "\"bias\""]) {
            try norm.load(stateDict: ["weight": weight])
        }
        expectTempoError(containing: ["unexpected tensor", "\"extra\""]) {
            try norm.load(stateDict: ["weight": weight, "bias": weight, "extra": weight])
        }
        expectTempoError(containing: ["\"bias\"", "[4]", "[3]"]) {
            try norm.load(stateDict: ["weight": weight, "bias": try Tensor.zeros([4])])
        }
        // None of the failed loads changed anything.
        #expect(try norm.weight?.value.values == [1, 1, 1])
        // Allowed on request.
        try norm.load(stateDict: ["weight": weight], allowMissing: true)
        #expect(try norm.weight?.value.values == [5, 5, 5])
        try norm.load(stateDict: ["weight": weight, "bias": weight, "extra": weight], allowUnexpected: true)
        #expect(try norm.bias?.value.values == [5, 5, 5])
    }

    @Test("an input on another device is named in the error", .needsOpenCL)
    func inputDevice() throws {
        let norm = try LayerNorm(3)
        let gpu = try #require(Device.openCLDevices.first)
        expectTempoError(containing: ["`x`", "cpu", gpu.id]) { _ = try norm(Tensor.zeros([2, 3], device: gpu)) }
    }
}

@Suite("Basic layers")
struct BasicLayerTests {
    @Test("LayerNorm over several trailing axes equals normalising the flattened row", arguments: allDevices)
    func layerNormSeveralAxes(device: Device) throws {
        let norm = try LayerNorm([2, 3], device: device)
        try norm.load(stateDict: ["weight": try Tensor.normal([2, 3], seed: 1), "bias": try Tensor.normal([2, 3], seed: 2)])
        let x = try Tensor.normal([4, 2, 3], mean: 5, seed: 3, device: device)
        let y = try norm(x)
        #expect(y.shape == [4, 2, 3])
        let expected = try x.reshaped([4, 6]).layerNorm(
            gamma: norm.weight!.value.reshaped([6]), beta: norm.bias!.value.reshaped([6])).values
        #expect(try y.values == expected)
        expectTempoError(containing: ["`x`", "[..., 2, 3]", "[4, 3, 2]"]) { _ = try norm(Tensor.zeros([4, 3, 2], device: device)) }
    }

    @Test("Dropout: identity in evaluation, seeded and fresh per call in training, same on every device")
    func dropout() throws {
        let x = try Tensor(shape: [1000], repeating: 1)
        let layer = try Dropout(probability: 0.25, seed: 11)
        let first = try layer(x).values
        let second = try layer(x).values
        #expect(first != second)   // the call counter advances the mask
        #expect(first.allSatisfy { $0 == 0 || $0 == Float(1) / 0.75 })
        layer.eval()
        #expect(try layer(x).values == x.values)
        for device in Device.openCLDevices {
            let twin = try Dropout(probability: 0.25, seed: 11)
            #expect(try twin(x.to(device)).values == first, "first mask on \(device.id)")
            #expect(try twin(x.to(device)).values == second, "second mask on \(device.id)")
        }
        let seededTwice = try Random.withSeed(3) { try Dropout().seed } == Random.withSeed(3) { try Dropout().seed }
        #expect(seededTwice)
        expectTempoError(containing: ["`probability`"]) { _ = try Dropout(probability: 2) }
    }

    @Test("activations, Sequential and TimeDistributed compose", arguments: allDevices)
    func composition(device: Device) throws {
        let x = try Tensor.normal([5, 2, 4], seed: 4, device: device)
        let model = Sequential(ReLU(), Tanh(), Identity(), Sigmoid(), GELU(), GELU(approximate: true), Softmax())
        let expected = try x.relu().tanh().sigmoid().gelu().gelu(approximate: true).softmax().values
        #expect(try model(x).values == expected)
        let distributed = TimeDistributed(try LayerNorm(4, device: device))
        #expect(try distributed(x).values == x.layerNorm().values)
        expectTempoError(containing: ["`x`", "[T, B, F...]", "[5, 4]"]) { _ = try distributed(Tensor.zeros([5, 4], device: device)) }
    }
}

/// A module that registers one sub-module under two keys, as PyTorch allows.
final class Twice: Module {
    let norm: LayerNorm
    init(size: Int) throws { norm = try LayerNorm(size) }
    override var members: [(key: String, member: ModuleMember)] { [("first", .module(norm)), ("again", .module(norm))] }
}

@Suite("Module registered twice")
struct ModuleRegisteredTwiceTests {
    @Test("named_parameters and named_modules list it once, state_dict under both keys, load takes either")
    func duplicates() throws {
        let twice = try Twice(size: 2)
        #expect(twice.namedParameters().map(\.key) == ["first.weight", "first.bias"])
        #expect(twice.namedModules().map(\.key) == ["", "first"])
        #expect(twice.stateDict().map(\.key) == ["first.weight", "first.bias", "again.weight", "again.bias"])
        #expect(twice.parameterCount == 4)
        let weight = try Tensor(shape: [2], values: [3, 4]), bias = try Tensor(shape: [2], values: [5, 6])
        try twice.load(stateDict: ["again.weight": weight, "first.bias": bias])
        #expect(try twice.norm.weight?.value.values == [3, 4])
        #expect(try twice.norm.bias?.value.values == [5, 6])
        #expect(modelFileProblem {
            try twice.load(stateDict: ["first.weight": weight, "again.weight": bias, "first.bias": bias])
        } == .conflictingDuplicates(tensor: "again.weight", duplicateOf: "first.weight"))
    }
}
