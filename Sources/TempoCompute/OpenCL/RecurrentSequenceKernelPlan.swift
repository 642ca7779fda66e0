/// How one recurrent sequence call maps onto `recurrent_sequence.cl`: the work-item tile, the
/// packed weight layouts, the strides of the intermediate buffers and the program's build options.
/// The kernel file's header documents the layouts these sizes describe.
struct RecurrentSequenceKernelPlan {
    let descriptor: RecurrentSequenceDescriptor
    let shape: OpenCLTunables.Shape
    /// CPU shape: batch rows per work-item (`REC_ROWS`).
    let rows: Int
    /// CPU shape: 16-unit vectors per gate per work-item (`REC_VECS`).
    let vectors: Int
    /// U: units per tile, which is also the width of the packed weight panels.
    let units: Int
    /// gemm.cl's panel width for the packed input weight (CPU shape); 0 in the GPU shape, whose
    /// GEMM reads `W_ih` in place.
    let gemmPanel: Int
    /// GPU shape: batch rows per work-group.
    let groupRows: Int
    /// CPU shape: work-items a step aims for (see ``OpenCLTunables/recurrentCPUWorkItems``).
    let workItems: Int

    init(_ d: RecurrentSequenceDescriptor, tunables: OpenCLTunables, shape: OpenCLTunables.Shape) {
        descriptor = d
        self.shape = shape
        // Four gate vectors per row read per k: an RNN's single gate takes four 16-unit vectors,
        // so that it loads as many weights per broadcast of h as an LSTM does.
        vectors = max(1, 4 / d.gateCount)
        rows = min(8, max(1, tunables.recurrentCPUAccumulators / (d.gateCount * vectors)))
        units = shape == .cpu ? 16 * vectors : tunables.recurrentGPUUnits
        gemmPanel = shape == .cpu ? tunables.gemmCPUColumns : 0
        groupRows = tunables.recurrentGPURows
        workItems = tunables.recurrentCPUWorkItems
    }

    private static func tiles(_ count: Int, _ size: Int) -> Int { (count + size - 1) / size }

    /// Tiles of `units` over the hidden units, and H padded to whole tiles (`hp`).
    var hiddenTiles: Int { Self.tiles(descriptor.hiddenSize, units) }
    var paddedHidden: Int { hiddenTiles * units }
    /// Tiles over the state: the outputs of `rec_finish` (P with a projection, else H).
    var stateTiles: Int { Self.tiles(descriptor.stateSize, units) }

    /// `params` per direction: combined biases, b_hn, peepholes, each `paddedHidden` long.
    var parameterBlocks: Int { descriptor.gateCount + 1 + descriptor.cell.peepholeCount }
    var parametersPerDirection: Int { parameterBlocks * paddedHidden }
    var packedHiddenPerDirection: Int {
        hiddenTiles * descriptor.stateSize * descriptor.gateCount * units
    }
    var packedProjectionPerDirection: Int { stateTiles * descriptor.hiddenSize * units }

    /// gemm.cl panels over the G*H columns of one direction's input projection (CPU shape).
    var inputPanels: Int { gemmPanel > 0 ? Self.tiles(descriptor.gateCount * descriptor.hiddenSize, gemmPanel) : 0 }
    var packedInputPerDirection: Int { inputPanels * descriptor.inputSize * gemmPanel }
    /// Floats of all packed weights (every direction), for the cache's accounting.
    var packedFloats: Int {
        let perDirection = packedHiddenPerDirection + parametersPerDirection
            + (gemmPanel > 0 ? packedInputPerDirection : 0)
            + (descriptor.projectionSize > 0 ? packedProjectionPerDirection : 0)
        return descriptor.directions * perDirection
    }
    /// Columns of `gx` per direction: whole panels in the CPU shape, so that one GEMM covers every
    /// direction's packed weight; G*H in the GPU shape.
    var projectedColumns: Int {
        gemmPanel > 0 ? inputPanels * gemmPanel : descriptor.gateCount * descriptor.hiddenSize
    }
    /// `ldgx`: the row stride of `gx` `[T*B, D * projectedColumns]`.
    var projectedStride: Int { descriptor.directions * projectedColumns }
    var projectedCount: Int { descriptor.steps * descriptor.batch * projectedStride }

    /// Whether each step needs `rec_finish` after `rec_gates`.
    var finishesInSecondLaunch: Bool {
        descriptor.projectionSize > 0 || descriptor.cell == .gru(.resetBeforeMatmul)
    }

    /// `rec_pack`'s grid: 16 k per work-item along the longest K, the most column blocks of any
    /// job, and the four jobs.
    var packGlobal: [Int] {
        let d = descriptor
        let depth = max(d.inputSize, d.stateSize, d.hiddenSize)
        let blocks = max(
            hiddenTiles * d.gateCount * units, inputPanels * gemmPanel,
            d.projectionSize > 0 ? stateTiles * units : 0, parametersPerDirection) / 16
        return [Self.tiles(depth, 16), blocks, 4]
    }

    /// The geometry of one step kernel over `outputs` units (H for `rec_gates`, R for `rec_finish`).
    func stepGeometry(outputs: Int) -> (global: [Int], local: [Int]) {
        let d = descriptor
        let tiles = Self.tiles(outputs, units)
        switch shape {
        case .cpu:
            // Row groups: each work-item runs every groups-th row tile of its unit tile.
            let rowTiles = Self.tiles(d.batch, rows)
            let groups = min(rowTiles, max(1, Self.tiles(workItems, tiles * d.directions)))
            return ([tiles, groups, d.directions], [1, 1, 1])
        case .gpu:
            return ([tiles * units, Self.tiles(d.batch, groupRows) * groupRows, d.directions], [units, groupRows, 1])
        }
    }

    /// The cell variant and the CPU tile, as `-D` options (the GPU tunables come with the file's
    /// own options): one program per variant.
    var buildOptions: String {
        let d = descriptor
        var definitions = [("REC_GATES", d.gateCount), ("REC_ROWS", rows), ("REC_VECS", vectors)]
        switch d.cell {
        case .rnn(let nonlinearity):
            definitions += [("REC_CELL", 1), ("REC_RELU", nonlinearity == .relu ? 1 : 0)]
        case let .lstm(peephole, coupled):
            definitions += [
                ("REC_CELL", 2), ("REC_PEEPHOLE", peephole ? 1 : 0), ("REC_COUPLED", coupled ? 1 : 0),
                ("REC_PROJECTION", d.projectionSize > 0 ? 1 : 0),
            ]
        case .gru(let form):
            definitions += [("REC_CELL", 3), ("REC_RESET_BEFORE", form == .resetBeforeMatmul ? 1 : 0)]
        }
        return definitions.map { "-D\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    /// The kernels index with 32-bit ints; refuses sizes whose buffers they could not address.
    func checkAddressable() throws {
        let d = descriptor
        let largest = max(
            projectedCount, d.steps * d.batch * d.directions * d.stateSize, d.steps * d.batch * d.inputSize,
            d.directions * max(packedHiddenPerDirection, packedInputPerDirection, packedProjectionPerDirection))
        guard largest <= Int(Int32.max) else {
            throw TempoError.invalidArgument(
                argument: "input", expected: "buffers of at most 2^31 - 1 elements on OpenCL",
                actual: "an intermediate buffer of \(largest) elements")
        }
    }
}
