/// Streaming convolution steps that run as one backend call per sample: a TCN's convolutions, each
/// a ``Tensor/causalConv1dStep(weight:bias:dilation:groups:history:activation:residual:outputActivation:)``
/// whose input and residual are the chain's input or an earlier link's output.
///
/// Everything but the sample is checked once, when the chain is made, and the links' outputs
/// but the last live in buffers the chain keeps; so a sample costs one shape check, one output
/// tensor and one backend call. On the CPU that call runs the links as dependent phases of one
/// job on the thread team: one hand-off per sample, not one per convolution.
///
/// ```swift
/// // conv1 with ReLU, then conv2 with ReLU, the block input added, and ReLU (one TCN block):
/// let chain = try CausalConv1dStepChain(batch: 1, inputChannels: 64, links: [
///     .init(input: .chainInput, weight: w1, bias: b1, dilation: 2, history: h1, activation: .relu),
///     .init(input: .link(0), weight: w2, bias: b2, dilation: 2, history: h2, activation: .relu,
///           residual: .chainInput, outputActivation: .relu),
/// ])
/// let y = try chain(x)    // x [1, 64] -> y [1, 64], and h1, h2 advanced by one sample
/// ```
///
/// Not thread-safe: like its histories, one stream steps it from one thread at a time.
public final class CausalConv1dStepChain {
    /// Where a link reads its input or residual.
    public enum Source: Sendable, Hashable {
        /// The sample passed to ``callAsFunction(_:)``, `[B, Cin]`.
        case chainInput
        /// The output of the link at this index, which must come earlier.
        case link(Int)
    }

    /// One step of the chain: the arguments of ``Tensor/causalConv1dStep(weight:bias:dilation:groups:history:activation:residual:outputActivation:)``.
    public struct Link {
        public var input: Source
        /// `[Cout, Cin/groups, K]`
        public var weight: Tensor
        /// `[Cout]`, or nil.
        public var bias: Tensor?
        public var dilation: Int
        public var groups: Int
        /// This link's own: no two links may share one.
        public var history: CausalConv1dHistory
        public var activation: Activation?
        /// `[B, Cout]` added after `activation`, or nil.
        public var residual: Source?
        public var outputActivation: Activation?

        public init(
            input: Source, weight: Tensor, bias: Tensor? = nil, dilation: Int = 1, groups: Int = 1,
            history: CausalConv1dHistory, activation: Activation? = nil, residual: Source? = nil,
            outputActivation: Activation? = nil
        ) {
            self.input = input
            self.weight = weight
            self.bias = bias
            self.dilation = dilation
            self.groups = groups
            self.history = history
            self.activation = activation
            self.residual = residual
            self.outputActivation = outputActivation
        }
    }

    /// B
    public let batch: Int
    /// Cin of the chain's input.
    public let inputChannels: Int
    /// Where the weights, histories and samples live.
    public let device: Device
    /// The links, in the order they run.
    public let links: [Link]

    /// The links as the backend runs them, prepared once.
    private let prepared: any PreparedCausalConv1dSteps
    /// The last link's output shape, `[B, Cout]`.
    private let outputShape: [Int]

    /// Checks every link against the sizes of what it reads.
    ///
    /// - Throws: ``TempoError/invalidArgument(argument:expected:actual:)`` naming `links` when
    ///   there are none, or `links[i].input` / `links[i].residual` for a source that is not an
    ///   earlier link, or `links[i].history` for a history another link uses; otherwise what
    ///   ``Tensor/causalConv1dStep(weight:bias:dilation:groups:history:activation:residual:outputActivation:)``
    ///   throws for link i's arguments, named as `links[i].weight` and so on (`links[i].input` for
    ///   what it reads).
    public init(batch: Int, inputChannels: Int, links: [Link]) throws {
        guard let first = links.first else {
            throw TempoError.invalidArgument(argument: "links", expected: "at least one link", actual: "none")
        }
        device = first.weight.device
        // Stand-ins with the shapes the links will read; their values are never used.
        let sample = try Tensor.uninitialized([batch, inputChannels], device: device)
        var outputs: [Tensor] = []
        var calls: [CausalConv1dStepCall] = []
        for (index, link) in links.enumerated() {
            func source(_ source: Source, _ role: String) throws -> Tensor {
                switch source {
                case .chainInput: return sample
                case .link(let earlier) where (0..<index).contains(earlier): return outputs[earlier]
                case .link(let other):
                    throw TempoError.invalidArgument(
                        argument: "links[\(index)].\(role)", expected: "the chain input or a link before \(index)",
                        actual: "link \(other)")
                }
            }
            if let other = links[..<index].firstIndex(where: { $0.history === link.history }) {
                throw TempoError.invalidArgument(
                    argument: "links[\(index)].history", expected: "a history of its own", actual: "the history of link \(other)")
            }
            let input = try source(link.input, "input")
            let residual = try link.residual.map { try source($0, "residual") }
            let descriptor: CausalConv1dStepDescriptor
            do {
                descriptor = try CausalConv1dStepDescriptor(
                    input: input, weight: link.weight, bias: link.bias, dilation: link.dilation, groups: link.groups,
                    history: link.history, activation: link.activation, residual: residual,
                    outputActivation: link.outputActivation)
            } catch let error as TempoError {
                throw error.naming(within: "links[\(index)]")
            }
            let output = try Tensor.uninitialized([batch, descriptor.convolution.outputChannels], device: device)
            outputs.append(output)
            calls.append(
                CausalConv1dStepCall(
                    descriptor: descriptor, input: input.buffer, weight: link.weight.buffer, bias: link.bias?.buffer,
                    residual: residual?.buffer, history: link.history, output: output.buffer))
        }
        self.batch = batch
        self.inputChannels = inputChannels
        self.links = links
        prepared = try device.backend().prepareCausalConv1dSteps(calls, sample: sample.buffer)
        outputShape = outputs[outputs.count - 1].shape
    }

    /// The last link's output for sample `x` `[B, Cin]`, `[B, Cout]`; every link's history
    /// advances by one sample (none when it throws).
    ///
    /// - Throws: ``TempoError/shapeMismatch(argument:expected:actual:)`` naming `x` unless it is
    ///   `[B, Cin]`; ``TempoError/deviceMismatch(argument:expected:actual:)`` unless it is on the
    ///   chain's device.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.shape == [batch, inputChannels] else {
            throw TempoError.shapeMismatch(argument: "x", expected: "[B, Cin] = [\(batch), \(inputChannels)]", actual: x.shape)
        }
        guard x.device == device else {
            throw TempoError.deviceMismatch(argument: "x", expected: device.id, actual: x.device.id)
        }
        let result = try Tensor.uninitialized(outputShape, device: device)
        try prepared.run(sample: x.buffer, output: result.buffer)
        for link in links { link.history.advance() }
        return result
    }
}
