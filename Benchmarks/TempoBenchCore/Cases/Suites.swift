/// The suites `--suite` selects. Each op issue adds its cases here.
public enum Suite: String, CaseIterable, Sendable {
    /// Small shapes and few repetitions: a smoke test that finishes in well under a minute.
    case quick
    /// The shapes of `../shared/peers/peer_bench.py`, so results line up with the peers'.
    case `default`
    /// The default suite plus more sizes: awkward, small-M (recurrent-like) and large GEMMs.
    case full
    /// A streaming TCN's step against recomputing the window it sees, at B 16 and B 1, timed in
    /// turn round by round (``interleaved``) so that each ratio compares the same machine states.
    case stream

    public var cases: [BenchCase] {
        switch self {
        case .quick:
            return [
                Catalog.sgemm(m: 512, n: 512, k: 512),
                Catalog.add(n: 1 << 20),
                Catalog.activation(.tanh, op: "tanh", n: 1 << 20),
                Catalog.activation(.gelu, op: "gelu", n: 1 << 20),
                Catalog.softmax(rows: 2048, columns: 512),
                Catalog.layerNorm(rows: 2048, columns: 512),
                Catalog.transpose(batch: 8, rows: 512, columns: 512),
                Catalog.recurrent("lstm", batch: 8, steps: 32, inputSize: 64, hiddenSize: 64),
                Catalog.recurrent("gru", batch: 8, steps: 32, inputSize: 64, hiddenSize: 64),
                Catalog.recurrent("rnn", batch: 8, steps: 32, inputSize: 64, hiddenSize: 64),
                Catalog.causalConv1d(batch: 4, inputChannels: 64, outputChannels: 64, length: 256, kernelSize: 3, dilation: 2),
                Catalog.causalConv1dStep(batch: 4, inputChannels: 64, outputChannels: 64, kernelSize: 3, dilation: 2),
                Catalog.tcn(batch: 4, channels: 32, length: 256, kernelSize: 3, blocks: 2),
                Catalog.tcnStep(batch: 4, channels: 32, kernelSize: 3, blocks: 2),
                Catalog.attention(batch: 2, heads: 4, length: 128, headDimension: 32, causal: false),
                Catalog.attention(batch: 2, heads: 4, length: 128, headDimension: 32, causal: true),
            ]
        case .default:
            return [
                Catalog.sgemm(m: 1024, n: 1024, k: 1024),
                Catalog.sgemm(m: 2048, n: 2048, k: 2048),
                Catalog.add(n: 1 << 24),
                Catalog.activation(.tanh, op: "tanh", n: 1 << 24),
                Catalog.activation(.gelu, op: "gelu", n: 1 << 24),
                Catalog.softmax(rows: 8 * 8 * 512, columns: 512),
                Catalog.layerNorm(rows: 8 * 512, columns: 512),
                Catalog.transpose(batch: 64, rows: 512, columns: 512),
            ] + ["lstm", "gru", "rnn"].flatMap { op in
                Catalog.recurrentShapes.map { b, t, i, h in
                    Catalog.recurrent(op, batch: b, steps: t, inputSize: i, hiddenSize: h)
                }
            } + [
                // An occasional call: the team's threads have gone to sleep since the last one.
                Catalog.recurrent("lstm", batch: 1, steps: 128, inputSize: 256, hiddenSize: 256, idleMilliseconds: 100),
            ] + Catalog.causalConvDilations.map { dilation in
                Catalog.causalConv1d(
                    batch: 16, inputChannels: 128, outputChannels: 128, length: 1024, kernelSize: 3, dilation: dilation)
            } + [Catalog.tcn(batch: 16, channels: 128, length: 1024, kernelSize: 3, blocks: 4)] + [16, 1].flatMap { batch in
                // A streaming TCN's step against recomputing the window it sees (the receptive
                // field, 61 samples for four blocks of K 3).
                [
                    Catalog.tcnStep(batch: batch, channels: 128, kernelSize: 3, blocks: 4),
                    Catalog.tcn(batch: batch, channels: 128, length: 61, kernelSize: 3, blocks: 4),
                ]
            } + [false, true].map { causal in
                Catalog.attention(batch: 8, heads: 8, length: 512, headDimension: 64, causal: causal)
            } + [
                Catalog.transformer(batch: 8, length: 512, width: 512, heads: 8, feedforward: 2048),
            ]
        case .stream:
            return [16, 1].flatMap { batch in
                [
                    Catalog.tcnStep(batch: batch, channels: 128, kernelSize: 3, blocks: 4),
                    Catalog.tcn(batch: batch, channels: 128, length: 61, kernelSize: 3, blocks: 4),
                ]
            }
        case .full:
            return Suite.default.cases + [
                Catalog.sgemm(m: 1000, n: 1000, k: 1000),
                Catalog.sgemm(m: 4096, n: 4096, k: 4096),
                // The recurrent shapes: a batch of 32 (or 1) rows against a 1024-wide gate matrix.
                Catalog.sgemm(m: 32, n: 1024, k: 256),
                Catalog.sgemm(m: 1, n: 1024, k: 256),
                Catalog.sgemm(m: 257, n: 33, k: 1000),
                Catalog.softmax(rows: 8 * 8 * 2048, columns: 2048),
                Catalog.layerNorm(rows: 8 * 512, columns: 2048),
                // Attention's memory case: S x S scores for 8 heads would be 2 GiB; flash
                // attention's working memory (the work MB column) is the 16 MiB output and a few
                // tiles. About a second per call, so not in the default suite.
                Catalog.attention(batch: 1, heads: 8, length: 8192, headDimension: 64, causal: false),
            ] + [16, 1].flatMap { batch in
                // A streaming TCN's step against recomputing its receptive field (61 samples for
                // four blocks of K 3 at dilations 1, 2, 4, 8).
                [
                    Catalog.causalConv1dStep(batch: batch, inputChannels: 128, outputChannels: 128, kernelSize: 3, dilation: 1),
                    Catalog.causalConv1d(
                        batch: batch, inputChannels: 128, outputChannels: 128, length: 61, kernelSize: 3, dilation: 1),
                ]
            }
        }
    }

    /// Repetitions when the command line does not say.
    public var defaultRepetitions: Int {
        switch self {
        case .quick: 5
        case .default, .full: 10
        // Many short calls: a step's cost depends on where the sample falls in the pairs of
        // every block's dilation (see `causal_conv1d_step.c`), a cycle of 16 samples here.
        case .stream: 320
        }
    }
    public var defaultWarmup: Int { self == .quick ? 1 : 3 }

    /// Whether the runner times this suite's cases call by call in turn rather than case by case:
    /// for suites whose point is the ratio between their cases, on a machine whose speed drifts.
    public var interleaved: Bool { self == .stream }
}
