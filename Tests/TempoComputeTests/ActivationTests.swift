import Foundation
import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("Activation")
struct ActivationTests {
    /// Both backends use approximations accurate to a few ulp; 2e-6 absolute on outputs of size
    /// ~1 is ~16 ulp, far below what a wrong formula (or an approximation swapped in) would give.
    static let tolerance = Tolerance(absolute: 2e-6, relative: 2e-6)

    /// Inputs that cover the interesting ranges: around zero, saturation, large magnitudes.
    static let inputs: [Float] = [-100, -20, -9.5, -5, -2, -1, -0.5, -1e-3, -1e-6, 0, 1e-6, 1e-3, 0.5, 1, 2, 5, 9.5, 20, 100]

    @Test("each function matches its float64 definition", arguments: TestDevices.all, Activation.allCases)
    func matchesDefinition(device: Device, function: Activation) throws {
        let x = try Tensor(shape: [Self.inputs.count], values: Self.inputs, device: device)
        let expected = Self.inputs.map { Reference.activation(function.rawValue, $0) }
        expectClose(try x.applying(function).values, expected, Self.tolerance, "\(function) on \(device.id)")
    }

    @Test("NaN propagates and infinities saturate", arguments: TestDevices.all)
    func specialValues(device: Device) throws {
        let x = try Tensor(shape: [3], values: [.nan, .infinity, -.infinity], device: device)
        let sigmoid = try x.sigmoid().values, tanh = try x.tanh().values, relu = try x.relu().values
        #expect(sigmoid[0].isNaN && sigmoid[1] == 1 && sigmoid[2] == 0)
        #expect(tanh[0].isNaN && tanh[1] == 1 && tanh[2] == -1)
        #expect(relu[0].isNaN && relu[1] == .infinity && relu[2] == 0)
    }

    @Test("OpenCL agrees with the CPU at awkward sizes", .needsOpenCL, arguments: awkwardSizes + [4099])
    func parity(size: Int) throws {
        for function in Activation.allCases {
            try checkParity("\(function) \(size)", inputs: [[size]], tolerance: Self.tolerance) {
                try $0[0].scaled(by: 3).applying(function)
            }
        }
    }

    @Test("convenience names call the right function", arguments: TestDevices.all)
    func convenienceNames(device: Device) throws {
        let x = try Tensor(shape: [2], values: [-1, 2], device: device)
        #expect(try x.gelu().values == x.applying(.gelu).values)
        #expect(try x.gelu(approximate: true).values == x.applying(.geluTanh).values)
        #expect(try x.relu().values == [0, 2])
    }
}
