import Tempo

extension Catalog {
    /// The causal convolution as `../shared/peers/peer_bench.py` times ONNX Runtime's `Conv` with
    /// left pads and PyTorch's padded-and-cut `Conv1d`: keys B, Cin, Cout, L, K, dilation.
    static let causalConvOps: [OpDefinition] = [
        OpDefinition(
            name: "conv1d", keys: ["B", "Cin", "Cout", "L", "K", "dilation"],
            defaults: ["B": .int(16), "Cin": .int(128), "Cout": .int(128), "L": .int(1024), "K": .int(3), "dilation": .int(1)],
            formula: "2*B*Cout*L*Cin*K FLOP (causal: output length = input length)"
        ) { s in
            causalConv1d(
                batch: s.int("B"), inputChannels: s.int("Cin"), outputChannels: s.int("Cout"), length: s.int("L"),
                kernelSize: s.int("K"), dilation: s.int("dilation"))
        },
        OpDefinition(
            name: "conv1d_step", keys: ["B", "Cin", "Cout", "K", "dilation"],
            defaults: ["B": .int(16), "Cin": .int(128), "Cout": .int(128), "K": .int(3), "dilation": .int(1)],
            formula: "2*B*Cout*Cin*K FLOP per step (one streaming step of conv1d, history appended)"
        ) { s in
            causalConv1dStep(
                batch: s.int("B"), inputChannels: s.int("Cin"), outputChannels: s.int("Cout"), kernelSize: s.int("K"),
                dilation: s.int("dilation"))
        },
    ]

    /// The peers' dilations at B = 16, C = 128, L = 1024, K = 3.
    static let causalConvDilations = [1, 2, 4, 8]

    static func causalConv1d(
        batch: Int, inputChannels: Int, outputChannels: Int, length: Int, kernelSize: Int, dilation: Int
    ) -> BenchCase {
        let flops = 2 * Double(batch * outputChannels * length) * Double(inputChannels * kernelSize)
        return BenchCase(
            op: "conv1d",
            shape: [
                ("B", .int(batch)), ("Cin", .int(inputChannels)), ("Cout", .int(outputChannels)), ("L", .int(length)),
                ("K", .int(kernelSize)), ("dilation", .int(dilation)),
            ],
            flops: flops, bytes: 4 * Double(batch * (inputChannels + outputChannels) * length),
            tolerance: (1e-5 * Float(inputChannels * kernelSize).squareRoot(), 1e-4)
        ) { device in
            // PyTorch's Conv1d initialisation range.
            let bound = 1 / Float(inputChannels * kernelSize).squareRoot()
            let x = try Tensor.normal([batch, inputChannels, length], seed: 1, device: device)
            let weight = try Tensor.uniform(
                [outputChannels, inputChannels, kernelSize], in: -bound...bound, seed: 2, device: device)
            let bias = try Tensor.uniform([outputChannels], in: -bound...bound, seed: 3, device: device)
            return { try x.causalConv1d(weight: weight, bias: bias, dilation: dilation) }
        }
    }

    /// One step per timed call, each appending to the same history (its cost does not depend on
    /// the step count). The first call, the one verification compares across devices, starts from
    /// an empty history on every device.
    static func causalConv1dStep(
        batch: Int, inputChannels: Int, outputChannels: Int, kernelSize: Int, dilation: Int
    ) -> BenchCase {
        BenchCase(
            op: "conv1d_step",
            shape: [
                ("B", .int(batch)), ("Cin", .int(inputChannels)), ("Cout", .int(outputChannels)), ("K", .int(kernelSize)),
                ("dilation", .int(dilation)),
            ],
            flops: 2 * Double(batch * outputChannels) * Double(inputChannels * kernelSize),
            bytes: 4 * Double(outputChannels * inputChannels * kernelSize + batch * (inputChannels + outputChannels)),
            tolerance: (1e-5 * Float(inputChannels * kernelSize).squareRoot(), 1e-4)
        ) { device in
            let bound = 1 / Float(inputChannels * kernelSize).squareRoot()
            let x = try Tensor.normal([batch, inputChannels], seed: 1, device: device)
            let weight = try Tensor.uniform(
                [outputChannels, inputChannels, kernelSize], in: -bound...bound, seed: 2, device: device)
            let bias = try Tensor.uniform([outputChannels], in: -bound...bound, seed: 3, device: device)
            let stream = StepStream(try CausalConv1dHistory(batch: batch, weight: weight, dilation: dilation))
            return { try x.causalConv1dStep(weight: weight, bias: bias, dilation: dilation, history: stream.history) }
        }
    }
}

/// A step case's history, carried into its `@Sendable` call. `@unchecked Sendable`: the runner
/// calls a case's call from one thread, one call at a time, which is all a history asks.
private final class StepStream: @unchecked Sendable {
    let history: CausalConv1dHistory

    init(_ history: CausalConv1dHistory) {
        self.history = history
    }
}
