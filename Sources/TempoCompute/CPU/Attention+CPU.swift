import CTempoCPU
import Foundation

extension CPUBackend {
    /// Flash-style attention (see ``AttentionDescriptor``) in `tempo_attention` (C,
    /// `Sources/CTempoCPU/attention.c`): blocks of 64 queries per thread stream the keys and
    /// values in tiles through cache with an online softmax. The only scratch is a few tiles per
    /// thread, whatever the sequence lengths.
    func attention(
        _ d: AttentionDescriptor, query: any DeviceBuffer, key: any DeviceBuffer, value: any DeviceBuffer,
        mask: (any DeviceBuffer)?, additiveMask: (any DeviceBuffer)?, output: any DeviceBuffer
    ) throws {
        var arguments = tempo_attention_args()
        arguments.batch = Int32(d.batch)
        arguments.heads = Int32(d.heads)
        arguments.kv_heads = Int32(d.keyValueHeads)
        arguments.queries = Int32(d.queryLength)
        arguments.keys = Int32(d.keyLength)
        arguments.head_dim = Int32(d.headDimension)
        arguments.value_dim = Int32(d.valueDimension)
        arguments.causal = d.causal ? 1 : 0
        arguments.scale = d.scale
        arguments.q = UnsafePointer(pointer(query))
        arguments.k = UnsafePointer(pointer(key))
        arguments.v = UnsafePointer(pointer(value))
        if let mask, let strides = d.mask {
            arguments.mask = UnsafePointer(pointer(mask))
            arguments.mask_strides = strides.int64Tuple
        }
        if let additiveMask, let strides = d.additiveMask {
            arguments.additive = UnsafePointer(pointer(additiveMask))
            arguments.additive_strides = strides.int64Tuple
        }
        arguments.out = pointer(output)
        let threads = Int32(CPUThreads.count)
        let workspace = try allocate(count: tempo_attention_workspace_size(&arguments, threads))
        counters.recordLaunches()
        _ = tempo_attention(&arguments, pointer(workspace), threads)
    }

    /// The probabilities `[B, h, Sq, Sk]`, a row at a time: the scaled scores in a row of the
    /// output, then the masks, then the softmax in place. O(S²) by design; only for inspection.
    func attentionProbabilities(
        _ d: AttentionDescriptor, query: any DeviceBuffer, key: any DeviceBuffer,
        mask: (any DeviceBuffer)?, additiveMask: (any DeviceBuffer)?, output: any DeviceBuffer
    ) throws {
        counters.recordLaunches()
        let query = UnsafePointer(pointer(query)), key = UnsafePointer(pointer(key)), out = pointer(output)
        let mask = mask.map { UnsafePointer(pointer($0)) }, additive = additiveMask.map { UnsafePointer(pointer($0)) }
        let (sq, sk, hd) = (d.queryLength, d.keyLength, d.headDimension)
        let rows = d.batch * d.heads * sq
        CPUThreads.forEachChunk(of: rows, grain: max((1 << 14) / max(sk * hd, 1), 1), alignment: 1) { range in
            for row in range {
                let (bh, i) = row.quotientAndRemainder(dividingBy: sq)
                let (b, head) = bh.quotientAndRemainder(dividingBy: d.heads)
                let q = query + row * hd
                let k = key + (b * d.keyValueHeads + head / d.groupSize) * sk * hd
                let scores = out + row * sk
                let last = d.lastVisibleKey(query: i)
                for j in 0..<sk {
                    var attended = j <= last
                    if let mask, let s = d.mask { attended = attended && mask[s.offset(b, head, i, j)] != 0 }
                    guard attended else {
                        scores[j] = -.infinity
                        continue
                    }
                    var dot: Float = 0
                    for c in 0..<hd { dot += q[c] * k[j * hd + c] }
                    scores[j] = dot * d.scale + (additive.flatMap { a in d.additiveMask.map { a[$0.offset(b, head, i, j)] } } ?? 0)
                }
                Self.softmaxOrZeros(scores, count: sk)
            }
        }
    }

    /// Softmax of `count` floats in place; a row whose every entry is `-inf` becomes zeros.
    private static func softmaxOrZeros(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var maximum = -Float.infinity
        for j in 0..<count { maximum = max(maximum, x[j]) }
        guard maximum != -.infinity else {
            x.update(repeating: 0, count: count)
            return
        }
        var sum: Float = 0
        for j in 0..<count {
            x[j] = exp(x[j] - maximum)
            sum += x[j]
        }
        let inverse = 1 / sum
        for j in 0..<count { x[j] *= inverse }
    }
}

extension AttentionMaskStrides {
    /// The offset of mask element `(b, head, q, k)` of `[B, h, Sq, Sk]`.
    func offset(_ b: Int, _ head: Int, _ q: Int, _ k: Int) -> Int {
        b * batch + head * self.head + q * query + k * key
    }

    /// As `tempo_attention_args` holds them.
    var int64Tuple: (Int64, Int64, Int64, Int64) { (Int64(batch), Int64(head), Int64(query), Int64(key)) }
}
