import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

/// Wrong calls of the recurrent layers throw before anything runs, naming the argument, what the
/// layer expected and what it got.
@Suite("Recurrent layer errors")
struct RecurrentErrorTests {
    let lstm: LSTM
    let gru: GRU

    init() throws {
        lstm = try LSTM(inputSize: 5, hiddenSize: 4, layers: 2, bidirectional: true)
        gru = try GRU(inputSize: 5, hiddenSize: 4)
    }

    @Test("wrong input size or rank")
    func input() throws {
        expectTempoError(containing: ["`x`", "[T, B, 5]", "[7, 3, 6]"]) { _ = try lstm(Tensor.zeros([7, 3, 6])) }
        expectTempoError(containing: ["`x`", "[T, B, 5]", "[7, 5]"]) { _ = try lstm(Tensor.zeros([7, 5])) }
        expectTempoError(containing: ["`x`", "T and B at least 1", "[0, 3, 5]"]) { _ = try lstm(Tensor.zeros([0, 3, 5])) }
        let batchFirst = try GRU(inputSize: 5, hiddenSize: 4, batchFirst: true)
        expectTempoError(containing: ["`x`", "[B, T, 5] (batchFirst)", "[3, 7, 2]"]) { _ = try batchFirst(Tensor.zeros([3, 7, 2])) }
        expectTempoError(containing: ["`x`", "[B, 5]", "[3, 4]"]) { _ = try gru.step(Tensor.zeros([3, 4])) }
        expectTempoError(containing: ["`x`", "[B, 5]", "[1, 3, 5]"]) { _ = try gru.step(Tensor.zeros([1, 3, 5])) }
    }

    @Test("wrong state shapes name the whole stack's layout [layers*D, B, R]")
    func state() throws {
        let x = try Tensor.zeros([7, 3, 5])
        // One layer's worth of state for a two-layer, bidirectional LSTM.
        expectTempoError(containing: ["`state.hidden`", "[layers*D, B, R] = [4, 3, 4]", "L = 2 layers, D = 2 directions", "[2, 3, 4]"]) {
            _ = try lstm(x, state: RecurrentState(hidden: try Tensor.zeros([2, 3, 4]), cell: try Tensor.zeros([4, 3, 4])))
        }
        expectTempoError(containing: ["`state.cell`", "[layers*D, B, H] = [4, 3, 4]", "[4, 2, 4]"]) {
            _ = try lstm(x, state: RecurrentState(hidden: try Tensor.zeros([4, 3, 4]), cell: try Tensor.zeros([4, 2, 4])))
        }
        expectTempoError(containing: ["`state.cell`", "an LSTM's state has both", "nil"]) {
            _ = try lstm(x, state: RecurrentState(hidden: try Tensor.zeros([4, 3, 4])))
        }
        expectTempoError(containing: ["`state.cell`", "no cell state"]) {
            _ = try gru(x, state: RecurrentState(hidden: try Tensor.zeros([1, 3, 4]), cell: try Tensor.zeros([1, 3, 4])))
        }
        // With a projection, R is the projection size.
        let projected = try LSTM(inputSize: 5, hiddenSize: 4, projectionSize: 2)
        expectTempoError(containing: ["`state.hidden`", "[1, 3, 2]", "R = projectionSize 2", "[1, 3, 4]"]) {
            _ = try projected(x, state: RecurrentState(hidden: try Tensor.zeros([1, 3, 4]), cell: try Tensor.zeros([1, 3, 4])))
        }
        expectTempoError(containing: ["`state.hidden`", "[1, 2, 4]", "[1, 3, 4]"]) {
            _ = try gru.step(Tensor.zeros([2, 5]), state: RecurrentState(hidden: try Tensor.zeros([1, 3, 4])))
        }
    }

    @Test("bad lengths: 0, past T, or not one per batch element")
    func lengths() throws {
        let x = try Tensor.zeros([7, 3, 5])
        expectTempoError(containing: ["`lengths[1]`", "1...T = 1...7", "got 0"]) { _ = try lstm(x, lengths: [7, 0, 3]) }
        expectTempoError(containing: ["`lengths[2]`", "1...T = 1...7", "got 8"]) { _ = try lstm(x, lengths: [7, 1, 8]) }
        expectTempoError(containing: ["`lengths`", "3 lengths", "got 2"]) { _ = try lstm(x, lengths: [7, 1]) }
        // With batchFirst, T and B are read from [B, T, I].
        let batchFirst = try GRU(inputSize: 5, hiddenSize: 4, batchFirst: true)
        expectTempoError(containing: ["`lengths[0]`", "1...T = 1...3"]) { _ = try batchFirst(Tensor.zeros([7, 3, 5]), lengths: Array(repeating: 4, count: 7)) }
    }

    @Test("step on a bidirectional layer is refused: the backward direction needs the whole sequence")
    func stepBidirectional() throws {
        expectTempoError(containing: ["`bidirectional`", "step(_:state:)", "whole sequence", "got true"]) {
            _ = try lstm.step(Tensor.zeros([3, 5]))
        }
    }

    @Test("bad constructor arguments")
    func construction() throws {
        expectTempoError(containing: ["`hiddenSize`", "at least 1", "0"]) { _ = try GRU(inputSize: 5, hiddenSize: 0) }
        expectTempoError(containing: ["`layers`", "at least 1"]) { _ = try RNN(inputSize: 5, hiddenSize: 4, layers: 0) }
        expectTempoError(containing: ["`projectionSize`", "below hiddenSize 4", "got 4"]) {
            _ = try LSTM(inputSize: 5, hiddenSize: 4, projectionSize: 4)
        }
        expectTempoError(containing: ["`dropout`", "0...1", "1.5"]) { _ = try LSTM(inputSize: 5, hiddenSize: 4, dropout: 1.5) }
    }

    @Test("an input or state on another device is refused, naming it", .needsOpenCL)
    func devices() throws {
        let other = try #require(Device.openCLDevices.first)
        expectTempoError(containing: ["`x`", other.id]) { _ = try gru(Tensor.zeros([7, 3, 5], device: other)) }
        expectTempoError(containing: ["`state.hidden`", other.id]) {
            _ = try gru(Tensor.zeros([7, 3, 5]), state: RecurrentState(hidden: try Tensor.zeros([1, 3, 4], device: other)))
        }
    }
}
