/// PyTorch's `F.conv1d` in Double, from its definition, for the conv tests of every target: zero-pad x with `left` steps before and
/// `right` after, then cross-correlate (stride 1, no kernel flip).
/// x `[B, Cin, L]`, weight `[Cout, Cin/groups, K]`, bias `[Cout]`; returns `[B, Cout, L + left + right - (K-1)*d]`.
public func referenceConv1d(
    _ x: [Float], weight: [Float], bias: [Float]?, batch: Int, inputChannels: Int, outputChannels: Int,
    length: Int, kernelSize: Int, dilation: Int, groups: Int, left: Int, right: Int
) -> [Float] {
    let perGroup = inputChannels / groups, outputsPerGroup = outputChannels / groups
    let outputLength = length + left + right - (kernelSize - 1) * dilation
    var y = [Float](repeating: 0, count: batch * outputChannels * outputLength)
    for b in 0..<batch {
        for o in 0..<outputChannels {
            let group = o / outputsPerGroup
            for t in 0..<outputLength {
                var sum = Double(bias?[o] ?? 0)
                for c in 0..<perGroup {
                    for k in 0..<kernelSize {
                        // Index into the padded input, then back into x; the padding is zeros.
                        let source = t + k * dilation - left
                        guard source >= 0, source < length else { continue }
                        let input = x[(b * inputChannels + group * perGroup + c) * length + source]
                        sum += Double(weight[(o * perGroup + c) * kernelSize + k]) * Double(input)
                    }
                }
                y[(b * outputChannels + o) * outputLength + t] = Float(sum)
            }
        }
    }
    return y
}
