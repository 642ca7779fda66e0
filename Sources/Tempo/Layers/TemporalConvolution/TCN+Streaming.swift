import TempoCompute

extension TemporalBlock {
    /// What a ``TemporalBlock`` fed one sample at a time keeps between samples: for each of its
    /// two causal convolutions, the last `(K-1)*d` inputs of each of B sequences.
    ///
    /// Made by ``TemporalBlock/makeStreamingState(batch:)``; advanced in place by
    /// ``TemporalBlock/step(_:state:)``. Not thread-safe: one stream, one thread at a time.
    public final class StreamingState {
        /// B
        public let batch: Int
        /// conv1's inputs (the block's input, Cin channels).
        let conv1: CausalConv1dHistory
        /// conv2's inputs (conv1's activations, Cout channels).
        let conv2: CausalConv1dHistory
        /// The 1x1 downsample's, which looks at no earlier sample (it holds nothing).
        let downsample: CausalConv1dHistory?
        /// The block's convolutions as one chain.
        var chain = KeptStepChain()

        init(block: TemporalBlock, batch: Int) throws {
            let device = block.device
            conv1 = try CausalConv1dHistory(
                device: device, batch: batch, channels: block.inputChannels, kernelSize: block.kernelSize,
                dilation: block.dilation)
            conv2 = try CausalConv1dHistory(
                device: device, batch: batch, channels: block.outputChannels, kernelSize: block.kernelSize,
                dilation: block.dilation)
            downsample = block.downsample == nil
                ? nil
                : try CausalConv1dHistory(device: device, batch: batch, channels: block.inputChannels, kernelSize: 1, dilation: 1)
            self.batch = batch
        }

        /// Samples stepped since creation or the last ``reset()``.
        public var steps: Int { conv1.steps }

        /// Back to the start of new sequences (zeros before them).
        public func reset() throws {
            try conv1.reset()
            try conv2.reset()
            try downsample?.reset()
        }

        /// Whether this state was made for `block`'s sizes on `device`.
        func fits(_ block: TemporalBlock, device: Device) -> Bool {
            conv1.device == device && conv1.channels == block.inputChannels && conv2.channels == block.outputChannels
                && conv1.kernelSize == block.kernelSize && conv1.dilation == block.dilation
                && (downsample != nil) == (block.downsample != nil)
        }
    }

    /// A zeroed streaming state for `batch` sequences on this block's device.
    ///
    /// - Throws: ``TempoCompute/TempoError/invalidArgument(argument:expected:actual:)`` for a batch below 1.
    public func makeStreamingState(batch: Int) throws -> StreamingState {
        try StreamingState(block: self, batch: batch)
    }

    /// The block's output for the next sample of each sequence: `x` `[B, Cin]` is sample `t`,
    /// the result `[B, Cout]` equals column `t` of the block over the whole sequence (in
    /// evaluation mode; in training mode each call draws its own dropout masks), at the cost of one
    /// output column per convolution instead of a recomputed window.
    ///
    /// In evaluation mode (or without dropout) the block is one ``TempoCompute/CausalConv1dStepChain``
    /// (see ``streamingLinks(input:first:state:)``), made at the first step and kept in the state
    /// until a parameter changes: conv1 with ReLU, then conv2 with ReLU, the residual added, and
    /// the final ReLU fused into its epilogue.
    ///
    /// - Throws: ``TempoCompute/TempoError/shapeMismatch(argument:expected:actual:)`` naming `x`
    ///   unless it is `[state.batch, Cin]`; ``TempoCompute/TempoError/invalidArgument(argument:expected:actual:)``
    ///   naming `state` when it was made for another block or device.
    public func step(_ x: Tensor, state: StreamingState) throws -> Tensor {
        // The chain checks x as requireSample would; the rest was checked when it was made.
        if !appliesDropout, let chain = state.chain.current(for: self) { return try chain(x) }
        try requireSample(x, channels: inputChannels, batch: state.batch)
        try requireFitting(state, device: x.device)
        return try checkedStep(x, state: state)
    }

    /// Throws naming `state` unless it was made for this block on `device`.
    func requireFitting(_ state: StreamingState, device: Device) throws {
        guard state.fits(self, device: device) else {
            throw TempoError.invalidArgument(
                argument: "state", expected: "a streaming state made by this block (makeStreamingState(batch:))",
                actual: "one made for other sizes or another device")
        }
    }

    /// ``step(_:state:)`` once `x` and `state` are known to fit: a TCN checks its input and every
    /// block's state once per sample, and each block's input is the block before's output.
    func checkedStep(_ x: Tensor, state: StreamingState) throws -> Tensor {
        if !appliesDropout {
            let chain = try state.chain.current(for: self)
                ?? state.chain.keep(
                    CausalConv1dStepChain(
                        batch: state.batch, inputChannels: inputChannels,
                        links: streamingLinks(input: .chainInput, first: 0, state: state)),
                    for: self)
            return try chain(x)
        }
        // Dropout sits between each ReLU and what follows, where the fused epilogue has no place.
        // `fits` made sure the state has a downsample history exactly when the block has a downsample.
        let residual = switch (downsample, state.downsample) {
        case let (downsample?, history?):
            try x.causalConv1dStep(weight: downsample.weight.value, bias: downsample.bias?.value, history: history)
        default: x
        }
        let hidden = try x.causalConv1dStep(
            weight: conv1.effectiveWeight(), bias: conv1.bias?.value, dilation: dilation, history: state.conv1,
            activation: .relu)
        let out = try dropout2(
            dropout1(hidden).causalConv1dStep(
                weight: conv2.effectiveWeight(), bias: conv2.bias?.value, dilation: dilation, history: state.conv2,
                activation: .relu))
        return try (out + residual).relu()
    }

    /// The block in evaluation mode as links of a step chain, numbered from `first`, its input
    /// read from `input`: the downsample (when the channel counts differ), conv1 with ReLU, then
    /// conv2 with ReLU, the residual added, and the final ReLU fused into its epilogue.
    func streamingLinks(
        input: CausalConv1dStepChain.Source, first: Int, state: StreamingState
    ) throws -> [CausalConv1dStepChain.Link] {
        var links: [CausalConv1dStepChain.Link] = []
        var residual = input
        if let downsample, let history = state.downsample {
            links.append(.init(input: input, weight: downsample.weight.value, bias: downsample.bias?.value, history: history))
            residual = .link(first)
        }
        let hidden = CausalConv1dStepChain.Source.link(first + links.count)
        links.append(
            .init(
                input: input, weight: try conv1.effectiveWeight(), bias: conv1.bias?.value, dilation: dilation,
                history: state.conv1, activation: .relu))
        links.append(
            .init(
                input: hidden, weight: try conv2.effectiveWeight(), bias: conv2.bias?.value, dilation: dilation,
                history: state.conv2, activation: .relu, residual: residual, outputActivation: .relu))
        return links
    }
}

extension TCN {
    /// What a ``TCN`` fed one sample at a time keeps between samples: each block's
    /// ``TemporalBlock/StreamingState``, `2(K-1)(2^n - 1)` samples of history in all.
    public final class StreamingState {
        /// B
        public let batch: Int
        let blocks: [TemporalBlock.StreamingState]
        /// All blocks' convolutions as one chain: one backend call per sample.
        var chain = KeptStepChain()

        init(network: TCN, batch: Int) throws {
            blocks = try network.blocks.map { try $0.makeStreamingState(batch: batch) }
            self.batch = batch
        }

        /// Samples stepped since creation or the last ``reset()``.
        public var steps: Int { blocks[0].steps }

        /// Back to the start of new sequences (zeros before them).
        public func reset() throws {
            for block in blocks { try block.reset() }
        }
    }

    /// A zeroed streaming state for `batch` sequences on this network's device.
    ///
    /// - Throws: ``TempoCompute/TempoError/invalidArgument(argument:expected:actual:)`` for a batch below 1.
    public func makeStreamingState(batch: Int) throws -> StreamingState {
        try StreamingState(network: self, batch: batch)
    }

    /// The network's output for the next sample of each sequence: `x` `[B, inputChannels]` is
    /// sample `t`, the result `[B, channels.last]` equals column `t` of ``callAsFunction(_:)`` over
    /// the whole sequence (in evaluation mode), for one output column of work per convolution:
    /// a new sample costs about `1/receptiveField` of recomputing the window it sees. Without
    /// dropout, every block's convolutions run as one ``TempoCompute/CausalConv1dStepChain``, one
    /// backend call per sample, kept in `state` until a parameter changes.
    ///
    /// ```swift
    /// tcn.eval()
    /// let state = try tcn.makeStreamingState(batch: 1)
    /// for sample in samples {                        // each [1, inputChannels]
    ///     let y = try tcn.step(sample, state: state)  // [1, channels.last]
    /// }
    /// ```
    ///
    /// - Throws: ``TempoCompute/TempoError/shapeMismatch(argument:expected:actual:)`` naming `x`
    ///   unless it is `[state.batch, inputChannels]`; ``TempoCompute/TempoError/invalidArgument(argument:expected:actual:)``
    ///   naming `state` when it was made for another network or device.
    public func step(_ x: Tensor, state: StreamingState) throws -> Tensor {
        let appliesDropout = blocks.contains(where: \.appliesDropout)
        // The chain checks x as requireSample would; the rest was checked when it was made.
        if !appliesDropout, let chain = state.chain.current(for: self) { return try chain(x) }
        try requireSample(x, channels: inputChannels, batch: state.batch)
        guard state.blocks.count == blocks.count else {
            throw TempoError.invalidArgument(
                argument: "state", expected: "a streaming state of \(blocks.count) blocks (makeStreamingState(batch:))",
                actual: "\(state.blocks.count) blocks")
        }
        for (block, blockState) in zip(blocks, state.blocks) {
            try block.requireFitting(blockState, device: x.device)
        }
        if appliesDropout {
            var y = x
            for (block, blockState) in zip(blocks, state.blocks) {
                y = try block.checkedStep(y, state: blockState)
            }
            return y
        }
        var links: [CausalConv1dStepChain.Link] = []
        for (block, blockState) in zip(blocks, state.blocks) {
            let input: CausalConv1dStepChain.Source = links.isEmpty ? .chainInput : .link(links.count - 1)
            links += try block.streamingLinks(input: input, first: links.count, state: blockState)
        }
        let chain = try state.chain.keep(
            CausalConv1dStepChain(batch: state.batch, inputChannels: inputChannels, links: links), for: self)
        return try chain(x)
    }
}

/// A streaming state's step chain, valid for the module it was made for while no parameter
/// changes (``Parameter/changeCount``): a new weight, a load or a move makes the next step build
/// a new one, so a sample costs one counter load instead of a look at every weight.
struct KeptStepChain {
    private var chain: CausalConv1dStepChain?
    private var module: ObjectIdentifier?
    private var parameterChanges = 0

    /// The chain, if it was made for `module` and no parameter has changed since.
    func current(for module: Module) -> CausalConv1dStepChain? {
        self.module == ObjectIdentifier(module) && parameterChanges == Parameter.changeCount ? chain : nil
    }

    /// Keeps `chain`, made for `module` from its current parameters, and returns it.
    mutating func keep(_ chain: CausalConv1dStepChain, for module: Module) -> CausalConv1dStepChain {
        // The identifier alone could name another module made at a freed one's address, but
        // making that module's parameters moved the count, so its first step builds its own chain.
        self.chain = chain
        self.module = ObjectIdentifier(module)
        parameterChanges = Parameter.changeCount
        return chain
    }
}

extension Module {
    /// Throws unless `x` is one sample `[batch, channels]` on this module's device, naming `x`.
    func requireSample(_ x: Tensor, channels: Int, batch: Int) throws {
        guard x.shape == [batch, channels] else {
            throw TempoError.shapeMismatch(argument: "x", expected: "[B, C] = [\(batch), \(channels)]", actual: x.shape)
        }
        try requireDevice(of: x)
    }
}
