import TempoKernels

extension OpenCLBackend {
    func attention(
        _ d: AttentionDescriptor, query: any DeviceBuffer, key: any DeviceBuffer, value: any DeviceBuffer,
        mask: (any DeviceBuffer)?, additiveMask: (any DeviceBuffer)?, output: any DeviceBuffer
    ) throws {
        try attention(
            d, query: query, key: key, value: value, mask: mask, additiveMask: additiveMask, output: output,
            shape: tunables.shape)
    }

    /// `attention` in a given kernel shape (tests force each one; see ``OpenCLTunables``).
    ///
    /// One launch of `attention_cpu` or `attention_gpu` of `Kernels/attention.cl`, whose header
    /// gives the geometry; queries, keys and values are read where they are. The GPU shape falls
    /// back to `attention_cpu`, which any device runs correctly, when a head is wider than its
    /// private arrays or a key/value tile does not fit the device's local memory.
    func attention(
        _ d: AttentionDescriptor, query: any DeviceBuffer, key: any DeviceBuffer, value: any DeviceBuffer,
        mask: (any DeviceBuffer)?, additiveMask: (any DeviceBuffer)?, output: any DeviceBuffer,
        shape: OpenCLTunables.Shape
    ) throws {
        let program = try program(.attention)
        let sizes: [KernelArgument] = [
            .int(d.batch), .int(d.heads), .int(d.keyValueHeads), .int(d.queryLength), .int(d.keyLength),
            .int(d.headDimension), .int(d.valueDimension), .int(d.causal ? 1 : 0), .float(d.scale * log2e),
        ]
        let inputs: [KernelArgument] = [.buffer(query), .buffer(key), .buffer(value)]
            + maskArguments(d, mask: mask, additiveMask: additiveMask, fallback: query) + [.buffer(output)]
        let tile = tunables.attentionGPUKeys * (d.headDimension + d.valueDimension)
        if shape == .gpu, max(d.headDimension, d.valueDimension) <= tunables.attentionGPUMaxDimension,
           tile * MemoryLayout<Float>.stride <= record.localMemoryBytes
        {
            let queries = tunables.attentionGPUQueries
            try launch(
                program, "attention_gpu", global: [(d.queryLength + queries - 1) / queries * queries, d.batch * d.heads],
                local: [queries, 1], inputs + sizes + [.localFloats(tile)])
            return
        }
        let blockQueries = 16 * tunables.attentionCPUQueryVectors
        let items = (d.queryLength + blockQueries - 1) / blockQueries * d.batch * d.heads
        let workItems = min(items, tunables.attentionCPUItemsPerUnit * max(record.device.computeUnits, 1))
        // Each work-item's transposed query block and output accumulator: O(d) per work-item,
        // independent of the sequence lengths.
        let scratch = try allocate(count: workItems * (d.headDimension + d.valueDimension) * blockQueries)
        try launch(
            program, "attention_cpu", global: [workItems], local: [1],
            inputs + [.buffer(scratch)] + sizes + [.int(items)])
    }

    /// The probabilities `[B, h, Sq, Sk]`: `attention_probabilities`, one work-item per row.
    func attentionProbabilities(
        _ d: AttentionDescriptor, query: any DeviceBuffer, key: any DeviceBuffer,
        mask: (any DeviceBuffer)?, additiveMask: (any DeviceBuffer)?, output: any DeviceBuffer
    ) throws {
        try launch(
            try program(.attention), "attention_probabilities", global: [d.queryLength, d.batch * d.heads],
            [.buffer(query), .buffer(key)] + maskArguments(d, mask: mask, additiveMask: additiveMask, fallback: query)
                + [
                    .buffer(output), .int(d.heads), .int(d.keyValueHeads), .int(d.queryLength), .int(d.keyLength),
                    .int(d.headDimension), .int(d.causal ? 1 : 0), .float(d.scale * log2e),
                ])
    }

    /// `ATT_MASK_ARGS`: each mask's buffer, flag and four strides. A missing mask passes
    /// `fallback` (any valid buffer) with its flag off.
    private func maskArguments(
        _ d: AttentionDescriptor, mask: (any DeviceBuffer)?, additiveMask: (any DeviceBuffer)?, fallback: any DeviceBuffer
    ) -> [KernelArgument] {
        func arguments(_ buffer: (any DeviceBuffer)?, _ strides: AttentionMaskStrides?) -> [KernelArgument] {
            let s = strides ?? AttentionMaskStrides(batch: 0, head: 0, query: 0, key: 0)
            return [
                .buffer(buffer ?? fallback), .int(buffer == nil ? 0 : 1), .int(s.batch), .int(s.head), .int(s.query),
                .int(s.key),
            ]
        }
        return arguments(mask, d.mask) + arguments(additiveMask, d.additiveMask)
    }
}

/// log2(e): the kernels keep scores in base 2 and weigh them with exp2.
private let log2e: Float = 1.4426950408889634
