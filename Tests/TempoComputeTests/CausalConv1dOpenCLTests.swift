import Foundation
import TempoTestSupport
import Testing

@testable import TempoCompute

/// One causal convolution on an OpenCL device, prepared so that it can run in a chosen kernel
/// shape (the public API takes the device's default) and be counted without the uploads around it.
struct OpenCLCausalConvCall {
    let backend: OpenCLBackend
    var descriptor: CausalConv1dDescriptor
    let input: Tensor
    let weight: Tensor
    let bias: Tensor?
    /// Filled with NaN, so that an element no kernel writes cannot pass for a result.
    let output: Tensor

    init(_ c: CausalConvCase, on device: Device) throws {
        backend = try #require(try device.backend() as? OpenCLBackend)
        input = try Tensor(shape: [c.batch, c.inputChannels, c.length], values: c.x, device: device)
        weight = try Tensor(shape: [c.outputChannels, c.inputChannels / c.groups, c.kernelSize], values: c.weight, device: device)
        bias = try c.biasValues.map { try Tensor(shape: [c.outputChannels], values: $0, device: device) }
        descriptor = try CausalConv1dDescriptor(input: input, weight: weight, bias: bias, dilation: c.dilation, groups: c.groups)
        output = try Tensor(shape: [c.batch, c.outputChannels, c.length], repeating: .nan, device: device)
    }

    func callAsFunction(shape: OpenCLTunables.Shape, residual: Tensor? = nil) throws {
        try backend.causalConv1d(
            descriptor, input: input.buffer, weight: weight.buffer, bias: bias?.buffer, residual: residual?.buffer,
            output: output.buffer, shape: shape)
    }
}

/// Checks one case in one kernel shape against the Double reference.
private func expectMatchesReference(
    _ c: CausalConvCase, on device: Device, shape: OpenCLTunables.Shape, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let call = try OpenCLCausalConvCall(c, on: device)
    try call(shape: shape)
    expectClose(
        try call.output.values, c.reference(), c.tolerance, "\(c) \(shape) shape on \(device.id)",
        sourceLocation: sourceLocation)
}

@Suite("Causal convolution, OpenCL kernel shapes")
struct CausalConv1dOpenCLTests {
    @Test("OpenCL is present when required")
    func availability() {
        checkOpenCLRequirement()
    }

    @Test("K 1, 2, 3, 5 with d 1, 2, 4, 8, 16", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func kernelSizesAndDilations(device: Device, shape: OpenCLTunables.Shape) throws {
        for kernelSize in [1, 2, 3, 5] {
            for dilation in [1, 2, 4, 8, 16] {
                // L 70: one whole CPU tile of 64 steps and a partial one, and a history of up to 64.
                try expectMatchesReference(
                    CausalConvCase(inputChannels: 3, outputChannels: 17, length: 70, kernelSize: kernelSize, dilation: dilation),
                    on: device, shape: shape)
            }
        }
    }

    @Test("channels 1, 3, 17, 64: dense, depthwise and two groups", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func channelsAndGroups(device: Device, shape: OpenCLTunables.Shape) throws {
        for channels in [1, 3, 17, 64] {
            try expectMatchesReference(
                CausalConvCase(inputChannels: channels, outputChannels: channels, length: 33, kernelSize: 3, dilation: 2),
                on: device, shape: shape)
            try expectMatchesReference(
                CausalConvCase(
                    inputChannels: channels, outputChannels: channels, length: 150, kernelSize: 3, dilation: 4,
                    groups: channels),
                on: device, shape: shape)
            if channels.isMultiple(of: 2) {
                // Two groups of channels/2 inputs and channels outputs each (6 ... 64 outputs per group:
                // whole channel tiles and a remainder).
                try expectMatchesReference(
                    CausalConvCase(
                        inputChannels: channels, outputChannels: 2 * channels, length: 20, kernelSize: 2, dilation: 1,
                        groups: 2),
                    on: device, shape: shape)
            }
        }
        try expectMatchesReference(
            CausalConvCase(inputChannels: 6, outputChannels: 34, length: 97, kernelSize: 5, dilation: 3, groups: 2, bias: false),
            on: device, shape: shape)
        // 15 outputs: a whole CPU channel tile and remainders of 4, 2 and 1 channels.
        try expectMatchesReference(
            CausalConvCase(inputChannels: 7, outputChannels: 15, length: 45, kernelSize: 2, dilation: 3),
            on: device, shape: shape)
    }

    @Test("L = 1, L shorter than the receptive field, L not a multiple of the tiles", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func lengths(device: Device, shape: OpenCLTunables.Shape) throws {
        for length in [1, 2, 7, 15, 16, 17, 63, 64, 65, 129, 200] {
            try expectMatchesReference(
                CausalConvCase(inputChannels: 5, outputChannels: 4, length: length, kernelSize: 3, dilation: 4),
                on: device, shape: shape)
            // Receptive field 1 + 4*16 = 65.
            try expectMatchesReference(
                CausalConvCase(inputChannels: 3, outputChannels: 9, length: length, kernelSize: 5, dilation: 16, bias: false),
                on: device, shape: shape)
        }
    }

    @Test("the fused epilogue (a TCN block's, and GELU alone) in each kernel shape", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func epilogue(device: Device, shape: OpenCLTunables.Shape) throws {
        // L 70: a partial last tile in both shapes; 9 channels: a partial channel tile.
        let c = CausalConvCase(batch: 2, inputChannels: 6, outputChannels: 9, length: 70, kernelSize: 3, dilation: 4)
        let plain = c.reference()
        let residualValues = plain.indices.map { Float(Foundation.cos(Double($0) * 0.29)) }
        for epilogue in [EpilogueReference.tcnBlock, EpilogueReference(activation: .gelu)] {
            var call = try OpenCLCausalConvCall(c, on: device)
            call.descriptor.epilogue = ConvolutionEpilogue(
                activation: epilogue.activation, hasResidual: epilogue.residual, outputActivation: epilogue.outputActivation)
            let residual = try Tensor(shape: [c.batch, c.outputChannels, c.length], values: residualValues, device: device)
            try call(shape: shape, residual: epilogue.residual ? residual : nil)
            let expected = plain.indices.map {
                epilogue.apply(Double(plain[$0]), residual: epilogue.residual ? Double(residualValues[$0]) : nil)
            }
            expectClose(try call.output.values, expected, c.tolerance, "\(c) \(epilogue) \(shape) on \(device.id)")
        }
    }

    @Test("one launch per call, no host traffic", .needsOpenCL, arguments: TestDevices.openCLShapes)
    func launchCount(device: Device, shape: OpenCLTunables.Shape) throws {
        for c in [
            CausalConvCase(inputChannels: 8, outputChannels: 12, length: 100, kernelSize: 3, dilation: 2),
            CausalConvCase(inputChannels: 8, outputChannels: 8, length: 100, kernelSize: 3, dilation: 8, groups: 8, bias: false),
        ] {
            let call = try OpenCLCausalConvCall(c, on: device)
            try call(shape: shape)  // builds the program; the counted call below is a warm one
            let (_, counters) = try device.counting {
                try call(shape: shape)
                try device.synchronize()
            }
            #expect(counters.launches == 1, "\(c) \(shape): \(counters)")
            #expect(counters.bytesToDevice == 0 && counters.bytesToHost == 0, "\(c) \(shape): \(counters)")
        }
    }
}
