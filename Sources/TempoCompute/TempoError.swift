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
    /// A model file (or in-memory state dict) cannot be read or does not fit the module; `path`
    /// names the file (or `"state dict"`).
    case modelFile(path: String, problem: ModelFileProblem)

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
        case let .modelFile(path, problem):
            return "model file \(path): \(problem)"
        }
    }

    /// The same error with its argument named as a part of `owner`, e.g. `weight` as
    /// `links[2].weight` when a chain validates its links.
    func naming(within owner: String) -> TempoError {
        switch self {
        case let .shapeMismatch(argument, expected, actual):
            .shapeMismatch(argument: "\(owner).\(argument)", expected: expected, actual: actual)
        case let .elementCountMismatch(argument, shape, expected, actual):
            .elementCountMismatch(argument: "\(owner).\(argument)", shape: shape, expected: expected, actual: actual)
        case let .invalidArgument(argument, expected, actual):
            .invalidArgument(argument: "\(owner).\(argument)", expected: expected, actual: actual)
        case let .deviceMismatch(argument, expected, actual):
            .deviceMismatch(argument: "\(owner).\(argument)", expected: expected, actual: actual)
        default: self
        }
    }

    /// `[2, 3, 4]`, the way shapes are written everywhere in Tempo's messages.
    public static func format(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}

/// What is wrong with a model file, naming the tensor or the byte offset.
public enum ModelFileProblem: Sendable, Equatable, CustomStringConvertible {
    /// Tensors the module needs that the file does not hold.
    case missingTensors([String])
    /// Tensors the file holds that the module has no parameter for.
    case unexpectedTensors([String])
    /// A tensor whose shape differs from its parameter's.
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
    /// A tensor stored in a dtype Tempo does not read (it reads F32, F16 and BF16).
    case unsupportedDType(tensor: String, dtype: String)
    /// The file ends before the header or data it declares.
    case truncated(expectedBytes: Int, actualBytes: Int)
    /// The header is not what the format requires; `offset` is the byte where the problem is.
    case invalidHeader(offset: Int, reason: String)
    /// A tensor's `data_offsets` are wrong: reversed, not matching its shape and dtype, past the
    /// end of the data, or overlapping another tensor (`reason` says which).
    case invalidDataOffsets(tensor: String, begin: Int, end: Int, reason: String)
    /// Two keys of one parameter (a sub-module registered twice, which PyTorch's `state_dict()`
    /// lists under both) hold different values.
    case conflictingDuplicates(tensor: String, duplicateOf: String)
    /// The file could not be read or written at all.
    case io(String)

    public var description: String {
        switch self {
        case let .missingTensors(names):
            return "missing tensor\(names.count == 1 ? "" : "s") \(names.map { "\"\($0)\"" }.joined(separator: ", "))"
        case let .unexpectedTensors(names):
            return "unexpected tensor\(names.count == 1 ? "" : "s") \(names.map { "\"\($0)\"" }.joined(separator: ", ")) (the module has no such parameter)"
        case let .shapeMismatch(tensor, expected, actual):
            return "tensor \"\(tensor)\" has shape \(TempoError.format(actual)), the module expects \(TempoError.format(expected))"
        case let .unsupportedDType(tensor, dtype):
            return "tensor \"\(tensor)\" has dtype \(dtype); Tempo reads F32, F16 and BF16"
        case let .truncated(expected, actual):
            return "truncated: \(expected) bytes needed, the file has \(actual)"
        case let .invalidHeader(offset, reason):
            return "invalid header at byte \(offset): \(reason)"
        case let .invalidDataOffsets(tensor, begin, end, reason):
            return "tensor \"\(tensor)\" has invalid data_offsets [\(begin), \(end)]: \(reason)"
        case let .conflictingDuplicates(tensor, duplicateOf):
            return "tensor \"\(tensor)\" holds other values than \"\(duplicateOf)\", another key of the same parameter"
        case let .io(message):
            return message
        }
    }
}
