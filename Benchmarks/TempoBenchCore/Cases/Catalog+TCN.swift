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
    ]

    static func tcn(batch: Int, channels: Int, length: Int, kernelSize: Int, blocks: Int) -> BenchCase {
        let perConvolution = 2 * Double(batch * channels * length) * Double(channels * kernelSize)
        return BenchCase(
            op: "tcn",
            shape: [("B", .int(batch)), ("C", .int(channels)), ("L", .int(length)), ("K", .int(kernelSize)), ("blocks", .int(blocks))],
            flops: Double(2 * blocks) * perConvolution, bytes: 8 * Double(batch * channels * length),
            // 2*blocks convolutions deep, each as conv1d's tolerance allows.
            tolerance: (1e-5 * Float(2 * blocks * channels * kernelSize).squareRoot(), 1e-3)
        ) { device in
            // Seeded, so every device gets the same weights (they are drawn on the host).
            let network = try Random.withSeed(1) {
                try TCN(
                    inputChannels: channels, channels: Array(repeating: channels, count: blocks), kernelSize: kernelSize,
                    device: device)
            }
            network.eval()
            let x = try Tensor.normal([batch, channels, length], seed: 2, device: device)
            let model = UnsharedModel(network)
            return { try model.network(x) }
        }
    }
}

/// A module handed to a benchmark call. `@unchecked Sendable`: modules are not `Sendable`, but the
/// runner makes and calls each case's closure on one thread at a time, so the module never has two
/// users at once.
private final class UnsharedModel: @unchecked Sendable {
    let network: TCN

    init(_ network: TCN) {
        self.network = network
    }
}
