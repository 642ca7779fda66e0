import Foundation
import TempoKernels

/// Which kernel shape each op uses on a device, and the `-D` tunables its programs are built with.
///
/// GPUs want local-memory tiles and work-group reductions; an OpenCL CPU device (PoCL) runs those
/// as loops over work-items that spill every value live across a barrier, and wants barrier-free
/// kernels with one work-item per tile or row instead (see `notes/opencl-on-pocl.md`). Every kernel
/// file holds the shapes its op needs; the device kind picks the default, and
/// `TEMPO_OPENCL_SHAPE=cpu|gpu` forces one (tests run both on PoCL).
///
/// Every tunable is passed to the compiler explicitly, so the launch geometry computed here and the
/// values the kernel was built with cannot disagree.
struct OpenCLTunables: Sendable {
    enum Shape: String, Sendable, CaseIterable {
        /// Barrier-free kernels for CPU-like devices.
        case cpu
        /// Local-memory, work-group kernels for GPUs and accelerators.
        case gpu
    }

    /// The shape used when an op is not told otherwise.
    let shape: Shape

    /// `gemm.cl`, CPU shape: rows and columns of C per work-item (columns = packed panel width).
    let gemmCPURows: Int
    let gemmCPUColumns: Int
    /// `gemm.cl`, GPU shape: the work-group tile, the K slice, the outputs per work-item and the
    /// vector width of a work-item's columns.
    let gemmGPUTileRows: Int
    let gemmGPUTileColumns: Int
    let gemmGPUTileDepth: Int
    let gemmGPURowsPerItem: Int
    let gemmGPUColumnsPerItem: Int
    let gemmGPUVectorWidth: Int
    /// `softmax.cl`, `layer_norm.cl` and `weight_norm.cl`, GPU shape: work-items per row (a power of two).
    let rowWorkGroup: Int
    /// `transpose.cl`, GPU shape: tile edge.
    let transposeTile: Int
    /// `recurrent_sequence.cl`, CPU shape: float16 accumulators a work-item may hold (batch rows x
    /// gates x 16-unit vectors); the host derives each cell's tile from it.
    let recurrentCPUAccumulators: Int
    /// `recurrent_sequence.cl`, CPU shape: work-items a step aims for. Fewer than one per row
    /// tile lets each work-item reuse its weight panel from its own cache across tiles.
    let recurrentCPUWorkItems: Int
    /// `recurrent_sequence.cl`, GPU shape: work-group of units x batch rows, and the k slice of
    /// h_{t-1} staged in local memory.
    let recurrentGPUUnits: Int
    let recurrentGPURows: Int
    let recurrentGPUDepth: Int
    /// `causal_conv1d.cl`, CPU shape: output channels per work-item and float16 vectors of 16
    /// time steps per work-item (their product is the work-item's accumulator count).
    let convCPUChannels: Int
    let convCPUVectors: Int
    /// `causal_conv1d.cl`, GPU shape: the work-group tile (output channels x time steps), output
    /// channels per work-item, and the most input channels staged in local memory at once.
    let convGPUChannels: Int
    let convGPUSteps: Int
    let convGPUChannelsPerItem: Int
    let convGPUSlice: Int
    /// `causal_conv1d.cl`, the step's CPU shape: batch rows and float16 vectors of outputs per
    /// work-item (their product is its accumulator count; 16 x vectors is the packed panel width).
    let convStepCPURows: Int
    let convStepCPUVectors: Int
    /// `attention.cl`, CPU shape: float16 vectors of queries per work-item and keys per tile
    /// (their product is the work-item's score accumulators), and work-items per compute unit.
    let attentionCPUQueryVectors: Int
    let attentionCPUKeys: Int
    let attentionCPUItemsPerUnit: Int
    /// `attention.cl`, GPU shape: queries (work-items) per work-group, keys per local-memory tile,
    /// and the largest head dimension a work-item holds in private arrays.
    let attentionGPUQueries: Int
    let attentionGPUKeys: Int
    let attentionGPUMaxDimension: Int

    init(record: OpenCLDeviceRecord) {
        let kind = record.device.kind
        let forced = ProcessInfo.processInfo.environment["TEMPO_OPENCL_SHAPE"].flatMap(Shape.init(rawValue:))
        shape = forced ?? (kind == .cpu ? .cpu : .gpu)

        // 6 x 64: 24 float16 accumulators, the most that stay in AVX-512's 32 registers
        // (measured best on PoCL 3.1, 1.1-1.3x OpenBLAS at 1024^3 and 2048^3).
        gemmCPURows = 6
        gemmCPUColumns = 64
        if kind == .cpu {
            // The GPU shape on a CPU device (only when forced): big per-work-item tiles in float16
            // registers and few barriers, the best found on PoCL (about half of the CPU shape).
            (gemmGPUTileRows, gemmGPUTileColumns, gemmGPUTileDepth) = (128, 256, 64)
            (gemmGPURowsPerItem, gemmGPUColumnsPerItem, gemmGPUVectorWidth) = (8, 32, 16)
        } else {
            // A 64x64 work-group tile of 16x16 work-items with 4x4 outputs in float4 columns:
            // CLBlast's generic xgemm starting point, sound on any GPU until tuned per device.
            (gemmGPUTileRows, gemmGPUTileColumns, gemmGPUTileDepth) = (64, 64, 16)
            (gemmGPURowsPerItem, gemmGPUColumnsPerItem, gemmGPUVectorWidth) = (4, 4, 4)
        }
        // The largest power of two <= 256 the device accepts as a work-group.
        var group = 256
        while group > record.maxWorkGroupSize, group > 1 { group /= 2 }
        rowWorkGroup = group
        transposeTile = record.maxWorkGroupSize >= 256 ? 16 : 8
        // 24 of AVX-512's 32 registers, as gemm.cl's 6 x 64 tile.
        recurrentCPUAccumulators = 24
        // 16 per compute unit balances the threads; measured on PoCL at H = 512, B = 32, one
        // work-item per unit tile ran a step 25% faster than one per (unit, row) tile.
        recurrentCPUWorkItems = 16 * max(record.device.computeUnits, 1)
        // 64 x 4 work-items: coalesced 256-byte rows of packed weights; no more than the smallest
        // work-group a device must accept.
        recurrentGPUUnits = record.maxWorkGroupSize >= 256 ? 64 : 16
        recurrentGPURows = record.maxWorkGroupSize >= 256 ? 4 : 1
        recurrentGPUDepth = 32
        // 8 channels x 32 steps: 16 float16 accumulators, the notes' sweet spot; 2 vector loads
        // and 8 broadcasts per 16 FMAs. Measured on PoCL 3.1 (B16, C128, L1024, K3, one thread):
        // 8 x 32 and 6 x 64 alike, 4 x 64 ~10% slower at d = 1 (more unaligned loads per FMA).
        (convCPUChannels, convCPUVectors) = (8, 2)
        // 16 channels x 64 steps of 4-channel work-items: 256 work-items, as many as any GPU takes;
        // a smaller device gets 16 steps (64 work-items).
        convGPUChannels = 16
        convGPUSteps = record.maxWorkGroupSize >= 256 ? 64 : 16
        convGPUChannelsPerItem = 4
        convGPUSlice = 8
        // 6 x 4: 24 accumulators, as gemm.cl's and the CPU backend's step tiles.
        (convStepCPURows, convStepCPUVectors) = (6, 4)
        // 2 vectors of queries x 8 keys: 16 float16 score accumulators, the notes' sweet spot.
        (attentionCPUQueryVectors, attentionCPUKeys) = (2, 8)
        // Blocks are handed out round-robin to this many work-items per unit: enough that uneven
        // (causal) blocks even out, few enough that the scratch stays small.
        attentionCPUItemsPerUnit = 32
        attentionGPUQueries = record.maxWorkGroupSize >= 64 ? 64 : 16
        attentionGPUKeys = 32
        attentionGPUMaxDimension = 128
    }

    /// Build options for one kernel file.
    func options(for source: KernelSource) -> String {
        let definitions: [(String, Int)]
        switch source.name {
        case "gemm":
            definitions = [
                ("GEMM_CPU_TM", gemmCPURows), ("GEMM_CPU_TN", gemmCPUColumns),
                ("GEMM_GPU_TSM", gemmGPUTileRows), ("GEMM_GPU_TSN", gemmGPUTileColumns),
                ("GEMM_GPU_TSK", gemmGPUTileDepth), ("GEMM_GPU_WPTM", gemmGPURowsPerItem),
                ("GEMM_GPU_WPTN", gemmGPUColumnsPerItem), ("GEMM_GPU_VWN", gemmGPUVectorWidth),
            ]
        case "softmax": definitions = [("SOFTMAX_WORKGROUP", rowWorkGroup)]
        case "layer_norm": definitions = [("LAYER_NORM_WORKGROUP", rowWorkGroup)]
        case "weight_norm": definitions = [("WEIGHT_NORM_WORKGROUP", rowWorkGroup)]
        case "transpose": definitions = [("TRANSPOSE_TILE", transposeTile)]
        case "recurrent_sequence":
            // The CPU tile depends on the cell too: the op passes it with the cell's options.
            definitions = [
                ("REC_GPU_UNITS", recurrentGPUUnits), ("REC_GPU_ROWS", recurrentGPURows),
                ("REC_GPU_DEPTH", recurrentGPUDepth),
            ]
        case "causal_conv1d":
            definitions = [
                ("CONV_CPU_CO", convCPUChannels), ("CONV_CPU_TV", convCPUVectors),
                ("CONV_GPU_CO", convGPUChannels), ("CONV_GPU_TT", convGPUSteps),
                ("CONV_GPU_WPT", convGPUChannelsPerItem), ("CONV_GPU_CS", convGPUSlice),
                ("CONV_STEP_SR", convStepCPURows), ("CONV_STEP_SV", convStepCPUVectors),
            ]
        case "attention":
            definitions = [
                ("ATT_CPU_QV", attentionCPUQueryVectors), ("ATT_CPU_KT", attentionCPUKeys),
                ("ATT_GPU_QB", attentionGPUQueries), ("ATT_GPU_KT", attentionGPUKeys),
                ("ATT_GPU_MAXD", attentionGPUMaxDimension), ("ATT_GPU_MAXDV", attentionGPUMaxDimension),
            ]
        default: definitions = []
        }
        return definitions.map { "-D\($0.0)=\($0.1)" }.joined(separator: " ")
    }
}
