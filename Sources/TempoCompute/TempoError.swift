/// Every error Tempo throws.
///
/// Each case carries what a reader needs to fix the call: the argument's name, what was expected
/// and what was given. `description` renders it as one readable sentence.
public enum TempoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A tensor argument has the wrong shape. `expected` describes the rule, e.g. `"[3, 4]"` or
    /// `"[..., K, N] with K = 7"`.
    case shapeMismatch(argument: String, expected: String, actual: [Int])
    /// A flat value array does not have as many elements as the shape needs.
    case elementCountMismatch(argument: String, shape: [Int], expected: Int, actual: Int)
    /// A non-tensor argument is out of range, e.g. an axis or a thread count.
    case invalidArgument(argument: String, expected: String, actual: String)
    /// Tensors of one op live on different devices; move one with `to(_:)` first.
    case deviceMismatch(argument: String, expected: String, actual: String)
    /// A device name that matches no available device.
    case unknownDevice(requested: String, available: [String])
    /// An OpenCL call failed; `status` is the symbolic name such as `CL_OUT_OF_RESOURCES`.
    case openCL(function: String, status: String, code: Int32)
    /// An OpenCL program did not build; `log` is the compiler's build log.
    case kernelBuildFailed(program: String, device: String, log: String)
    /// A host allocation failed.
    case outOfMemory(bytes: Int)

    public var description: String {
        switch self {
        case let .shapeMismatch(argument, expected, actual):
            return "shape mismatch for `\(argument)`: expected \(expected), got \(Self.format(actual))"
        case let .elementCountMismatch(argument, shape, expected, actual):
            return "element count mismatch for `\(argument)`: shape \(Self.format(shape)) needs \(expected) values, got \(actual)"
        case let .invalidArgument(argument, expected, actual):
            return "invalid `\(argument)`: expected \(expected), got \(actual)"
        case let .deviceMismatch(argument, expected, actual):
            return "device mismatch for `\(argument)`: expected a tensor on \(expected), got one on \(actual); move it with `to(_:)` first"
        case let .unknownDevice(requested, available):
            return "unknown device \"\(requested)\"; available devices: \(available.joined(separator: ", "))"
        case let .openCL(function, status, code):
            return "\(function) failed with \(status) (\(code))"
        case let .kernelBuildFailed(program, device, log):
            return "OpenCL program \"\(program)\" failed to build on \(device):\n\(log)"
        case let .outOfMemory(bytes):
            return "out of host memory allocating \(bytes) bytes"
        }
    }

    /// `[2, 3, 4]`, the way shapes are written everywhere in Tempo's messages.
    static func format(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}
