import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

/// Float32 attention against the float64 references: sums of a few dozen products of values of
/// order 1, then a softmax.
let attentionTolerance = Tolerance(absolute: 2e-5, relative: 2e-4)

/// Replaces every parameter of `module` with N(0, 0.5²) values (biases included, so that a
/// missing bias would show) and returns them by key as host arrays.
@discardableResult
func randomizeParameters(of module: Module, seed: UInt64) throws -> [String: [Double]] {
    var tensors: [String: Tensor] = [:]
    for (index, entry) in module.namedParameters().enumerated() {
        tensors[entry.key] = try Tensor.normal(
            entry.parameter.shape, standardDeviation: 0.5, seed: seed + UInt64(index), device: entry.parameter.device)
    }
    try module.load(stateDict: tensors)
    return try tensors.mapValues { try $0.values.doubles }
}

/// A `MultiheadAttention` with random parameters and the same parameters for the reference.
func randomMultihead(
    embed: Int, heads: Int, keyDimension: Int? = nil, valueDimension: Int? = nil, bias: Bool = true, batchFirst: Bool,
    seed: UInt64, device: Device, prefix: String = ""
) throws -> (MultiheadAttention, AttentionReference.MultiheadParameters) {
    let layer = try MultiheadAttention(
        embedDimension: embed, heads: heads, bias: bias, keyDimension: keyDimension, valueDimension: valueDimension,
        batchFirst: batchFirst, device: device)
    let values = try randomizeParameters(of: layer, seed: seed)
    return (layer, try multiheadParameters(values, prefix: prefix, embed: embed, heads: heads))
}

/// The reference's view of the `nn.MultiheadAttention` parameters under `prefix` in `values`.
func multiheadParameters(_ values: [String: [Double]], prefix: String, embed: Int, heads: Int) throws -> AttentionReference.MultiheadParameters {
    func part(_ index: Int) throws -> [Double] {
        if let packed = values[prefix + "in_proj_weight"] { return Array(packed[index * embed * embed..<(index + 1) * embed * embed]) }
        return try #require(values[prefix + ["q_proj_weight", "k_proj_weight", "v_proj_weight"][index]])
    }
    return AttentionReference.MultiheadParameters(
        embed: embed, heads: heads, queryWeight: try part(0), keyWeight: try part(1), valueWeight: try part(2),
        inBias: values[prefix + "in_proj_bias"], outWeight: try #require(values[prefix + "out_proj.weight"]),
        outBias: values[prefix + "out_proj.bias"])
}

/// `values` of a sequence-major `[S, B, F]` array as batch-first `[B, S, F]`, or back.
func batchFirstValues(_ values: [Double], length: Int, batch: Int) -> [Double] {
    swappingLeadingAxes(values.floats, length, batch, values.count / (length * batch)).doubles
}

/// A 0/1 mask tensor from a predicate over its flat indices.
func maskTensor(_ shape: [Int], device: Device, _ isSet: (Int) -> Bool) throws -> Tensor {
    try Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { isSet($0) ? 1 : 0 }, device: device)
}
