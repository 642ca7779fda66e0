import Foundation
import TempoTestSupport
import Testing

@testable import Tempo

@Suite("MultiheadAttention key-value cache")
struct KeyValueCacheTests {
    /// Decoding `x` in chunks of `chunks` steps gives the full causal call's outputs.
    /// With `padded`, batch element 1 ignores key 0 (left padding) in both calls.
    private func checkIncremental(device: Device, batchFirst: Bool, chunks: [Int], padded: Bool = false) throws {
        let (batch, embed, heads) = (2, 10, 5)
        let length = chunks.reduce(0, +)
        let (layer, parameters) = try randomMultihead(embed: embed, heads: heads, batchFirst: batchFirst, seed: 90, device: device)
        layer.eval()
        let lengthAxis = batchFirst ? 1 : 0
        let x = try Tensor.normal(batchFirst ? [batch, length, embed] : [length, batch, embed], seed: 14, device: device)
        let ignores: (Int, Int) -> Bool = { b, j in padded && b == 1 && j == 0 }
        func padding(_ keys: Int) throws -> Tensor? {
            padded ? try maskTensor([batch, keys], device: device) { ignores($0 / keys, $0 % keys) } : nil
        }
        let full = try layer(x, key: x, value: x, keyPaddingMask: padding(length), needWeights: false, isCausal: true).output
        var cache = MultiheadAttention.KeyValueCache()
        var start = 0
        var pieces: [Tensor] = []
        for chunk in chunks {
            let step = try x.slice(axis: lengthAxis, range: start..<start + chunk)
            pieces.append(try layer(step, key: step, value: step, cache: &cache, keyPaddingMask: padding(start + chunk)))
            start += chunk
            #expect(cache.length == start)
            #expect(cache.keys?.shape == [batch, heads, start, embed / heads])
        }
        let incremental = try Tensor.concatenate(pieces, axis: lengthAxis)
        #expect(incremental.shape == full.shape)
        let what = "chunks \(chunks) on \(device.id)"
        expectClose(try incremental.values, try full.values, Tolerance(absolute: 1e-5, relative: 1e-4), "incremental vs full, \(what)")
        // And both against the float64 causal reference.
        let xb = batchFirst ? try x.values.doubles : batchFirstValues(try x.values.doubles, length: length, batch: batch)
        let expected = AttentionReference.multihead(
            parameters, query: xb, key: xb, value: xb, batch: batch, queryLength: length, keyLength: length,
            allowed: { b, _, i, j in j <= i && !ignores(b, j) })
        let actual = batchFirst ? try incremental.values : swappingLeadingAxes(try incremental.values, length, batch, embed)
        expectClose(actual, expected.output.floats, attentionTolerance, "incremental vs reference, \(what)")
    }

    @Test("one step at a time equals the full causal call", arguments: allDevices)
    func singleSteps(device: Device) throws {
        try checkIncremental(device: device, batchFirst: false, chunks: Array(repeating: 1, count: 7))
    }

    @Test("chunks after cached steps (an end-aligned causal mask) equal the full causal call", arguments: allDevices)
    func chunks(device: Device) throws {
        try checkIncremental(device: device, batchFirst: true, chunks: [3, 1, 4, 2])
    }

    @Test("left padding over cached and new keys, in chunks, equals the full causal call", arguments: allDevices)
    func padding(device: Device) throws {
        try checkIncremental(device: device, batchFirst: false, chunks: [1, 2, 1, 3], padded: true)
    }

    @Test("a cache from another batch size throws naming the cache")
    func wrongCache() throws {
        let layer = try MultiheadAttention(embedDimension: 4, heads: 2)
        var cache = MultiheadAttention.KeyValueCache()
        let x = try Tensor.zeros([1, 2, 4])
        _ = try layer(x, key: x, value: x, cache: &cache)
        let other = try Tensor.zeros([1, 3, 4])
        expectTempoError(containing: ["cache", "B = 3", "B = 2"]) { _ = try layer(other, key: other, value: other, cache: &cache) }
        // The padding mask covers the cached key and the new one.
        expectTempoError(containing: ["keyPaddingMask", "[2, 2]", "[2, 1]"]) {
            _ = try layer(x, key: x, value: x, cache: &cache, keyPaddingMask: Tensor.zeros([2, 1]))
        }
    }
}
