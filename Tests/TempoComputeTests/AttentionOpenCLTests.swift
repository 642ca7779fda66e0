import TempoTestSupport
import Testing

@testable import TempoCompute

/// Runs one case in one kernel shape (the public API takes the device's default) into an output
/// filled with NaN, so that an element no kernel writes cannot pass for a result.
private func run(_ c: AttentionCase, on device: Device, shape: OpenCLTunables.Shape) throws -> [Float] {
    let backend = try #require(try device.backend() as? OpenCLBackend)
    let (q, k, v, mask, additive) = try c.tensors(on: device)
    let descriptor = try AttentionDescriptor(
        query: q, key: k, value: v, scale: c.scale, causal: c.causal, mask: mask, additiveMask: additive)
    let output = try Tensor(shape: [c.batch, c.heads, c.queryLength, c.valueDimension], repeating: .nan, device: device)
    try backend.attention(
        descriptor, query: q.buffer, key: k.buffer, value: v.buffer, mask: mask?.buffer, additiveMask: additive?.buffer,
        output: output.buffer, shape: shape)
    return try output.values
}

@Suite("Attention, OpenCL kernel shapes")
struct AttentionOpenCLTests {
    @Test("OpenCL is present when required")
    func availability() {
        checkOpenCLRequirement()
    }

    @Test("d 1, 8, 64, 80 with S 1, 7, 65, 300, full and causal", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func sizes(device: Device, shape: OpenCLTunables.Shape) throws {
        for headDimension in [1, 8, 64, 80] {
            for length in [1, 7, 65, 300] {
                for causal in [false, true] {
                    let c = AttentionCase(queryLength: length, headDimension: headDimension, causal: causal)
                    expectClose(try run(c, on: device, shape: shape), c.reference().output, c.tolerance, "\(c) \(shape) shape on \(device.id)")
                }
            }
        }
    }

    @Test("GQA, Sq != Sk and every mask kind", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func masksAndGroups(device: Device, shape: OpenCLTunables.Shape) throws {
        let cases = [
            AttentionCase(batch: 2, heads: 6, keyValueHeads: 2, queryLength: 7, keyLength: 65, headDimension: 8, valueDimension: 5, causal: true),
            AttentionCase(heads: 4, keyValueHeads: 1, queryLength: 70, keyLength: 9, headDimension: 16, valueDimension: 24, causal: true),
            AttentionCase(batch: 2, heads: 3, keyValueHeads: 3, queryLength: 67, keyLength: 70, headDimension: 8, maskShape: [2, 1, 1, 70]),
            AttentionCase(batch: 2, heads: 3, keyValueHeads: 3, queryLength: 67, keyLength: 70, headDimension: 8, causal: true, maskShape: [67, 70]),
            AttentionCase(batch: 2, heads: 2, queryLength: 33, keyLength: 66, headDimension: 16, additiveShape: [2, 2, 33, 66]),
            AttentionCase(
                batch: 2, heads: 2, queryLength: 33, keyLength: 66, headDimension: 16, causal: true, scale: 0.3,
                maskShape: [2, 1, 33, 66], additiveShape: [2, 33, 66]),
        ]
        for c in cases {
            expectClose(try run(c, on: device, shape: shape), c.reference().output, c.tolerance, "\(c) \(shape) shape on \(device.id)")
        }
    }

    @Test("the GPU shape falls back to the CPU shape for heads wider than its private arrays", .needsOpenCL, arguments: TestDevices.openCL)
    func wideHeads(device: Device) throws {
        let c = AttentionCase(queryLength: 20, headDimension: 130, valueDimension: 3, causal: true)
        expectClose(try run(c, on: device, shape: .gpu), c.reference().output, c.tolerance, "\(c) on \(device.id)")
    }
}
