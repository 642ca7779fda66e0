import Foundation
import TempoTestSupport
import Testing

@testable import TempoCompute

/// A sequence stepped through the causal convolution step op, with its inputs and its expected
/// outputs computed in Double from the definitions (the convolution by `Reference.causalConv1d`
/// over the whole sequence, the epilogue by `EpilogueReference`).
struct CausalConvStepCase: CustomStringConvertible, Sendable {
    /// The sizes and the seeded sequence, weight and bias, shared with the whole-sequence tests.
    var conv: CausalConvCase
    var epilogue = EpilogueReference()

    init(
        batch: Int, inputChannels: Int, outputChannels: Int, length: Int, kernelSize: Int, dilation: Int, groups: Int = 1,
        bias: Bool = true, epilogue: EpilogueReference = EpilogueReference()
    ) {
        conv = CausalConvCase(
            batch: batch, inputChannels: inputChannels, outputChannels: outputChannels, length: length,
            kernelSize: kernelSize, dilation: dilation, groups: groups, bias: bias)
        self.epilogue = epilogue
    }

    var description: String { "\(conv) \(epilogue)" }
    var batch: Int { conv.batch }
    var inputChannels: Int { conv.inputChannels }
    var outputChannels: Int { conv.outputChannels }
    var length: Int { conv.length }
    var kernelSize: Int { conv.kernelSize }
    var dilation: Int { conv.dilation }
    var groups: Int { conv.groups }

    /// `[B, Cin, L]`, the whole sequence.
    var x: [Float] { conv.x }

    /// `[L, B, Cout]`: step t's residual.
    var residuals: [Float]? {
        guard epilogue.residual else { return nil }
        var generator = SeededGenerator(seed: 14)
        return (0..<length * batch * outputChannels).map { _ in generator.nextFloat(in: -1...1) }
    }

    /// `x[:, :, t]` as `[B, Cin]`.
    func sample(_ x: [Float], at t: Int) -> [Float] {
        (0..<batch * inputChannels).map { x[$0 * length + t] }
    }

    func residual(at t: Int) -> [Float]? {
        residuals.map { Array($0[(t * batch * outputChannels)..<((t + 1) * batch * outputChannels)]) }
    }

    /// `[L][B * Cout]`: the expected output of every step.
    func expected() -> [[Float]] {
        let y = conv.reference()
        return (0..<length).map { t in
            let residual = self.residual(at: t)
            return (0..<batch * outputChannels).map { i in
                epilogue.apply(Double(y[i * length + t]), residual: residual.map { Double($0[i]) })
            }
        }
    }

    /// The convolution's tolerance plus the activations' approximation error.
    var tolerance: Tolerance {
        Tolerance(absolute: conv.tolerance.absolute + 2e-6, relative: 2 * conv.tolerance.relative)
    }

    func makeHistory(on device: Device) throws -> CausalConv1dHistory {
        try CausalConv1dHistory(
            device: device, batch: batch, channels: inputChannels, kernelSize: kernelSize, dilation: dilation)
    }

    /// Steps the whole sequence through the public op from `history` (a new one when nil);
    /// returns each step's output.
    func run(on device: Device, history: CausalConv1dHistory? = nil) throws -> [[Float]] {
        try run(on: device, history: history) { x, weight, bias, history, residual in
            try x.causalConv1dStep(
                weight: weight, bias: bias, dilation: dilation, groups: groups, history: history,
                activation: epilogue.activation, residual: residual, outputActivation: epilogue.outputActivation)
        }
    }

    /// Steps the whole sequence on an OpenCL device in a forced kernel shape, through the backend
    /// as the op's front end calls it.
    func run(on device: Device, shape: OpenCLTunables.Shape) throws -> [[Float]] {
        let backend = try #require(try device.backend() as? OpenCLBackend)
        return try run(on: device, history: nil) { x, weight, bias, history, residual in
            let d = try CausalConv1dStepDescriptor(
                input: x, weight: weight, bias: bias, dilation: dilation, groups: groups, history: history,
                activation: epilogue.activation, residual: residual, outputActivation: epilogue.outputActivation)
            let y = try Tensor(shape: [batch, outputChannels], repeating: .nan, device: device)
            try backend.causalConv1dStep(
                d, input: x.buffer, weight: weight.buffer, bias: bias?.buffer, residual: residual?.buffer,
                history: history, output: y.buffer, shape: shape)
            history.advance()
            return y
        }
    }

    private func run(
        on device: Device, history: CausalConv1dHistory?,
        step: (Tensor, Tensor, Tensor?, CausalConv1dHistory, Tensor?) throws -> Tensor
    ) throws -> [[Float]] {
        let (weight, bias) = try conv.parameters(on: device)
        let history = try history ?? makeHistory(on: device)
        let x = self.x
        return try (0..<length).map { t in
            let input = try Tensor(shape: [batch, inputChannels], values: sample(x, at: t), device: device)
            let residual = try self.residual(at: t).map { try Tensor(shape: [batch, outputChannels], values: $0, device: device) }
            let y = try step(input, weight, bias, history, residual)
            #expect(y.shape == [batch, outputChannels])
            return try y.values
        }
    }
}

/// A fused convolution epilogue `outputActivation(activation(conv) + residual)` (the sequence op's
/// and the step's), in Double from each function's definition (PyTorch's).
struct EpilogueReference: CustomStringConvertible, Sendable {
    var activation: Activation?
    var residual = false
    var outputActivation: Activation?

    /// A TCN block's second convolution: relu, plus the block input, relu.
    static let tcnBlock = EpilogueReference(activation: .relu, residual: true, outputActivation: .relu)

    var description: String {
        "\(activation?.rawValue ?? "-") \(residual ? "+res" : "") \(outputActivation?.rawValue ?? "-")"
    }

    func apply(_ conv: Double, residual: Double?) -> Float {
        Float(Self.apply(outputActivation, Self.apply(activation, conv) + (residual ?? 0)))
    }

    static func apply(_ function: Activation?, _ x: Double) -> Double {
        switch function {
        case nil: x
        case .relu: max(x, 0)
        case .tanh: Foundation.tanh(x)
        case .sigmoid: 1 / (1 + Foundation.exp(-x))
        case .gelu: 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
        case .geluTanh: 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        }
    }

    /// Every activation in each position, with and without a residual, over `index`.
    static func variety(_ index: Int) -> EpilogueReference {
        let choices: [Activation?] = [nil] + Activation.allCases
        return EpilogueReference(
            activation: choices[index % choices.count], residual: index % 2 == 0,
            outputActivation: choices[(index / 2 + 3) % choices.count])
    }
}
