import Foundation

@testable import TempoCompute

/// One direction's weights as plain arrays, PyTorch layout (see `RecurrentCell`).
struct ReferenceRecurrentWeights {
    var input: [Float]  // [G*H, I]
    var hidden: [Float]  // [G*H, R]
    var inputBias: [Float]?  // [G*H]
    var hiddenBias: [Float]?  // [G*H]
    var peephole: [Float]?  // [peepholeCount*H]
    var projection: [Float]?  // [P, H]
}

extension Reference {
    /// A recurrent layer in Double, written step by step from the equations in `RecurrentCell` and
    /// the length rule in `RecurrentSequenceDescriptor`, sharing no code with the backends.
    ///
    /// - Returns: output `[T, B, D*R]`, final hidden `[D, B, R]`, final cell `[D, B, H]` (empty
    ///   unless LSTM).
    static func recurrentSequence(
        cell: RecurrentCell, x: [Float], steps: Int, batch: Int, inputSize: Int, hiddenSize: Int,
        projectionSize: Int = 0, weights: [ReferenceRecurrentWeights], h0: [Float]?, c0: [Float]?, lengths: [Int]?
    ) -> (output: [Float], hidden: [Float], cell: [Float]) {
        let (T, B, I, H) = (steps, batch, inputSize, hiddenSize)
        let R = projectionSize > 0 ? projectionSize : H
        let D = weights.count
        var output = [Float](repeating: 0, count: T * B * D * R)
        var finalHidden = [Float](repeating: 0, count: D * B * R)
        var finalCell = [Float](repeating: 0, count: cell.hasCellState ? D * B * H : 0)

        func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }

        for d in 0..<D {
            let w = weights[d]
            for b in 0..<B {
                let length = lengths?[b] ?? T
                var h = (0..<R).map { Double(h0?[(d * B + b) * R + $0] ?? 0) }
                var c = (0..<H).map { Double(c0?[(d * B + b) * H + $0] ?? 0) }
                let times = d == 0 ? Array(0..<T) : Array((0..<T).reversed())
                for t in times where t < length {
                    // gx[g*H + j] and gh[g*H + j], biases included.
                    let xt = (0..<I).map { Double(x[(t * B + b) * I + $0]) }
                    func gx(_ row: Int) -> Double {
                        var s = Double(w.inputBias?[row] ?? 0)
                        for k in 0..<I { s += Double(w.input[row * I + k]) * xt[k] }
                        return s
                    }
                    func hiddenProduct(_ row: Int, _ state: [Double]) -> Double {
                        var s = 0.0
                        for k in 0..<R { s += Double(w.hidden[row * R + k]) * state[k] }
                        return s
                    }
                    func gh(_ row: Int) -> Double { Double(w.hiddenBias?[row] ?? 0) + hiddenProduct(row, h) }
                    func peep(_ block: Int, _ j: Int) -> Double { Double(w.peephole?[block * H + j] ?? 0) }

                    var newH = [Double](repeating: 0, count: H)
                    switch cell {
                    case .rnn(let nonlinearity):
                        for j in 0..<H {
                            let v = gx(j) + gh(j)
                            newH[j] = nonlinearity == .tanh ? tanh(v) : max(v, 0)
                        }
                    case .lstm(let peephole, let coupled):
                        let (fb, gb, ob) = coupled ? (0, 1, 2) : (1, 2, 3)
                        let (pf, po) = coupled ? (0, 1) : (1, 2)
                        for j in 0..<H {
                            let f = sigmoid(gx(fb * H + j) + gh(fb * H + j) + (peephole ? peep(pf, j) * c[j] : 0))
                            let i = coupled
                                ? 1 - f : sigmoid(gx(j) + gh(j) + (peephole ? peep(0, j) * c[j] : 0))
                            let g = tanh(gx(gb * H + j) + gh(gb * H + j))
                            let newC = f * c[j] + i * g
                            let o = sigmoid(gx(ob * H + j) + gh(ob * H + j) + (peephole ? peep(po, j) * newC : 0))
                            c[j] = newC
                            newH[j] = o * tanh(newC)
                        }
                    case .gru(let form):
                        let r = (0..<H).map { sigmoid(gx($0) + gh($0)) }
                        let resetState = (0..<R).map { r[$0] * h[$0] }
                        for j in 0..<H {
                            let z = sigmoid(gx(H + j) + gh(H + j))
                            let row = 2 * H + j
                            let n = form == .resetAfterMatmul
                                ? tanh(gx(row) + r[j] * gh(row))
                                : tanh(gx(row) + hiddenProduct(row, resetState) + Double(w.hiddenBias?[row] ?? 0))
                            newH[j] = (1 - z) * n + z * h[j]
                        }
                    }
                    if let projection = w.projection {
                        h = (0..<R).map { p in (0..<H).reduce(0.0) { $0 + Double(projection[p * H + $1]) * newH[$1] } }
                    } else {
                        h = newH
                    }
                    for k in 0..<R { output[(t * B + b) * D * R + d * R + k] = Float(h[k]) }
                }
                for k in 0..<R { finalHidden[(d * B + b) * R + k] = Float(h[k]) }
                if cell.hasCellState {
                    for j in 0..<H { finalCell[(d * B + b) * H + j] = Float(c[j]) }
                }
            }
        }
        return (output, finalHidden, finalCell)
    }
}
