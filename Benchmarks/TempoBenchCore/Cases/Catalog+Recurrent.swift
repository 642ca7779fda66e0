import Tempo

extension Catalog {
    /// The recurrent ops: one layer, one direction, biases, zero initial state, as
    /// `../shared/peers/peer_bench.py` times PyTorch's `nn.LSTM`/`nn.GRU`/`nn.RNN` and ONNX
    /// Runtime's `LSTM`/`GRU`. `idle_ms` (Tempo's own key, shown only when set) sleeps that long
    /// before each timed call, so that it starts from sleeping threads.
    static let recurrentOps: [OpDefinition] = [("lstm", 4), ("gru", 3), ("rnn", 1)].map { op, gates in
        OpDefinition(
            name: op, keys: ["B", "T", "I", "H", "idle_ms"],
            defaults: ["B": .int(32), "T": .int(128), "I": .int(256), "H": .int(256), "idle_ms": .int(0)],
            formula: "2*B*T*\(gates)H*(I+H) FLOP (gate math not counted)"
        ) { s in
            recurrent(
                op, batch: s.int("B"), steps: s.int("T"), inputSize: s.int("I"), hiddenSize: s.int("H"),
                idleMilliseconds: s.int("idle_ms"))
        }
    }

    /// The peers' recurrent shapes (B, T, I, H).
    static let recurrentShapes = [(1, 128, 256, 256), (32, 128, 256, 256), (64, 64, 512, 512)]

    static func recurrent(
        _ op: String, batch: Int, steps: Int, inputSize: Int, hiddenSize: Int, idleMilliseconds: Int = 0
    ) -> BenchCase {
        let cell: RecurrentCell = switch op {
        case "lstm": .lstm()
        case "gru": .gru(.resetAfterMatmul)
        default: .rnn(.tanh)
        }
        let gateRows = cell.gateCount * hiddenSize
        let flops = 2 * Double(batch * steps * gateRows) * Double(inputSize + hiddenSize)
        // The peers have no idle key: a shape without it still lines up with theirs in --compare.
        let idle: [(key: String, value: ShapeValue)] = idleMilliseconds > 0 ? [("idle_ms", .int(idleMilliseconds))] : []
        var benchCase = BenchCase(
            op: op, shape: [("B", .int(batch)), ("T", .int(steps)), ("I", .int(inputSize)), ("H", .int(hiddenSize))] + idle,
            flops: flops, bytes: 0, tolerance: (1e-4, 1e-3)
        ) { device in
            // PyTorch's initialisation range, so the gates work where trained networks' do.
            let bound = 1 / Float(hiddenSize).squareRoot()
            let weights = RecurrentWeights(
                input: try Tensor.uniform([gateRows, inputSize], in: -bound...bound, seed: 1, device: device),
                hidden: try Tensor.uniform([gateRows, hiddenSize], in: -bound...bound, seed: 2, device: device),
                inputBias: try Tensor.uniform([gateRows], in: -bound...bound, seed: 3, device: device),
                hiddenBias: try Tensor.uniform([gateRows], in: -bound...bound, seed: 4, device: device))
            let x = try Tensor.normal([steps, batch, inputSize], seed: 5, device: device)
            return { try x.recurrentSequence(cell: cell, weights: [weights]).output }
        }
        benchCase.idleMilliseconds = Double(idleMilliseconds)
        return benchCase
    }
}
