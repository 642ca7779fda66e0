import Tempo

extension Catalog {
    /// The recurrent ops: one layer, one direction, biases, zero initial state, as
    /// `../shared/peers/peer_bench.py` times PyTorch's `nn.LSTM`/`nn.GRU`/`nn.RNN` and ONNX
    /// Runtime's `LSTM`/`GRU`.
    static let recurrentOps: [OpDefinition] = [("lstm", 4), ("gru", 3), ("rnn", 1)].map { op, gates in
        OpDefinition(
            name: op, keys: ["B", "T", "I", "H"],
            defaults: ["B": .int(32), "T": .int(128), "I": .int(256), "H": .int(256)],
            formula: "2*B*T*\(gates)H*(I+H) FLOP (gate math not counted)"
        ) { s in recurrent(op, batch: s.int("B"), steps: s.int("T"), inputSize: s.int("I"), hiddenSize: s.int("H")) }
    }

    /// The peers' recurrent shapes (B, T, I, H).
    static let recurrentShapes = [(1, 128, 256, 256), (32, 128, 256, 256), (64, 64, 512, 512)]

    static func recurrent(_ op: String, batch: Int, steps: Int, inputSize: Int, hiddenSize: Int) -> BenchCase {
        let cell: RecurrentCell = switch op {
        case "lstm": .lstm()
        case "gru": .gru(.resetAfterMatmul)
        default: .rnn(.tanh)
        }
        let gateRows = cell.gateCount * hiddenSize
        let flops = 2 * Double(batch * steps * gateRows) * Double(inputSize + hiddenSize)
        return BenchCase(
            op: op, shape: [("B", .int(batch)), ("T", .int(steps)), ("I", .int(inputSize)), ("H", .int(hiddenSize))],
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
    }
}
