import Synchronization

/// Device memory holding `count` Float32 values. Released when the last tensor using it dies.
protocol DeviceBuffer: AnyObject, Sendable {
    var count: Int { get }
}

/// Convolution steps a backend has prepared (``Backend/prepareCausalConv1dSteps(_:sample:)``).
/// Not thread-safe: one stream runs them from one thread at a time.
protocol PreparedCausalConv1dSteps: AnyObject {
    /// Runs every step once, in order, at its history's current position: `sample` stands
    /// wherever the preparation's stand-in did, `output` replaces the last step's output. Writes
    /// each step's output and its input's slot of `history.storage`; the caller then advances the
    /// histories.
    func run(sample: any DeviceBuffer, output: any DeviceBuffer) throws
}

/// The ops every backend implements. Both backends implement all of them; the parity tests hold
/// them to the same numbers.
///
/// Callers (the op front ends in `Ops/`) have already validated shapes and devices, and pass
/// buffers of this backend's own kind, sized for the op. Every method may run asynchronously
/// with respect to the host (OpenCL enqueues); reading a buffer back synchronises.
protocol Backend: AnyObject, Sendable {
    var device: Device { get }
    var counters: CounterRecorder { get }
    /// Buffers currently alive on this backend, for leak checks.
    var liveBufferCount: Int { get }

    // Memory
    func allocate(count: Int) throws -> any DeviceBuffer
    func upload(_ values: UnsafeBufferPointer<Float>, to buffer: any DeviceBuffer) throws
    func download(_ buffer: any DeviceBuffer, into values: UnsafeMutableBufferPointer<Float>) throws
    func copy(_ source: any DeviceBuffer, to destination: any DeviceBuffer, count: Int) throws
    func fill(_ buffer: any DeviceBuffer, with value: Float, count: Int) throws
    /// Waits until all work submitted so far has finished.
    func synchronize() throws
    /// Frees the blocks kept for reuse (see ``BufferPool``).
    func releaseCachedMemory()
    /// Bytes kept for reuse.
    var cachedMemoryBytes: Int { get }

    // GEMM
    /// `C = alpha * op(A) * op(B) + beta * C` per batch element, as `descriptor` lays it out.
    func gemm(_ descriptor: GEMMDescriptor, a: any DeviceBuffer, b: any DeviceBuffer, c: any DeviceBuffer) throws

    // Elementwise
    /// `out[i] = a[i] (op) b[i]` for `i < count`.
    func binary(_ op: BinaryOp, _ a: any DeviceBuffer, _ b: any DeviceBuffer, into out: any DeviceBuffer, count: Int) throws
    /// `out[i] = alpha * x[i]`.
    func scale(_ x: any DeviceBuffer, by alpha: Float, into out: any DeviceBuffer, count: Int) throws
    /// `out[r, c] = x[r, c] + bias[c]` for a `[rows, columns]` view of `x`.
    func addBias(_ x: any DeviceBuffer, _ bias: any DeviceBuffer, into out: any DeviceBuffer, rows: Int, columns: Int) throws

    // Activation
    func activation(_ function: Activation, _ x: any DeviceBuffer, into out: any DeviceBuffer, count: Int) throws

    // Softmax and layer norm, each over the last axis of a `[rows, columns]` view
    func softmax(_ x: any DeviceBuffer, into out: any DeviceBuffer, rows: Int, columns: Int) throws
    func layerNorm(
        _ x: any DeviceBuffer, gamma: (any DeviceBuffer)?, beta: (any DeviceBuffer)?,
        into out: any DeviceBuffer, rows: Int, columns: Int, epsilon: Float) throws

    // Transpose: `[batch, rows, columns]` -> `[batch, columns, rows]`
    func transpose(_ x: any DeviceBuffer, into out: any DeviceBuffer, batch: Int, rows: Int, columns: Int) throws

    // Copy region: the strided copy under concatenation and slicing
    func copyRegion(_ region: CopyRegion, from source: any DeviceBuffer, to destination: any DeviceBuffer) throws

    // Gather: `x` as `[outer, axisLength, inner]`, `out[o, k, i] = x[o, indices[k], i]`; indices
    // already checked to lie in `0..<axisLength`.
    func gather(
        _ x: any DeviceBuffer, indices: [Int32], into out: any DeviceBuffer, outer: Int, axisLength: Int, inner: Int
    ) throws

    // Recurrent sequence: one RNN/LSTM/GRU layer over all steps and directions (see
    // ``RecurrentSequenceDescriptor`` for the buffers and the semantics). `lengths` has `batch`
    // entries in `1...steps` when present.
    func recurrentSequence(
        _ descriptor: RecurrentSequenceDescriptor, input: any DeviceBuffer, weights: [RecurrentWeightBuffers],
        initialHidden: (any DeviceBuffer)?, initialCell: (any DeviceBuffer)?, lengths: [Int32]?,
        output: any DeviceBuffer, finalHidden: any DeviceBuffer, finalCell: (any DeviceBuffer)?
    ) throws

    // Causal convolution: see ``CausalConv1dDescriptor`` for the buffers and the semantics.
    func causalConv1d(
        _ descriptor: CausalConv1dDescriptor, input: any DeviceBuffer, weight: any DeviceBuffer,
        bias: (any DeviceBuffer)?, residual: (any DeviceBuffer)?, output: any DeviceBuffer) throws

    // Causal convolution steps, in order, each free to read earlier ones' outputs (see
    // ``CausalConv1dStepCall``), prepared once to run sample after sample: the work that does
    // not change between samples (packing weights, building kernel arguments) is done here.
    // `sample` is a stand-in: ``PreparedCausalConv1dSteps/run(sample:output:)`` puts each
    // sample wherever a call reads it.
    func prepareCausalConv1dSteps(_ calls: [CausalConv1dStepCall], sample: any DeviceBuffer) throws
        -> any PreparedCausalConv1dSteps

    // Weight norm: `out[r, c] = v[r, c] * (g[r] / ||v[r, :]||_2)` for a `[rows, columns]` view of
    // `v`; a zero row gives NaN, as in PyTorch (see `Tensor.weightNorm(g:)`).
    func weightNorm(_ v: any DeviceBuffer, g: any DeviceBuffer, into out: any DeviceBuffer, rows: Int, columns: Int) throws

    // Attention: see ``AttentionDescriptor`` for the buffers and the semantics. Flash-style:
    // working memory O(S*d), never the `[Sq, Sk]` scores.
    func attention(
        _ descriptor: AttentionDescriptor, query: any DeviceBuffer, key: any DeviceBuffer, value: any DeviceBuffer,
        mask: (any DeviceBuffer)?, additiveMask: (any DeviceBuffer)?, output: any DeviceBuffer) throws
    // The attention probabilities `[B, h, Sq, Sk]`, materialised (O(S^2)), only when asked for.
    func attentionProbabilities(
        _ descriptor: AttentionDescriptor, query: any DeviceBuffer, key: any DeviceBuffer,
        mask: (any DeviceBuffer)?, additiveMask: (any DeviceBuffer)?, output: any DeviceBuffer) throws

    // Dropout: `out[i] = keep(i) ? x[i] * scale : 0`, `keep(i) = uniform(key, offset, i) >= probability`
    func dropout(
        _ x: any DeviceBuffer, into out: any DeviceBuffer, count: Int, probability: Float, scale: Float, key: UInt32,
        offset: UInt32) throws
}

/// A batched, strided GEMM: for each batch element `b`,
/// `C_b = alpha * op(A_b) * op(B_b) + beta * C_b` with `op(A_b)` `[m, k]` and `op(B_b)` `[k, n]`.
///
/// Matrices are row-major. A stored A is `[m, k]` (or `[k, m]` when `transposeA`) with row stride
/// `lda`; likewise B (`[k, n]` or `[n, k]`, `ldb`) and C (`[m, n]`, `ldc`). Batch element `b` of A
/// starts at `offsetA + b * strideA`; a stride of 0 reuses one matrix for the whole batch.
/// When `beta == 0`, C is not read (it may hold garbage).
struct GEMMDescriptor: Sendable, Hashable {
    var batch: Int
    var m: Int
    var n: Int
    var k: Int
    var transposeA = false
    var transposeB = false
    var alpha: Float = 1
    var beta: Float = 0
    var lda: Int
    var ldb: Int
    var ldc: Int
    var offsetA = 0
    var offsetB = 0
    var offsetC = 0
    var strideA: Int
    var strideB: Int
    var strideC: Int

    /// A dense batched GEMM: contiguous matrices, B shared by the batch when `broadcastB`.
    init(batch: Int, m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
         alpha: Float = 1, beta: Float = 0, broadcastB: Bool = false) {
        self.batch = batch
        self.m = m
        self.n = n
        self.k = k
        self.transposeA = transposeA
        self.transposeB = transposeB
        self.alpha = alpha
        self.beta = beta
        lda = transposeA ? m : k
        ldb = transposeB ? k : n
        ldc = n
        strideA = m * k
        strideB = broadcastB ? 0 : k * n
        strideC = m * n
    }

    /// Element `(i, kk)` of op(A) of batch 0 sits at `offsetA + i * aRowStride + kk * aColumnStride`.
    var aRowStride: Int { transposeA ? 1 : lda }
    var aColumnStride: Int { transposeA ? lda : 1 }
    /// Element `(kk, j)` of op(B) of batch 0 sits at `offsetB + kk * bRowStride + j * bColumnStride`.
    var bRowStride: Int { transposeB ? 1 : ldb }
    var bColumnStride: Int { transposeB ? ldb : 1 }

    var flops: Double { 2 * Double(batch) * Double(m) * Double(n) * Double(k) }
}

/// Two-operand elementwise ops.
enum BinaryOp: String, Sendable, CaseIterable {
    case add
    case multiply
}

/// Activation functions, as PyTorch defines them.
public enum Activation: String, Sendable, Hashable, CaseIterable {
    /// `1 / (1 + exp(-x))`
    case sigmoid
    /// `tanh(x)`
    case tanh
    /// `max(x, 0)`
    case relu
    /// `0.5 x (1 + erf(x / sqrt(2)))`, PyTorch's `GELU()` default.
    case gelu
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`, PyTorch's `GELU(approximate: "tanh")`.
    case geluTanh
}

/// A strided 2-D copy: `rows` rows of `rowLength` contiguous elements, row `r` read from
/// `sourceOffset + r * sourceStride` and written to `destinationOffset + r * destinationStride`.
/// Concatenation along an axis is one such copy per input; slicing is one copy.
struct CopyRegion: Sendable, Hashable {
    var rows: Int
    var rowLength: Int
    var sourceOffset: Int
    var sourceStride: Int
    var destinationOffset: Int
    var destinationStride: Int
}

extension Device {
    /// This device's backend, created on first use.
    func backend() throws -> any Backend {
        switch runtime {
        case .cpu:
            return CPUBackend.shared
        case .openCL:
            return try OpenCLBackend.backend(for: self)
        }
    }

    /// Waits until all work submitted to this device so far has finished.
    public func synchronize() throws {
        try backend().synchronize()
    }

    /// Device buffers currently alive on this device (one per live tensor, plus any scratch).
    public var liveBufferCount: Int {
        (try? backend())?.liveBufferCount ?? 0
    }
}
