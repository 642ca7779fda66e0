import TempoCompute

/// A temporal convolutional network, as `TemporalConvNet` of Bai, Kolter and Koltun's reference
/// code (locuslab/TCN): ``TemporalBlock``s `0..<n`, block `i` with dilation `2^i`, mapping
/// `channels[i-1]` (the input's channels for block 0) to `channels[i]`.
///
/// The network is causal: output step `t` depends on input steps `t - receptiveField + 1 ... t`
/// only (zeros before the start), so any sequence length works, including one shorter than the
/// receptive field.
///
/// `state_dict` keys are PyTorch's for locuslab's module: `network.{i}.conv1.bias`,
/// `network.{i}.conv1.weight_g`, `network.{i}.conv1.weight_v`, the same for `conv2`, their
/// duplicates `network.{i}.net.0.*` and `network.{i}.net.4.*`, and `network.{i}.downsample.weight`
/// / `.bias` where the channels change (see ``TemporalBlock`` for the duplicates and the
/// initialisation).
///
/// ```swift
/// let tcn = try TCN(inputChannels: 1, channels: [25, 25, 25, 25], kernelSize: 7, dropout: 0.05, device: device)
/// try tcn.load(safetensors: url)          // torch.save'd TemporalConvNet state_dict, as safetensors
/// tcn.eval()
/// let y = try tcn(x)                       // x [B, 1, L] -> y [B, 25, L]
/// ```
public final class TCN: Module, UnaryLayer {
    /// The input's channels.
    public let inputChannels: Int
    /// The output channels of each block; the last is the network's.
    public let channels: [Int]
    /// K, of every causal convolution.
    public let kernelSize: Int
    /// Block `i` has dilation `2^i`.
    public let blocks: [TemporalBlock]
    /// locuslab's `self.network = nn.Sequential(*layers)`: keys `network.{i}`.
    private let network: Sequential

    /// The input steps one output step spans: `1 + 2(K-1)(2^n - 1)` for `n` blocks (each block
    /// adds `2(K-1)2^i`).
    public var receptiveField: Int { 1 + 2 * (kernelSize - 1) * ((1 << blocks.count) - 1) }

    /// - Parameters:
    ///   - inputChannels: the input's channels (locuslab's `num_inputs`).
    ///   - channels: each block's output channels (`num_channels`), at least one block.
    ///   - kernelSize: K (locuslab's default 2).
    ///   - dropout: the probability of every dropout (locuslab's default 0.2).
    /// - Throws: ``TempoCompute/TempoError/invalidArgument(argument:expected:actual:)`` naming the
    ///   argument out of range.
    public init(
        inputChannels: Int, channels: [Int], kernelSize: Int = 2, dropout: Float = 0.2, device: Device = .cpu
    ) throws {
        // Block 30 would have dilation 2^30, past the longest history a causal convolution
        // takes (below 2^30) for any K > 1; the blocks check the rest.
        guard (1...30).contains(channels.count) else {
            throw TempoError.invalidArgument(
                argument: "channels", expected: "between 1 and 30 blocks", actual: "\(channels.count) blocks")
        }
        blocks = try channels.indices.map { i in
            try TemporalBlock(
                inputChannels: i == 0 ? inputChannels : channels[i - 1], outputChannels: channels[i],
                kernelSize: kernelSize, dilation: 1 << i, dropout: dropout, device: device)
        }
        network = Sequential(blocks)
        self.inputChannels = inputChannels
        self.channels = channels
        self.kernelSize = kernelSize
    }

    override public var members: [(key: String, member: ModuleMember)] {
        [("network", .module(network))]
    }

    /// `x`: `[B, inputChannels, L]`. Returns `[B, channels.last, L]`.
    ///
    /// - Throws: ``TempoCompute/TempoError/shapeMismatch(argument:expected:actual:)`` naming `x`
    ///   for another rank or channel count; ``TempoCompute/TempoError/deviceMismatch(argument:expected:actual:)``
    ///   when `x` is not on the network's device.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try requireSequence(x, channels: inputChannels)
        return try network(x)
    }
}
