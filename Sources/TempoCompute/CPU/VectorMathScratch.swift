import Foundation
// Temporary scalar stand-in while the vectorised VectorMath.swift is written; removed before commit.
enum VectorMath {
    static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) { for i in 0..<count { y[i] = 1 / (1 + Foundation.exp(-x[i])) } }
    static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) { for i in 0..<count { y[i] = Foundation.tanh(x[i]) } }
    static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) { for i in 0..<count { y[i] = x[i] > 0 ? x[i] : (x[i].isNaN ? x[i] : 0) } }
    static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) { for i in 0..<count { y[i] = 0.5 * x[i] * (1 + Foundation.erf(x[i] / 2.0.squareRoot().floatValue)) } }
    static func geluTanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) { for i in 0..<count { let v = x[i]; y[i] = 0.5 * v * (1 + Foundation.tanh(0.7978845608 * (v + 0.044715 * v * v * v))) } }
    static func softmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var m = -Float.infinity; for i in 0..<count { m = max(m, x[i]) }
        var s: Float = 0; for i in 0..<count { y[i] = Foundation.exp(x[i] - m); s += y[i] }
        for i in 0..<count { y[i] /= s }
    }
    static func layerNorm(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, epsilon: Float) {
        let sh = x[0]; var s: Float = 0; for i in 0..<count { s += x[i] - sh }; let mean = sh + s / Float(count)
        var v: Float = 0; for i in 0..<count { v += (x[i] - mean) * (x[i] - mean) }
        let inv = 1 / (v / Float(count) + epsilon).squareRoot()
        for i in 0..<count { y[i] = (x[i] - mean) * inv * (gamma?[i] ?? 1) + (beta?[i] ?? 0) }
    }
}
private extension Double { var floatValue: Float { Float(self) } }
