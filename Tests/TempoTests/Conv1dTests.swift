import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

/// PyTorch's pads for each mode: `'valid'` none, `'same'` total `(K-1)*d` with `total // 2` on the
/// left (`torch.nn.Conv1d.__init__` / `conv_padding_same`), causal all on the left.
private func pads(_ padding: Conv1d.Padding, kernelSize: Int, dilation: Int) -> (left: Int, right: Int) {
    let total = (kernelSize - 1) * dilation
    switch padding {
    case .valid: return (0, 0)
    case .same: return (total / 2, total - total / 2)
    case .causal: return (total, 0)
    }
}

@Suite("Conv1d")
struct Conv1dTests {
    @Test("every padding mode matches PyTorch's definition for K 1/2/3/5, d 1/2/3, groups 1/2/depthwise", arguments: allDevices)
    func paddingModes(device: Device) throws {
        // (Cin, Cout, groups): dense, two groups with a channel multiplier, depthwise.
        let channelConfigs = [(4, 6, 1), (4, 6, 2), (4, 4, 4)]
        var seed: UInt64 = 100
        for (inputChannels, outputChannels, groups) in channelConfigs {
            for kernelSize in [1, 2, 3, 5] {
                for dilation in [1, 2, 3] {
                    for padding in [Conv1d.Padding.valid, .same, .causal] {
                        // 13 is the receptive field of K 5, d 3 (a single valid output); 7 is
                        // shorter than most windows, so `same` reads zeros on both sides.
                        for length in [7, 13] {
                            let receptiveField = (kernelSize - 1) * dilation + 1
                            if padding == .valid, length < receptiveField { continue }
                            seed += 1
                            let withBias = seed % 5 != 0
                            let layer = try Random.withSeed(seed) {
                                try Conv1d(
                                    inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize,
                                    dilation: dilation, groups: groups, padding: padding, bias: withBias, device: device)
                            }
                            let x = try Tensor.normal([2, inputChannels, length], seed: seed, device: device)
                            let y = try layer(x)
                            let (left, right) = pads(padding, kernelSize: kernelSize, dilation: dilation)
                            let outputLength = length + left + right - (receptiveField - 1)
                            let what = "\(padding) Cin \(inputChannels) Cout \(outputChannels) g \(groups) K \(kernelSize) d \(dilation) L \(length) bias \(withBias) on \(device.id)"
                            #expect(y.shape == [2, outputChannels, outputLength], "\(what)")
                            #expect(outputLength == (padding == .valid ? length - (receptiveField - 1) : length), "\(what)")
                            let expected = referenceConv1d(
                                try x.values, weight: try layer.weight.value.values, bias: try layer.bias?.value.values,
                                batch: 2, inputChannels: inputChannels, outputChannels: outputChannels, length: length,
                                kernelSize: kernelSize, dilation: dilation, groups: groups, left: left, right: right)
                            // At most 20 float32 products of values ~1 against a Double reference.
                            expectClose(try y.values, expected, Tolerance(absolute: 1e-5, relative: 1e-5), what)
                        }
                    }
                }
            }
        }
    }

    @Test("unbatched [Cin, L] input gives [Cout, L'], as the batch of one", arguments: allDevices)
    func unbatched(device: Device) throws {
        let layer = try Random.withSeed(4) {
            try Conv1d(inputChannels: 3, outputChannels: 5, kernelSize: 3, dilation: 2, padding: .same, device: device)
        }
        let x = try Tensor.normal([3, 9], seed: 8, device: device)
        let y = try layer(x)
        #expect(y.shape == [5, 9])
        #expect(try y.values == layer(x.reshaped([1, 3, 9])).values)
    }

    @Test("state_dict keys and shapes are PyTorch's; a state dict loads back")
    func stateDict() throws {
        let layer = try Random.withSeed(1) {
            try Conv1d(inputChannels: 6, outputChannels: 4, kernelSize: 3, dilation: 2, groups: 2, padding: .causal)
        }
        #expect(layer.stateDict().map(\.key) == ["weight", "bias"])
        #expect(layer.weight.shape == [4, 3, 3])
        #expect(layer.bias?.shape == [4])
        let noBias = try Conv1d(inputChannels: 6, outputChannels: 4, kernelSize: 3, bias: false)
        #expect(noBias.stateDict().map(\.key) == ["weight"])
        #expect(noBias.weight.shape == [4, 6, 3])

        for device in allDevices {
            let copy = try Random.withSeed(2) {
                try Conv1d(inputChannels: 6, outputChannels: 4, kernelSize: 3, dilation: 2, groups: 2, padding: .causal, device: device)
            }
            try copy.load(stateDict: Dictionary(uniqueKeysWithValues: layer.stateDict().map { ($0.key, $0.tensor) }))
            #expect(copy.device == device)
            #expect(bits(try copy.weight.value.values) == bits(try layer.weight.value.values))
            #expect(bits(try #require(copy.bias).value.values) == bits(try #require(layer.bias).value.values))
            let x = try Tensor.normal([2, 6, 10], seed: 3)
            expectClose(
                try copy(x.to(device)).values, try layer(x).values, Tolerance(absolute: 1e-5, relative: 1e-5),
                "loaded copy on \(device.id)")
        }
        // A [Cout, Cin, K] weight does not fit a grouped layer's [Cout, Cin/groups, K].
        expectTempoError(containing: ["weight"]) {
            try layer.load(stateDict: ["weight": try Tensor.zeros([4, 6, 3]), "bias": try Tensor.zeros([4])])
        }
    }

    @Test("fresh parameters follow PyTorch's default U(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn = Cin/groups * K")
    func initialisation() throws {
        let layer = try Random.withSeed(5) {
            try Conv1d(inputChannels: 64, outputChannels: 96, kernelSize: 5, groups: 2)
        }
        let fanIn = 64 / 2 * 5
        let bound = 1 / Float(fanIn).squareRoot()
        let weights = try layer.weight.value.values
        let biases = try #require(try layer.bias?.value.values)
        #expect(weights.allSatisfy { abs($0) <= bound } && biases.allSatisfy { abs($0) <= bound })
        // Uniform variance bound^2 / 3; 15,360 draws give a standard error of ~0.7% on it.
        let variance = weights.map { $0 * $0 }.reduce(0, +) / Float(weights.count)
        #expect(abs(variance / (bound * bound / 3) - 1) < 0.04)
        // The fan-in divides by groups: a bound from Cin * K would be 1/sqrt(2) of this one.
        let ungroupedBound = 1 / Float(64 * 5).squareRoot()
        #expect(weights.contains { abs($0) > ungroupedBound })
        #expect(biases.contains { abs($0) > ungroupedBound })
    }

    @Test("bad arguments and inputs throw errors naming them", arguments: allDevices)
    func errors(device: Device) throws {
        let layer = try Conv1d(inputChannels: 4, outputChannels: 2, kernelSize: 3, dilation: 2, device: device)
        expectTempoError(containing: ["`x`", "[B, 4, L]", "[2, 3, 9]"]) { _ = try layer(Tensor.zeros([2, 3, 9], device: device)) }
        expectTempoError(containing: ["`x`", "[B, 4, L]", "[9]"]) { _ = try layer(Tensor.zeros([9], device: device)) }
        // Receptive field (3-1)*2+1 = 5: L 5 gives one output, L 4 none.
        #expect(try layer(Tensor.zeros([2, 4, 5], device: device)).shape == [2, 2, 1])
        expectTempoError(containing: ["`x`", "receptive field", "5", ".valid", "[2, 4, 4]"]) {
            _ = try layer(Tensor.zeros([2, 4, 4], device: device))
        }
        expectTempoError(containing: ["`groups`", "inputChannels = 4", "3"]) {
            _ = try Conv1d(inputChannels: 4, outputChannels: 6, kernelSize: 3, groups: 3)
        }
        expectTempoError(containing: ["`groups`", "outputChannels = 6", "4"]) {
            _ = try Conv1d(inputChannels: 4, outputChannels: 6, kernelSize: 3, groups: 4)
        }
        for (name, make) in [
            ("inputChannels", { try Conv1d(inputChannels: 0, outputChannels: 2, kernelSize: 3) }),
            ("outputChannels", { try Conv1d(inputChannels: 2, outputChannels: 0, kernelSize: 3) }),
            ("kernelSize", { try Conv1d(inputChannels: 2, outputChannels: 2, kernelSize: 0) }),
            ("dilation", { try Conv1d(inputChannels: 2, outputChannels: 2, kernelSize: 3, dilation: 0) }),
            ("groups", { try Conv1d(inputChannels: 2, outputChannels: 2, kernelSize: 3, groups: 0) }),
        ] as [(String, () throws -> Conv1d)] {
            expectTempoError(containing: ["`\(name)`", "at least 1"]) { _ = try make() }
        }
        expectTempoError(containing: ["`dilation`", "below"]) {
            _ = try Conv1d(inputChannels: 2, outputChannels: 2, kernelSize: 3, dilation: Int.max / 2)
        }
    }
}
