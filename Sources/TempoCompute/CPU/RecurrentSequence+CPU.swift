import CTempoCPU
import Foundation

extension CPUBackend {
    /// The whole layer in `tempo_recurrent_sequence` (C): a team of threads splits the hidden
    /// units, computes the input projection of every step for its units, then runs the steps,
    /// meeting at a barrier after each (see `recurrent_sequence.c`). OpenBLAS is not called: its
    /// worker threads spin for a while after each call, and on a machine with as many threads as
    /// cores they would take the cores the team waits for.
    func recurrentSequence(
        _ d: RecurrentSequenceDescriptor, input: any DeviceBuffer, weights: [RecurrentWeightBuffers],
        initialHidden: (any DeviceBuffer)?, initialCell: (any DeviceBuffer)?, lengths: [Int32]?,
        output: any DeviceBuffer, finalHidden: any DeviceBuffer, finalCell: (any DeviceBuffer)?
    ) throws {
        var arguments = tempo_recurrent_args()
        arguments.cell = d.cell.cpuKernelCell
        if case let .lstm(peephole, coupled) = d.cell {
            arguments.peephole = peephole ? 1 : 0
            arguments.coupled = coupled ? 1 : 0
        }
        arguments.steps = Int32(d.steps)
        arguments.batch = Int32(d.batch)
        arguments.input = Int32(d.inputSize)
        arguments.hidden = Int32(d.hiddenSize)
        arguments.projection = Int32(d.projectionSize)
        arguments.directions = Int32(d.directions)
        func direction(_ index: Int) -> Int { min(index, weights.count - 1) }
        arguments.x = UnsafePointer(pointer(input))
        arguments.w_ih = (UnsafePointer(pointer(weights[0].input)), UnsafePointer(pointer(weights[direction(1)].input)))
        arguments.w_hh = (UnsafePointer(pointer(weights[0].hidden)), UnsafePointer(pointer(weights[direction(1)].hidden)))
        func optional(_ keyPath: KeyPath<RecurrentWeightBuffers, (any DeviceBuffer)?>) -> (UnsafePointer<Float>?, UnsafePointer<Float>?) {
            (weights[0][keyPath: keyPath].map { UnsafePointer(pointer($0)) },
             weights[direction(1)][keyPath: keyPath].map { UnsafePointer(pointer($0)) })
        }
        arguments.b_ih = optional(\.inputBias)
        arguments.b_hh = optional(\.hiddenBias)
        arguments.w_peephole = optional(\.peephole)
        arguments.w_hr = optional(\.projection)
        arguments.h0 = initialHidden.map { UnsafePointer(pointer($0)) }
        arguments.c0 = initialCell.map { UnsafePointer(pointer($0)) }
        arguments.y = pointer(output)
        arguments.h_n = pointer(finalHidden)
        arguments.c_n = finalCell.map { pointer($0) }

        let threads = Int32(CPUThreads.count)
        let packedCount = tempo_recurrent_packed_size(&arguments)
        let sources = weights.flatMap { [$0.input, $0.hidden] } + weights.compactMap(\.projection)
        let packed = try packedRecurrentWeights.prepared(
            for: sources, variant: "\(d.cell) I\(d.inputSize) H\(d.hiddenSize) P\(d.projectionSize)", bytes: packedCount * 4
        ) {
            let panels = try AlignedFloats(count: packedCount)
            tempo_recurrent_pack(&arguments, panels.pointer, threads)
            return panels
        }
        let workspace = try allocate(count: tempo_recurrent_workspace_size(&arguments, threads))
        counters.recordLaunches(1)
        if let lengths {
            lengths.withUnsafeBufferPointer { lengths in
                arguments.lengths = lengths.baseAddress
                _ = tempo_recurrent_sequence(&arguments, packed.pointer, pointer(workspace), threads)
            }
        } else {
            _ = tempo_recurrent_sequence(&arguments, packed.pointer, pointer(workspace), threads)
        }
        withExtendedLifetime(packed) {}
    }
}

extension RecurrentCell {
    var cpuKernelCell: tempo_cell {
        switch self {
        case .rnn(.tanh): TEMPO_CELL_RNN_TANH
        case .rnn(.relu): TEMPO_CELL_RNN_RELU
        case .lstm: TEMPO_CELL_LSTM
        case .gru(.resetAfterMatmul): TEMPO_CELL_GRU_RESET_AFTER
        case .gru(.resetBeforeMatmul): TEMPO_CELL_GRU_RESET_BEFORE
        }
    }
}

/// 64-byte aligned floats owned by a class, so a cache can share them with the calls using them.
/// `@unchecked Sendable`: written once by the code that makes them, only read afterwards.
final class AlignedFloats: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) throws {
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else { throw TempoError.outOfMemory(bytes: bytes) }
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
    }

    deinit { free(pointer) }
}
