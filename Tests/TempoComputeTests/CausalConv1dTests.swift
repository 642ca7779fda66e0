import Foundation
import TempoTestSupport
import Testing

@testable import TempoCompute

/// One configuration of the causal convolution with seeded inputs.
struct CausalConvCase: CustomStringConvertible, Sendable {
    var batch = 2
    var inputChannels: Int
    var outputChannels: Int
    var length: Int
    var kernelSize: Int
    var dilation: Int
    var groups = 1
    var bias = true

    var description: String {
        "B\(batch) Cin\(inputChannels) Cout\(outputChannels) L\(length) K\(kernelSize) d\(dilation) g\(groups)"
            + (bias ? "" : " nobias")
    }

    private func values(_ count: Int, _ seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in generator.nextFloat(in: -1...1) }
    }

    var x: [Float] { values(batch * inputChannels * length, 1) }
    var weight: [Float] { values(outputChannels * (inputChannels / groups) * kernelSize, 2) }
    var biasValues: [Float]? { bias ? values(outputChannels, 3) : nil }

    /// The weight `[Cout, Cin/groups, K]` and the bias on `device`.
    func parameters(on device: Device) throws -> (weight: Tensor, bias: Tensor?) {
        (try Tensor(shape: [outputChannels, inputChannels / groups, kernelSize], values: weight, device: device),
         try biasValues.map { try Tensor(shape: [outputChannels], values: $0, device: device) })
    }

    func run(on device: Device) throws -> Tensor {
        let input = try Tensor(shape: [batch, inputChannels, length], values: x, device: device)
        let (w, b) = try parameters(on: device)
        return try input.causalConv1d(weight: w, bias: b, dilation: dilation, groups: groups)
    }

    func reference() -> [Float] {
        Reference.causalConv1d(
            x, weight: weight, bias: biasValues, batch: batch, inputChannels: inputChannels,
            outputChannels: outputChannels, length: length, kernelSize: kernelSize, dilation: dilation, groups: groups)
    }

    /// Float32 sums of Cin/groups * K products in another order than the Double reference.
    var tolerance: Tolerance {
        Tolerance(absolute: 2e-6 * Float((inputChannels / groups * kernelSize)).squareRoot() + 1e-6, relative: 1e-5)
    }
}

@Suite("Causal convolution")
struct CausalConv1dTests {
    private func check(_ c: CausalConvCase, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = c.reference()
        for device in TestDevices.all {
            let y = try c.run(on: device)
            #expect(y.shape == [c.batch, c.outputChannels, c.length], sourceLocation: sourceLocation)
            expectClose(try y.values, expected, c.tolerance, "\(c) on \(device.id)", sourceLocation: sourceLocation)
        }
    }

    @Test("a fused epilogue equals the convolution followed by it: Winograd, GEMM and direct CPU paths, every device")
    func epilogue() throws {
        let cases = [
            // Winograd on the CPU (K 3, power-of-two dilation), over two 128-step items.
            CausalConvCase(batch: 2, inputChannels: 5, outputChannels: 7, length: 150, kernelSize: 3, dilation: 2),
            // GEMMs per tap.
            CausalConvCase(batch: 2, inputChannels: 5, outputChannels: 7, length: 40, kernelSize: 2, dilation: 3),
            // The direct depthwise loop.
            CausalConvCase(batch: 2, inputChannels: 6, outputChannels: 6, length: 33, kernelSize: 3, dilation: 1, groups: 6),
        ]
        for (index, c) in cases.enumerated() {
            let plain = c.reference()
            let residualValues = plain.indices.map { Float(Foundation.sin(Double($0) * 0.37)) }
            for variant in 0..<6 {
                let epilogue = EpilogueReference.variety(index * 6 + variant)
                let expected = plain.indices.map {
                    epilogue.apply(Double(plain[$0]), residual: epilogue.residual ? Double(residualValues[$0]) : nil)
                }
                for device in TestDevices.all {
                    let input = try Tensor(shape: [c.batch, c.inputChannels, c.length], values: c.x, device: device)
                    let (weight, bias) = try c.parameters(on: device)
                    let residual = epilogue.residual
                        ? try Tensor(shape: [c.batch, c.outputChannels, c.length], values: residualValues, device: device) : nil
                    let y = try input.causalConv1d(
                        weight: weight, bias: bias, dilation: c.dilation, groups: c.groups,
                        activation: epilogue.activation, residual: residual, outputActivation: epilogue.outputActivation)
                    expectClose(try y.values, expected, c.tolerance, "\(c) \(epilogue) on \(device.id)")
                }
            }
        }
        // The residual must be shaped as the output.
        let c = cases[0]
        let input = try Tensor(shape: [c.batch, c.inputChannels, c.length], values: c.x, device: .cpu)
        let (weight, _) = try c.parameters(on: .cpu)
        #expect(throws: TempoError.shapeMismatch(
            argument: "residual", expected: "[B, Cout, L] = [2, 7, 150]", actual: [2, 7, 149])) {
            try input.causalConv1d(weight: weight, dilation: 2, residual: try Tensor.zeros([2, 7, 149]))
        }
    }

    @Test("K 1, 2, 3, 5 and d 1, 2, 4, 8, 16 match the Double reference on every device", arguments: [1, 2, 3, 5])
    func kernelSizesAndDilations(kernelSize: Int) throws {
        for dilation in [1, 2, 4, 8, 16] {
            try check(CausalConvCase(inputChannels: 3, outputChannels: 17, length: 40, kernelSize: kernelSize, dilation: dilation))
        }
    }

    @Test("channel counts 1, 3, 17, 64, grouped and depthwise", arguments: [1, 3, 17, 64])
    func channels(channels: Int) throws {
        try check(CausalConvCase(inputChannels: channels, outputChannels: channels, length: 33, kernelSize: 3, dilation: 2))
        try check(CausalConvCase(
            inputChannels: channels, outputChannels: channels, length: 33, kernelSize: 3, dilation: 2, groups: channels))
        if channels.isMultiple(of: 2) || channels == 1 {
            let groups = channels == 1 ? 1 : 2
            try check(CausalConvCase(
                inputChannels: channels, outputChannels: 2 * channels, length: 20, kernelSize: 2, dilation: 1, groups: groups))
        }
    }

    @Test("short sequences: L = 1 and L shorter than the receptive field")
    func shortSequences() throws {
        for length in [1, 2, 7] {
            try check(CausalConvCase(inputChannels: 5, outputChannels: 4, length: length, kernelSize: 3, dilation: 4))
            try check(CausalConvCase(inputChannels: 5, outputChannels: 4, length: length, kernelSize: 5, dilation: 16, bias: false))
        }
    }

    @Test("larger sizes, where the backends take their blocked paths")
    func larger() throws {
        try check(CausalConvCase(batch: 3, inputChannels: 70, outputChannels: 129, length: 257, kernelSize: 3, dilation: 8))
        try check(CausalConvCase(batch: 1, inputChannels: 128, outputChannels: 128, length: 300, kernelSize: 3, dilation: 2))
    }

    @Test("causal: changing the input at t changes no output before t")
    func causality() throws {
        let c = CausalConvCase(inputChannels: 4, outputChannels: 6, length: 30, kernelSize: 3, dilation: 4)
        for device in TestDevices.all {
            let w = try Tensor(shape: [6, 4, 3], values: c.weight, device: device)
            let before = try Tensor(shape: [2, 4, 30], values: c.x, device: device).causalConv1d(weight: w, dilation: 4)
            var changed = c.x
            for channel in 0..<4 { changed[channel * 30 + 17] += 1 }  // batch 0, t = 17
            let after = try Tensor(shape: [2, 4, 30], values: changed, device: device).causalConv1d(weight: w, dilation: 4)
            let (a, b) = (try before.values, try after.values)
            for o in 0..<6 {
                for t in 0..<30 {
                    let index = o * 30 + t
                    if t < 17 { #expect(a[index] == b[index], "output \(o), t \(t) on \(device.id)") }
                }
                // The change reaches t = 17, 21 and 25 (K = 3, d = 4).
                #expect(a[o * 30 + 17] != b[o * 30 + 17], "output \(o) at t 17 on \(device.id)")
            }
        }
    }

    @Test("matches ONNX Runtime's causal dilated Conv (../shared/reference conv1d_causal_dilated)")
    func onnxReference() throws {
        let directory = computeFixturesDirectory.appending(path: "conv1d_causal_dilated")
        let x = try readFloats(directory.appending(path: "x.f32"))
        let weight = try readFloats(directory.appending(path: "weight.f32"))
        let bias = try readFloats(directory.appending(path: "bias.f32"))
        let expected = try readFloats(directory.appending(path: "y.f32"))
        for device in TestDevices.all {
            let y = try Tensor(shape: [2, 3, 10], values: x, device: device).causalConv1d(
                weight: try Tensor(shape: [4, 3, 3], values: weight, device: device),
                bias: try Tensor(shape: [4], values: bias, device: device), dilation: 2)
            expectClose(try y.values, expected, Tolerance(absolute: 1e-5, relative: 1e-4), "conv1d_causal_dilated on \(device.id)")
        }
    }

    @Test("bad input throws naming the argument")
    func badInput() throws {
        let x = try Tensor.zeros([2, 6, 10])
        let w = try Tensor.zeros([4, 6, 3])
        expectTempoError(containing: ["dilation"]) { _ = try x.causalConv1d(weight: w, dilation: 0) }
        expectTempoError(containing: ["groups", "6"]) { _ = try x.causalConv1d(weight: try Tensor.zeros([4, 1, 3]), groups: 4) }
        expectTempoError(containing: ["groups", "output channels"]) {
            _ = try x.causalConv1d(weight: try Tensor.zeros([4, 2, 3]), groups: 3)
        }
        expectTempoError(containing: ["weight", "Cin/groups = 6"]) { _ = try x.causalConv1d(weight: try Tensor.zeros([4, 5, 3])) }
        expectTempoError(containing: ["bias", "[4]"]) { _ = try x.causalConv1d(weight: w, bias: try Tensor.zeros([5])) }
        expectTempoError(containing: ["input"]) { _ = try Tensor.zeros([6, 10]).causalConv1d(weight: w) }
        expectTempoError(containing: ["dilation"]) { _ = try x.causalConv1d(weight: w, dilation: Int(Int32.max)) }
    }
}
