// Tests for VectorMath (Sources/TempoCompute/CPU/VectorMath.swift).
//
// Written in the scratch package /tmp/vecmath against `@testable import TempoCompute`; in the Tempo
// package change the import to `@testable import TempoCompute`. Reference values are computed in
// Double with the C math library (Foundation). Run in debug and in release (`swift test -c release`).

import Foundation
import TempoTestSupport
import Testing

@testable import TempoCompute

// MARK: - Helpers


private typealias BufferFunction = (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

/// Every `step` from `lo` to `hi` (inclusive), rounded to float.
private func sweep(_ lo: Double, _ hi: Double, step: Double) -> [Float] {
    let n = Int(((hi - lo) / step).rounded())
    return (0...n).map { Float(lo + Double($0) * step) }
}

private func randomFloats(_ count: Int, in range: ClosedRange<Float>, seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

/// A subnormal float, about 1e-40.
private let subnormal = Float(bitPattern: 0x0001_16C2)

/// Values that exercise special cases: zeros, tiny and subnormal values, huge values, infinities.
private let edgeValues: [Float] = [
    0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, subnormal, -subnormal, 1e-38, -1e-38, 1e-30, -1e-30, 1e-10, -1e-10,
    1e-7, -1e-7, 1e-5, -1e-5, 0.5, -0.5, 1, -1, 2, -2, 10, -10, 1e3, -1e3, 1e10, -1e10,
    1e30, -1e30, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity,
]

private func apply(_ f: BufferFunction, _ xs: [Float]) -> [Float] {
    var ys = [Float](repeating: .nan, count: xs.count)
    xs.withUnsafeBufferPointer { x in
        ys.withUnsafeMutableBufferPointer { y in
            if let xb = x.baseAddress, let yb = y.baseAddress { f(xb, yb, xs.count) }
        }
    }
    return ys
}

/// Applies a SIMD16 building block to a buffer, 16 lanes at a time (tail zero-padded).
private func applySIMD(_ f: @escaping (SIMD16<Float>) -> SIMD16<Float>) -> BufferFunction {
    { x, y, count in VectorMath.map(x, y, count: count, f) }
}

private struct ErrorStats {
    var maxAbs = 0.0, maxRel = 0.0, maxScaled = 0.0
    var worstAbs: Float = 0, worstRel: Float = 0, worstScaled: Float = 0
    var failures: [String] = []
}

/// Compares `f` against `reference` on `xs`. Absolute error, relative error (where
/// |reference| > relativeFloor) and absolute error / max(1, |x|) are tracked; non-finite reference
/// values must match exactly (NaN for NaN, inf of the right sign).
private func measure(
    _ f: BufferFunction, _ xs: [Float], relativeFloor: Double = 1e-30,
    reference: (Double) -> Double
) -> ErrorStats {
    let ys = apply(f, xs)
    var stats = ErrorStats()
    for (x, y) in zip(xs, ys) {
        let want = reference(Double(x))
        let got = Double(y)
        if want.isNaN || got.isNaN || want.isInfinite || got.isInfinite {
            let same = (want.isNaN && got.isNaN) || want == got
            if !same && stats.failures.count < 10 { stats.failures.append("x=\(x): got \(y), want \(want)") }
            continue
        }
        let abs = Swift.abs(got - want)
        if abs > stats.maxAbs { stats.maxAbs = abs; stats.worstAbs = x }
        let scaled = abs / Swift.max(1, Swift.abs(Double(x)))
        if scaled > stats.maxScaled { stats.maxScaled = scaled; stats.worstScaled = x }
        if Swift.abs(want) > relativeFloor {
            let rel = abs / Swift.abs(want)
            if rel > stats.maxRel { stats.maxRel = rel; stats.worstRel = x }
        }
    }
    return stats
}

/// The standard test inputs: every 1e-3 in [-20, 20], random values, and the edge values.
private func standardInputs(seed: UInt64, randomRange: ClosedRange<Float> = -100...100) -> [Float] {
    sweep(-20, 20, step: 1e-3) + randomFloats(50_000, in: randomRange, seed: seed) + edgeValues
}

private func sigmoidReference(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
private func geluReference(_ x: Double) -> Double { 0.5 * x * erfc(-x / 2.0.squareRoot()) }
/// 0.5 x (1 + tanh(u)) written as x / (1 + e^-2u), which Double evaluates without cancellation.
private func geluTanhReference(_ x: Double) -> Double {
    let u = (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)
    return x / (1 + exp(-2 * u))
}

private func single(_ f: BufferFunction, _ x: Float) -> Float { apply(f, [x])[0] }

private var bufferFunctions: [(String, BufferFunction)] {
    [
    ("exp", { VectorMath.exp($0, $1, count: $2) }),
    ("sigmoid", { VectorMath.sigmoid($0, $1, count: $2) }),
    ("tanh", { VectorMath.tanh($0, $1, count: $2) }),
    ("relu", { VectorMath.relu($0, $1, count: $2) }),
    ("gelu", { VectorMath.gelu($0, $1, count: $2) }),
    ("geluTanh", { VectorMath.geluTanh($0, $1, count: $2) }),
    ("erf", applySIMD { VectorMath.erf($0) }),
    ]
}

// MARK: - Elementwise accuracy

@Suite("VectorMath elementwise")
struct VectorMathElementwiseTests {
    private let expFunction: BufferFunction = { VectorMath.exp($0, $1, count: $2) }

    @Test func expAccuracy() {
        let xs = standardInputs(seed: 1, randomRange: -87...88) + sweep(-87, 88, step: 1e-3)
        let inRange = xs.filter { $0 >= -87 && $0 <= 88 }
        let stats = measure(expFunction, inRange) { exp($0) }
        #expect(stats.failures.isEmpty, "\(stats.failures)")
        #expect(stats.maxRel <= 2e-7, "exp max relative error \(stats.maxRel) at x = \(stats.worstRel)")
    }

    @Test func expEdges() {
        for x: Float in [-104, -104.5, -105, -150, -1e4, -1e30, -.infinity] {
            let y = single(expFunction, x)
            #expect(y == 0, "exp(\(x)) = \(y)")
        }
        for x: Float in [88.8, 88.9, 89, 90, 1e4, 1e30, .infinity] {
            let y = single(expFunction, x)
            #expect(y == .infinity, "exp(\(x)) = \(y)")
        }
        #expect(single(expFunction, .nan).isNaN)
        #expect(single(expFunction, 0) == 1)
        #expect(single(expFunction, -0.0) == 1)
        // Between the normal range and 0: gradual underflow, monotone, no garbage.
        let low = sweep(-104, -87, step: 1e-3)
        let ys = apply(expFunction, low)
        for (x, y) in zip(low, ys) {
            let want = exp(Double(x))
            #expect(y >= 0 && Double(y) <= 1.7e-38, "exp(\(x)) = \(y)")
            // Subnormal results carry an absolute error of at most one subnormal ulp (1.4e-45).
            #expect(Swift.abs(Double(y) - want) <= 1.5e-45 + 2e-7 * want, "exp(\(x)) = \(y), want \(want)")
        }
        // Near the top: finite and accurate up to FLT_MAX.
        let high = sweep(88, 88.72, step: 1e-4)
        let stats = measure(expFunction, high) { exp($0) }
        #expect(stats.failures.isEmpty, "\(stats.failures)")
        #expect(stats.maxRel <= 2e-7, "exp max relative error \(stats.maxRel) at x = \(stats.worstRel)")
    }

    @Test func sigmoidAccuracy() {
        let f: BufferFunction = { VectorMath.sigmoid($0, $1, count: $2) }
        let stats = measure(f, standardInputs(seed: 2), reference: sigmoidReference)
        #expect(stats.failures.isEmpty, "\(stats.failures)")
        #expect(stats.maxAbs <= 2e-7, "sigmoid max abs error \(stats.maxAbs) at x = \(stats.worstAbs)")
        #expect(stats.maxRel <= 1e-6, "sigmoid max rel error \(stats.maxRel) at x = \(stats.worstRel)")
        let tiny = single(f, -100)
        #expect(!tiny.isNaN && tiny >= 0 && tiny < 1e-38, "sigmoid(-100) = \(tiny)")
        #expect(single(f, .infinity) == 1)
        #expect(single(f, -.infinity) == 0)
        #expect(single(f, 0) == 0.5)
        #expect(single(f, .nan).isNaN)
    }

    @Test func tanhAccuracy() {
        let f: BufferFunction = { VectorMath.tanh($0, $1, count: $2) }
        let xs = standardInputs(seed: 3) + sweep(-1e-3, 1e-3, step: 1e-7)
        let stats = measure(f, xs) { tanh($0) }
        #expect(stats.failures.isEmpty, "\(stats.failures)")
        #expect(stats.maxAbs <= 2e-7, "tanh max abs error \(stats.maxAbs) at x = \(stats.worstAbs)")
        #expect(stats.maxRel <= 1e-6, "tanh max rel error \(stats.maxRel) at x = \(stats.worstRel)")
        for x: Float in [1e-5, -1e-5, 1e-7, 3e-4, 1e-20, 1e-37, subnormal] {
            let y = Double(single(f, x))
            // Subnormal inputs may lose low bits in the float arithmetic: allow one subnormal ulp.
            #expect(Swift.abs(y - tanh(Double(x))) <= 1e-6 * Swift.abs(Double(x)) + 1.5e-45, "tanh(\(x)) = \(y)")
        }
        #expect(single(f, .infinity) == 1)
        #expect(single(f, -.infinity) == -1)
        #expect(single(f, 0) == 0)
        #expect(single(f, -0.0).sign == .minus)
        #expect(single(f, .nan).isNaN)
    }

    @Test func erfAccuracy() {
        let f = applySIMD { VectorMath.erf($0) }
        let xs = standardInputs(seed: 4, randomRange: -10...10) + sweep(-1e-3, 1e-3, step: 1e-7)
        let stats = measure(f, xs) { erf($0) }
        #expect(stats.failures.isEmpty, "\(stats.failures)")
        #expect(stats.maxScaled <= 3e-7, "erf max abs error \(stats.maxScaled) at x = \(stats.worstScaled)")
        // Relative accuracy near 0 (erf(x) ~ 1.128 x).
        for x: Float in [1e-5, -1e-5, 1e-10, 1e-30] {
            let y = Double(single(f, x))
            #expect(Swift.abs(y - erf(Double(x))) <= 1e-6 * Swift.abs(y), "erf(\(x)) = \(y)")
        }
        for y in apply(f, xs) where !y.isNaN {
            #expect(Swift.abs(y) <= 1, "|erf| > 1: \(y)")
        }
        #expect(single(f, 4) == 1)
        #expect(single(f, .infinity) == 1)
        #expect(single(f, -.infinity) == -1)
        #expect(single(f, .nan).isNaN)
    }

    @Test func geluAccuracy() {
        let f: BufferFunction = { VectorMath.gelu($0, $1, count: $2) }
        let stats = measure(f, standardInputs(seed: 5), reference: geluReference)
        #expect(stats.failures.isEmpty, "\(stats.failures)")
        #expect(stats.maxScaled <= 3e-7, "gelu max abs error \(stats.maxScaled) * max(1,|x|) at x = \(stats.worstScaled)")
        #expect(single(f, .infinity) == .infinity)
        #expect(single(f, -.infinity).isNaN)  // -inf * 0, as PyTorch
        #expect(single(f, -1e30) == 0)
        #expect(single(f, -10) == 0)
        #expect(single(f, 1e30) == 1e30)
        #expect(single(f, 0) == 0)
        #expect(single(f, .nan).isNaN)
    }

    @Test func geluTanhAccuracy() {
        let f: BufferFunction = { VectorMath.geluTanh($0, $1, count: $2) }
        let stats = measure(f, standardInputs(seed: 6), reference: geluTanhReference)
        #expect(stats.failures.isEmpty, "\(stats.failures)")
        #expect(stats.maxScaled <= 3e-7, "geluTanh max abs error \(stats.maxScaled) * max(1,|x|) at x = \(stats.worstScaled)")
        #expect(single(f, .infinity) == .infinity)
        #expect(single(f, -.infinity).isNaN)  // -inf * 0, as PyTorch
        #expect(single(f, -1e30) == 0)
        #expect(single(f, 1e30) == 1e30)
        #expect(single(f, 0) == 0)
        #expect(single(f, .nan).isNaN)
    }

    @Test func reluValues() {
        let f: BufferFunction = { VectorMath.relu($0, $1, count: $2) }
        let xs = standardInputs(seed: 7)
        for (x, y) in zip(xs, apply(f, xs)) {
            #expect(y == (x > 0 ? x : 0), "relu(\(x)) = \(y)")
        }
        #expect(single(f, .nan).isNaN)  // NaN propagates, as torch.relu
        #expect(single(f, -0.0).sign == .plus)  // relu(-0) = +0
        #expect(single(f, -.infinity) == 0)
        #expect(single(f, .infinity) == .infinity)
    }

    /// The SIMD building blocks give the same bits as the buffer functions.
    @Test func simdMatchesBuffer() {
        let xs = randomFloats(1000, in: -30...30, seed: 8) + edgeValues
        let pairs: [(String, BufferFunction, (SIMD16<Float>) -> SIMD16<Float>)] = [
            ("exp", { VectorMath.exp($0, $1, count: $2) }, { VectorMath.exp($0) }),
            ("sigmoid", { VectorMath.sigmoid($0, $1, count: $2) }, { VectorMath.sigmoid($0) }),
            ("tanh", { VectorMath.tanh($0, $1, count: $2) }, { VectorMath.tanh($0) }),
            ("gelu", { VectorMath.gelu($0, $1, count: $2) }, { VectorMath.gelu($0) }),
            ("geluTanh", { VectorMath.geluTanh($0, $1, count: $2) }, { VectorMath.geluTanh($0) }),
        ]
        for (name, buffer, simd) in pairs {
            let a = apply(buffer, xs), b = apply(applySIMD(simd), xs)
            #expect(zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(name)")
        }
    }

    /// Results do not depend on where an element sits (full chunk or tail), every function works
    /// in place, and count 0 touches nothing.
    @Test func positionIndependenceInPlaceAndEmpty() {
        let xs = randomFloats(53, in: -12...12, seed: 9) + edgeValues  // 87: 5 chunks + a 7-lane tail
        for (name, f) in bufferFunctions {
            let whole = apply(f, xs)
            for (i, x) in xs.enumerated() {
                let alone = single(f, x)
                #expect(alone.bitPattern == whole[i].bitPattern || (alone.isNaN && whole[i].isNaN),
                        "\(name)(\(x)) = \(alone) alone but \(whole[i]) at index \(i)")
            }
            // Shifted by one: every element changes lane.
            let shifted = apply(f, [0] + xs)
            #expect(zip(shifted.dropFirst(), whole).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(name) shifted")

            var buffer = xs
            buffer.withUnsafeMutableBufferPointer { p in
                if let base = p.baseAddress { f(base, base, p.count) }
            }
            #expect(zip(buffer, whole).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(name) in place")

            var untouched: [Float] = [42]
            untouched.withUnsafeMutableBufferPointer { p in
                if let base = p.baseAddress { f(base, base, 0) }
            }
            #expect(untouched == [42], "\(name) with count 0")
        }
    }
}

// MARK: - Row operations

private func softmaxRow(_ xs: [Float]) -> [Float] {
    apply({ VectorMath.softmax($0, $1, count: $2) }, xs)
}

private func softmaxReference(_ xs: [Float]) -> [Double] {
    let m = xs.map(Double.init).max() ?? 0
    let e = xs.map { exp(Double($0) - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

@Suite("VectorMath row operations")
struct VectorMathRowTests {
    @Test(arguments: [1, 2, 3, 15, 16, 17, 100, 257, 1000, 4099, 100_000])
    func softmaxSumsToOne(length: Int) {
        for (seed, range, offset) in [(UInt64(10), Float(-10)...10, Float(0)), (11, -100...100, 0), (12, -5...5, 1000)] {
            let xs = randomFloats(length, in: range, seed: seed + UInt64(length)).map { $0 + offset }
            let ys = softmaxRow(xs)
            let total = ys.reduce(0.0) { $0 + Double($1) }
            #expect(Swift.abs(total - 1) <= 1e-6, "length \(length): sum \(total)")
            let want = softmaxReference(xs)
            var worst = 0.0
            for (y, w) in zip(ys, want) {
                worst = Swift.max(worst, Swift.abs(Double(y) - w) / Swift.max(w, 1e-30))
            }
            // Elementwise: relative error well below 1e-5 wherever the output is not tiny.
            let tolerant = zip(ys, want).allSatisfy { Swift.abs(Double($0) - $1) <= 1e-5 * $1 + 1e-37 }
            #expect(tolerant, "length \(length): worst relative error \(worst)")
        }
    }

    @Test func softmaxSpecialValues() {
        #expect(softmaxRow([3]) == [1])
        #expect(softmaxRow([-.infinity, -.infinity, -.infinity]).allSatisfy { $0.isNaN })  // as PyTorch
        #expect(softmaxRow([1, .infinity, 2]).allSatisfy { $0.isNaN })
        #expect(softmaxRow([1, .nan, 2] + [Float](repeating: 0, count: 30)).allSatisfy { $0.isNaN })
        // Masked (-inf) entries get exactly 0, the rest renormalise.
        let masked = softmaxRow([0, -.infinity, 0, -.infinity] + [Float](repeating: -.infinity, count: 17))
        #expect(masked[0] == 0.5 && masked[2] == 0.5)
        #expect(masked.enumerated().allSatisfy { $0.offset == 0 || $0.offset == 2 || $0.element == 0 })
        // Huge finite values are stable.
        let huge = softmaxRow([1e30, -1e30, 1e30, 0])
        #expect(huge == [0.5, 0, 0.5, 0])
        // In place, and count 0.
        var row = randomFloats(37, in: -3...3, seed: 13)
        let expected = softmaxRow(row)
        row.withUnsafeMutableBufferPointer { p in
            if let base = p.baseAddress { VectorMath.softmax(base, base, count: p.count) }
        }
        #expect(row == expected)
        var untouched: [Float] = [7]
        untouched.withUnsafeMutableBufferPointer { p in
            if let base = p.baseAddress { VectorMath.softmax(base, base, count: 0) }
        }
        #expect(untouched == [7])
    }

    func layerNormReference(_ xs: [Float], gamma: [Float]?, beta: [Float]?, epsilon: Float) -> [Double] {
        let n = Double(xs.count)
        let mean = xs.reduce(0.0) { $0 + Double($1) } / n
        let variance = xs.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        let invStd = 1 / (variance + Double(epsilon)).squareRoot()
        return xs.indices.map { i in
            (Double(xs[i]) - mean) * invStd * Double(gamma?[i] ?? 1) + Double(beta?[i] ?? 0)
        }
    }

    func layerNormRow(_ xs: [Float], gamma: [Float]?, beta: [Float]?, epsilon: Float) -> [Float] {
        var ys = [Float](repeating: .nan, count: xs.count)
        xs.withUnsafeBufferPointer { x in
            ys.withUnsafeMutableBufferPointer { y in
                guard let xb = x.baseAddress, let yb = y.baseAddress else { return }
                let run = { (g: UnsafePointer<Float>?, b: UnsafePointer<Float>?) in
                    VectorMath.layerNorm(xb, yb, count: xs.count, gamma: g, beta: b, epsilon: epsilon)
                }
                switch (gamma, beta) {
                case let (g?, b?): g.withUnsafeBufferPointer { g in b.withUnsafeBufferPointer { b in run(g.baseAddress, b.baseAddress) } }
                case let (g?, nil): g.withUnsafeBufferPointer { g in run(g.baseAddress, nil) }
                case let (nil, b?): b.withUnsafeBufferPointer { b in run(nil, b.baseAddress) }
                case (nil, nil): run(nil, nil)
                }
            }
        }
        return ys
    }

    @Test(arguments: [1, 2, 3, 16, 17, 257, 1000, 5000])
    func layerNormMatchesReference(length: Int) {
        let seed = UInt64(length)
        let gamma = randomFloats(length, in: 0.5...1.5, seed: seed + 100)
        let beta = randomFloats(length, in: -1...1, seed: seed + 200)
        // Plain rows, rows with a large common offset, and rows with a tiny spread.
        let rows: [[Float]] = [
            randomFloats(length, in: -3...3, seed: seed),
            randomFloats(length, in: -1...1, seed: seed + 1).map { $0 + 1000 },
            randomFloats(length, in: -1e-2...1e-2, seed: seed + 2),
        ]
        for (r, xs) in rows.enumerated() {
            for (g, b) in [(gamma, beta), (gamma, nil), (nil, beta), (nil, nil)] as [([Float]?, [Float]?)] {
                let ys = layerNormRow(xs, gamma: g, beta: b, epsilon: 1e-5)
                let want = layerNormReference(xs, gamma: g, beta: b, epsilon: 1e-5)
                var worst = 0.0
                for (y, w) in zip(ys, want) {
                    worst = Swift.max(worst, Swift.abs(Double(y) - w) / Swift.max(1, Swift.abs(w)))
                }
                #expect(worst <= 1e-5, "length \(length) row \(r) gamma \(g != nil) beta \(b != nil): error \(worst)")
            }
        }
    }

    @Test func layerNormSpecialCases() {
        // Length 1 (and any constant row) gives beta.
        #expect(layerNormRow([3.5], gamma: [2], beta: [0.25], epsilon: 1e-5) == [0.25])
        #expect(layerNormRow([3.5], gamma: nil, beta: nil, epsilon: 1e-5) == [0])
        let constant = [Float](repeating: 1e6, count: 33)
        let beta = randomFloats(33, in: -1...1, seed: 14)
        #expect(layerNormRow(constant, gamma: nil, beta: beta, epsilon: 1e-5) == beta)
        // In place, and count 0.
        var row = randomFloats(50, in: -4...4, seed: 15)
        let expected = layerNormRow(row, gamma: nil, beta: nil, epsilon: 1e-5)
        row.withUnsafeMutableBufferPointer { p in
            if let base = p.baseAddress {
                VectorMath.layerNorm(base, base, count: p.count, gamma: nil, beta: nil, epsilon: 1e-5)
            }
        }
        #expect(row == expected)
        var untouched: [Float] = [7]
        untouched.withUnsafeMutableBufferPointer { p in
            if let base = p.baseAddress {
                VectorMath.layerNorm(base, base, count: 0, gamma: nil, beta: nil, epsilon: 1e-5)
            }
        }
        #expect(untouched == [7])
    }
}
