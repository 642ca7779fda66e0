import TempoTestSupport

@testable import Tempo

/// A TCN computed in Double from its definition (locuslab's `TemporalConvNet.forward`), composed
/// from TempoTestSupport's convolution and weight-norm references; only the parameter values
/// come from the layer under test.
///
/// `x` `[B, Cin, L]`; returns `[B, channels.last, L]`.
func referenceTCN(_ tcn: TCN, x: [Float], batch: Int, length: Int) throws -> [Float] {
    try tcn.blocks.reduce(x) { h, block in try referenceTemporalBlock(block, x: h, batch: batch, length: length) }
}

/// One `TemporalBlock.forward`: `relu(relu(conv2(relu(conv1(x)))) + residual)`, in eval mode.
func referenceTemporalBlock(_ block: TemporalBlock, x: [Float], batch: Int, length: Int) throws -> [Float] {
    let (k, d) = (block.kernelSize, block.dilation)
    func causal(_ input: [Float], _ conv: WeightNormalizedConv1d) throws -> [Float] {
        let weight = referenceWeightNorm(try conv.weightV.value.values, g: try conv.weightG.value.values)
        // Left padding (K-1)*d and nothing on the right: locuslab's padding followed by Chomp1d.
        return referenceConv1d(
            input, weight: weight, bias: try conv.bias?.value.values, batch: batch, inputChannels: conv.inputChannels,
            outputChannels: conv.outputChannels, length: length, kernelSize: k, dilation: d, groups: 1,
            left: (k - 1) * d, right: 0
        ).map { max($0, 0) }
    }
    let out = try causal(causal(x, block.conv1), block.conv2)
    var residual = x
    if let downsample = block.downsample {
        residual = referenceConv1d(
            x, weight: try downsample.weight.value.values, bias: try downsample.bias?.value.values, batch: batch,
            inputChannels: block.inputChannels, outputChannels: block.outputChannels, length: length, kernelSize: 1,
            dilation: 1, groups: 1, left: 0, right: 0)
    }
    return zip(out, residual).map { max($0 + $1, 0) }
}

/// Random values for every parameter of `module`, with `weight_g` away from `||weight_v||` (so the
/// weight norm does something) and every output O(1): g in 0.5...1.5, v and weights N(0, 1)
/// (only their direction matters for v), biases N(0, 0.1²). Keyed by `namedParameters()`.
func randomParameters(for module: Module, seed: UInt64) throws -> [String: Tensor] {
    var tensors: [String: Tensor] = [:]
    for (index, (key, parameter)) in module.namedParameters().enumerated() {
        let seed = seed &* 1000 &+ UInt64(index)
        let shape = parameter.shape
        if key.hasSuffix("weight_g") {
            tensors[key] = try Tensor.uniform(shape, in: 0.5...1.5, seed: seed)
        } else if key.hasSuffix("bias") {
            tensors[key] = try Tensor.normal(shape, standardDeviation: 0.1, seed: seed)
        } else {
            // A 1x1 downsample weight of N(0, 1) would make the residual dominate; scale it down.
            let deviation: Float = key.hasSuffix("downsample.weight") ? 1 / Float(shape[1]).squareRoot() : 1
            tensors[key] = try Tensor.normal(shape, standardDeviation: deviation, seed: seed)
        }
    }
    return tensors
}
