import Foundation
import TempoTestSupport

extension Reference {
    /// The causal convolution in Double, from its definition in `Tensor.causalConv1d`.
    /// x `[B, Cin, L]`, weight `[Cout, Cin/groups, K]`, bias `[Cout]`; returns `[B, Cout, L]`.
    static func causalConv1d(
        _ x: [Float], weight: [Float], bias: [Float]?, batch: Int, inputChannels: Int, outputChannels: Int,
        length: Int, kernelSize: Int, dilation: Int, groups: Int
    ) -> [Float] {
        // Causal is PyTorch's convolution with all (K-1)*d zeros on the left.
        referenceConv1d(
            x, weight: weight, bias: bias, batch: batch, inputChannels: inputChannels, outputChannels: outputChannels,
            length: length, kernelSize: kernelSize, dilation: dilation, groups: groups,
            left: (kernelSize - 1) * dilation, right: 0)
    }
}

/// Reference arrays copied from `../shared/reference` (computed by ONNX Runtime), next to this file.
let computeFixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appending(path: "Fixtures")
