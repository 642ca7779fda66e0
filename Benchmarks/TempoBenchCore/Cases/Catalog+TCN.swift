import Tempo

extension Catalog {
    /// A whole temporal convolutional network (locuslab's `TemporalConvNet`) in eval mode:
    /// `blocks` blocks of C -> C channels (so no downsample), dilations 1, 2, 4, ..., keys B, C,
    /// L, K, blocks. The weight norm is computed at the first call and kept, so the timed calls
    /// are the 2 * blocks causal convolutions and the elementwise ReLUs and residual sums.
    static let tcnOps: [OpDefinition] = [
        OpDefinition(
            name: "tcn", keys: ["B", "C", "L", "K", "blocks"],
            defaults: ["B": .int(16), "C": .int(128), "L": .int(1024), "K": .int(3), "blocks": .int(4)],
            formula: "sum over the 2*blocks convolutions of 2*B*Cout*L*Cin*K FLOP = blocks*4*B*C*L*C*K (ReLUs and sums not counted)"
        ) { s in
            tcn(batch: s.int("B"), channels: s.int("C"), length: s.int("L"), kernelSize: s.int("K"), blocks: s.int("blocks"))
        },
        OpDefinition(
            name: "tcn_step", keys: ["B", "C", "K", "blocks"],
            defaults: ["B": .int(16), "C": .int(128), "K": .int(3), "blocks": .int(4)],
            formula: "one streamed sample through the network: blocks*4*B*C*C*K FLOP (one column per convolution)"
        ) { s in
            tcnStep(batch: s.int("B"), channels: s.int("C"), kernelSize: s.int("K"), blocks: s.int("blocks"))
        },
    ]

    /// The network `tcn` and `tcn_step` time: `blocks` blocks of C -> C channels, seeded so that
    /// every device gets the same weights (drawn on the host), in eval mode.
    private static func benchmarkNetwork(channels: Int, kernelSize: Int, blocks: Int, device: Device) throws -> TCN {
        let network = try Random.withSeed(1) {
            try TCN(inputChannels: channels, channels: Array(repeating: channels, count: blocks), kernelSize: kernelSize, device: device)
        }
        network.eval()
        return network
    }

    /// One sample of B streams through the whole network per call (``TCN/step(_:state:)``); the
    /// state carries on from call to call, as a stream's does. Set beside `tcn` at L = the
    /// receptive field, it gives the streaming saving: what a new sample costs against
    /// recomputing the window it sees.
    static func tcnStep(batch: Int, channels: Int, kernelSize: Int, blocks: Int) -> BenchCase {
        BenchCase(
            op: "tcn_step",
            shape: [("B", .int(batch)), ("C", .int(channels)), ("K", .int(kernelSize)), ("blocks", .int(blocks))],
            flops: Double(4 * blocks) * Double(batch * channels) * Double(channels * kernelSize),
            bytes: 4 * Double(4 * blocks * channels * channels * kernelSize),
            tolerance: (1e-5 * Float(2 * blocks * channels * kernelSize).squareRoot(), 1e-3)
        ) { device in
            let network = try benchmarkNetwork(channels: channels, kernelSize: kernelSize, blocks: blocks, device: device)
            let state = try network.makeStreamingState(batch: batch)
            let x = try Tensor.normal([batch, channels], seed: 2, device: device)
            let stream = try UnsharedModel(network, state: state)
            return { try stream.network.step(x, state: stream.state) }
        }
    }

    static func tcn(batch: Int, channels: Int, length: Int, kernelSize: Int, blocks: Int) -> BenchCase {
        let perConvolution = 2 * Double(batch * channels * length) * Double(channels * kernelSize)
        return BenchCase(
            op: "tcn",
            shape: [("B", .int(batch)), ("C", .int(channels)), ("L", .int(length)), ("K", .int(kernelSize)), ("blocks", .int(blocks))],
            flops: Double(2 * blocks) * perConvolution, bytes: 8 * Double(batch * channels * length),
            // 2*blocks convolutions deep, each as conv1d's tolerance allows.
            tolerance: (1e-5 * Float(2 * blocks * channels * kernelSize).squareRoot(), 1e-3)
        ) { device in
            let network = try benchmarkNetwork(channels: channels, kernelSize: kernelSize, blocks: blocks, device: device)
            let x = try Tensor.normal([batch, channels, length], seed: 2, device: device)
            let model = try UnsharedModel(network)
            return { try model.network(x) }
        }
    }
}

/// A module (and a stream's state) handed to a benchmark call. `@unchecked Sendable`: modules are not `Sendable`, but the
/// runner makes and calls each case's closure on one thread at a time, so the module never has two
/// users at once.
private final class UnsharedModel: @unchecked Sendable {
    let network: TCN
    /// The stream `tcn_step` feeds (unused by `tcn`).
    let state: TCN.StreamingState

    init(_ network: TCN, state: TCN.StreamingState? = nil) throws {
        self.network = network
        self.state = try state ?? network.makeStreamingState(batch: 1)
    }
}
