import Foundation

/// A `.safetensors` model file: named tensors, their dtypes and shapes, and string metadata.
///
/// The format is an 8-byte little-endian header length `N`, `N` bytes of JSON (one object, maybe
/// padded with spaces), then the data buffer that the header's `data_offsets` index. Opening a file
/// validates the whole header and proves every tensor's byte range against the data before any
/// value is read, so a damaged or hostile file gives a ``TempoError/modelFile(path:problem:)``
/// naming the tensor or the byte offset, never a crash.
///
/// ```swift
/// let file = try SafetensorsFile(contentsOf: url)
/// for info in file.tensors { print(info.name, info.dtype, info.shape) }
/// let weight = try file.tensor("weight", device: .best)      // [out, in], converted to Float32
/// try SafetensorsFile.write([("weight", weight)], metadata: ["format": "pt"], to: copyURL)
/// ```
///
/// Values are read from F32, F16 and BF16 tensors (the latter two converted exactly) and from F64
/// (rounded to nearest); every other dtype of the format is parsed and validated but not read.
public struct SafetensorsFile: Sendable {
    /// One tensor's entry in the header.
    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        /// The format's dtype name: `"F32"`, `"F16"`, `"BF16"`, `"I64"`, ...
        public let dtype: String
        /// The extent of each axis, outermost first; `[]` for a scalar.
        public let shape: [Int]
        /// Where the tensor's bytes are, relative to the start of the data buffer.
        public let byteRange: Range<Int>
    }

    /// The file's path, or the name given to in-memory contents; errors name it.
    public let path: String
    /// Every tensor, in the order of their bytes in the data buffer.
    public let tensors: [TensorInfo]
    /// The header's `__metadata__` (empty when there is none).
    public let metadata: [String: String]

    /// The whole file, memory-mapped when it came from disk.
    private let contents: Data
    /// Where the data buffer starts within `contents`: 8 + N.
    private let dataStart: Int
    private let indexByName: [String: Int]

    /// Reads and validates the file at `url` (memory-mapped where the system allows; values are
    /// only copied out when asked for).
    ///
    /// - Throws: ``TempoError/modelFile(path:problem:)``, with ``ModelFileProblem/io(_:)`` when the
    ///   file cannot be read, or the problem its header or offsets have.
    public init(contentsOf url: URL) throws {
        let path = url.isFileURL ? url.path(percentEncoded: false) : url.absoluteString
        let contents: Data
        do {
            contents = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw TempoError.modelFile(path: path, problem: .io("cannot read the file: \(error.localizedDescription)"))
        }
        try self.init(data: contents, path: path)
    }

    /// Reads and validates a file's bytes held in memory; `path` is what errors call it.
    public init(data: Data, path: String = "<memory>") throws {
        let layout = try data.withUnsafeBytes { bytes in
            try SafetensorsLayout(parsing: bytes, path: path)
        }
        self.path = path
        self.contents = data
        self.dataStart = layout.dataStart
        self.tensors = layout.tensors
        self.metadata = layout.metadata
        self.indexByName = Dictionary(
            layout.tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The header entry for `name`, or `nil` when the file has no such tensor.
    public func info(_ name: String) -> TensorInfo? {
        indexByName[name].map { tensors[$0] }
    }

    /// The values of tensor `name` in row-major order, converted to Float32.
    ///
    /// - Throws: ``ModelFileProblem/missingTensors(_:)`` for an unknown name,
    ///   ``ModelFileProblem/unsupportedDType(tensor:dtype:)`` for a dtype other than F32, F16,
    ///   BF16 and F64.
    public func values(_ name: String) throws -> [Float] {
        guard let info = info(name) else {
            throw TempoError.modelFile(path: path, problem: .missingTensors([name]))
        }
        guard let dtype = SafetensorsDType(rawValue: info.dtype), dtype.isReadable else {
            throw TempoError.modelFile(path: path, problem: .unsupportedDType(tensor: name, dtype: info.dtype))
        }
        let path = path
        let dataStart = dataStart
        return try contents.withUnsafeBytes { file in
            // The range was proven inside the data buffer when the header was read; checked again
            // here so that this function's safety does not depend on that proof.
            let (start, startOverflow) = dataStart.addingReportingOverflow(info.byteRange.lowerBound)
            let (end, endOverflow) = dataStart.addingReportingOverflow(info.byteRange.upperBound)
            guard !startOverflow, !endOverflow, start >= 0, end <= file.count else {
                throw TempoError.modelFile(
                    path: path,
                    problem: .invalidDataOffsets(
                        tensor: name, begin: info.byteRange.lowerBound, end: info.byteRange.upperBound,
                        reason: "the range ends past the end of the file"))
            }
            return SafetensorsDecoding.floats(from: UnsafeRawBufferPointer(rebasing: file[start..<end]), dtype: dtype)
        }
    }

    /// Tensor `name` on `device`, converted to Float32, with the file's shape.
    ///
    /// - Throws: as ``values(_:)``, and what `Tensor(shape:values:device:)` throws.
    public func tensor(_ name: String, device: Device = .cpu) throws -> Tensor {
        guard let info = info(name) else {
            throw TempoError.modelFile(path: path, problem: .missingTensors([name]))
        }
        return try Tensor(shape: info.shape, values: values(name), device: device)
    }
}
