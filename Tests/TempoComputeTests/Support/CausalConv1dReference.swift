import Foundation

extension Reference {
    /// The causal convolution in Double, from its definition in `Tensor.causalConv1d`.
    /// x `[B, Cin, L]`, weight `[Cout, Cin/groups, K]`, bias `[Cout]`; returns `[B, Cout, L]`.
    static func causalConv1d(
        _ x: [Float], weight: [Float], bias: [Float]?, batch: Int, inputChannels: Int, outputChannels: Int,
        length: Int, kernelSize: Int, dilation: Int, groups: Int
    ) -> [Float] {
        let perGroup = inputChannels / groups, outputsPerGroup = outputChannels / groups
        var y = [Float](repeating: 0, count: batch * outputChannels * length)
        for b in 0..<batch {
            for o in 0..<outputChannels {
                let group = o / outputsPerGroup
                for t in 0..<length {
                    var sum = Double(bias?[o] ?? 0)
                    for c in 0..<perGroup {
                        for k in 0..<kernelSize {
                            let source = t - (kernelSize - 1 - k) * dilation
                            guard source >= 0 else { continue }
                            let input = x[(b * inputChannels + group * perGroup + c) * length + source]
                            sum += Double(weight[(o * perGroup + c) * kernelSize + k]) * Double(input)
                        }
                    }
                    y[(b * outputChannels + o) * length + t] = Float(sum)
                }
            }
        }
        return y
    }
}

/// Reference arrays copied from `../shared/reference` (computed by ONNX Runtime), next to this file.
let computeFixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appending(path: "Fixtures")

/// A raw little-endian float32 file.
func readFloats(_ url: URL) throws -> [Float] {
    let data = try Data(contentsOf: url)
    return data.withUnsafeBytes { raw in
        (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
}
