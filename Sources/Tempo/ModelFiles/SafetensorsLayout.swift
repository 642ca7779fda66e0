/// What a `.safetensors` file's header says, validated against the file.
///
/// The rules are the reference (Rust) implementation's: a header of at most 100 MB that starts
/// with `{` and is one JSON object, every dtype known, every tensor's byte count equal to its
/// shape's element count times its dtype's size, and the tensors' byte ranges covering the data
/// buffer exactly, with no overlap and no unindexed byte.
struct SafetensorsLayout {
    /// The reference implementation refuses headers longer than this (`MAX_HEADER_SIZE`).
    static let maximumHeaderLength = 100_000_000

    /// Where the data buffer starts in the file: 8 + the header length.
    let dataStart: Int
    /// In data order.
    let tensors: [SafetensorsFile.TensorInfo]
    let metadata: [String: String]

    /// Reads the layout of `file`, all of its bytes.
    ///
    /// - Throws: ``TempoError/modelFile(path:problem:)`` with ``ModelFileProblem/truncated(expectedBytes:actualBytes:)``,
    ///   ``ModelFileProblem/invalidHeader(offset:reason:)`` or
    ///   ``ModelFileProblem/invalidDataOffsets(tensor:begin:end:reason:)``.
    init(parsing file: UnsafeRawBufferPointer, path: String) throws {
        let fail = { (problem: ModelFileProblem) in TempoError.modelFile(path: path, problem: problem) }
        guard file.count >= 8 else {
            throw fail(.truncated(expectedBytes: 8, actualBytes: file.count))
        }
        let declaredLength = UInt64(littleEndian: file.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard declaredLength <= UInt64(Self.maximumHeaderLength) else {
            throw fail(.invalidHeader(
                offset: 0,
                reason: "the header length \(declaredLength) is over the limit of \(Self.maximumHeaderLength) bytes"))
        }
        // At most 8 + 100 MB: no overflow.
        let dataStart = 8 + Int(declaredLength)
        guard file.count >= dataStart else {
            throw fail(.truncated(expectedBytes: dataStart, actualBytes: file.count))
        }
        let header = UnsafeRawBufferPointer(rebasing: file[8..<dataStart])
        guard let first = header.first, first == UInt8(ascii: "{") else {
            throw fail(.invalidHeader(offset: 8, reason: "the header must be a JSON object starting with '{'"))
        }
        if let invalid = UTF8Validation.firstInvalidIndex(in: header) {
            throw fail(.invalidHeader(offset: 8 + invalid, reason: "the header is not valid UTF-8"))
        }
        let json: HeaderJSON
        do {
            json = try HeaderJSON.parse(header, fileOffset: 8)
        } catch {
            throw fail(.invalidHeader(offset: error.offset, reason: error.reason))
        }
        let (entries, metadata) = try Self.interpret(json, fail: fail)
        self.dataStart = dataStart
        self.metadata = metadata
        self.tensors = try Self.validateOffsets(of: entries, dataLength: file.count - dataStart, dataStart: dataStart, fail: fail)
    }

    // MARK: Header entries

    /// A tensor's header entry before its offsets are checked.
    struct Entry {
        let name: String
        let dtype: SafetensorsDType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    /// The tensor entries and the metadata of the header object.
    private static func interpret(
        _ json: HeaderJSON, fail: (ModelFileProblem) -> TempoError
    ) throws -> (entries: [Entry], metadata: [String: String]) {
        guard case let .object(members) = json.value else {
            throw fail(.invalidHeader(offset: json.offset, reason: "the header must be a JSON object, found \(json.kind)"))
        }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        var firstOffsetByKey: [String: Int] = [:]
        for member in members {
            // JSON parsers disagree on duplicate keys (most keep the last); refusing them keeps a
            // file from meaning different tensors to different readers.
            if let first = firstOffsetByKey[member.key] {
                throw fail(.invalidHeader(
                    offset: member.keyOffset,
                    reason: "\"\(member.key)\" appears twice in the header (first at byte \(first))"))
            }
            firstOffsetByKey[member.key] = member.keyOffset
            if member.key == "__metadata__" {
                metadata = try parseMetadata(member.value, fail: fail)
            } else {
                entries.append(try parseEntry(named: member.key, member.value, fail: fail))
            }
        }
        return (entries, metadata)
    }

    /// `{"key": "value", ...}`; `null` counts as none.
    private static func parseMetadata(
        _ json: HeaderJSON, fail: (ModelFileProblem) -> TempoError
    ) throws -> [String: String] {
        if case .null = json.value { return [:] }
        guard case let .object(members) = json.value else {
            throw fail(.invalidHeader(
                offset: json.offset, reason: "__metadata__ must be an object of strings, found \(json.kind)"))
        }
        var metadata: [String: String] = [:]
        for member in members {
            guard case let .string(value) = member.value.value else {
                throw fail(.invalidHeader(
                    offset: member.value.offset,
                    reason: "__metadata__ value for \"\(member.key)\" must be a string, found \(member.value.kind)"))
            }
            guard metadata.updateValue(value, forKey: member.key) == nil else {
                throw fail(.invalidHeader(
                    offset: member.keyOffset, reason: "__metadata__ key \"\(member.key)\" appears twice"))
            }
        }
        return metadata
    }

    /// `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`. Other keys are ignored,
    /// as the reference implementation ignores them.
    private static func parseEntry(
        named name: String, _ json: HeaderJSON, fail: (ModelFileProblem) -> TempoError
    ) throws -> Entry {
        func invalid(_ offset: Int, _ reason: String) -> TempoError {
            fail(.invalidHeader(offset: offset, reason: "tensor \"\(name)\": \(reason)"))
        }
        guard case let .object(members) = json.value else {
            throw invalid(json.offset, "expected an object with dtype, shape and data_offsets, found \(json.kind)")
        }
        var fields: [String: HeaderJSON] = [:]
        for member in members where ["dtype", "shape", "data_offsets"].contains(member.key) {
            guard fields.updateValue(member.value, forKey: member.key) == nil else {
                throw invalid(member.keyOffset, "\"\(member.key)\" appears twice")
            }
        }
        guard let dtypeJSON = fields["dtype"], let shapeJSON = fields["shape"], let offsetsJSON = fields["data_offsets"] else {
            let missing = ["dtype", "shape", "data_offsets"].filter { fields[$0] == nil }
            throw invalid(json.offset, "missing \(missing.map { "\"\($0)\"" }.joined(separator: ", "))")
        }

        guard case let .string(dtypeName) = dtypeJSON.value else {
            throw invalid(dtypeJSON.offset, "dtype must be a string, found \(dtypeJSON.kind)")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            let known = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw invalid(dtypeJSON.offset, "unknown dtype \"\(dtypeName)\" (the format's dtypes are \(known))")
        }
        let shape = try nonNegativeIntegers(shapeJSON) { offset, found in
            invalid(offset, "shape must be an array of non-negative integers, found \(found)")
        }
        let offsets = try nonNegativeIntegers(offsetsJSON) { offset, found in
            invalid(offset, "data_offsets must be two non-negative integers, found \(found)")
        }
        guard offsets.count == 2 else {
            throw invalid(offsetsJSON.offset, "data_offsets must be two non-negative integers, found \(offsets.count)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    /// The elements of a JSON array of integers in `0...Int.max`; `invalid` makes the error from
    /// the offending value's offset and a description of it.
    private static func nonNegativeIntegers(
        _ json: HeaderJSON, invalid: (Int, String) -> TempoError
    ) throws -> [Int] {
        guard case let .array(elements) = json.value else { throw invalid(json.offset, json.kind) }
        return try elements.map { element in
            guard case let .number(number) = element.value, let integer = number.integer, integer >= 0 else {
                throw invalid(element.offset, element.kind)
            }
            return integer
        }
    }

    // MARK: Data offsets

    /// The entries in data order, each range proven to hold exactly its shape's bytes, all of them
    /// together covering `0..<dataLength` exactly once.
    private static func validateOffsets(
        of entries: [Entry], dataLength: Int, dataStart: Int, fail: (ModelFileProblem) -> TempoError
    ) throws -> [SafetensorsFile.TensorInfo] {
        // The reference implementation's order; zero-byte tensors sort before a tensor at the
        // same offset, names break the remaining ties so the order is the same on every run.
        let sorted = entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var tensors: [SafetensorsFile.TensorInfo] = []
        tensors.reserveCapacity(sorted.count)
        var covered = 0  // the data buffer's bytes 0..<covered belong to the tensors checked so far
        for entry in sorted {
            func invalid(_ reason: String) -> TempoError {
                fail(.invalidDataOffsets(tensor: entry.name, begin: entry.begin, end: entry.end, reason: reason))
            }
            guard entry.begin <= entry.end else { throw invalid("begin is after end") }
            let shapeText = "[" + entry.shape.map(String.init).joined(separator: ", ") + "]"
            guard let byteCount = byteCount(shape: entry.shape, dtype: entry.dtype) else {
                throw invalid("shape \(shapeText) of \(entry.dtype.rawValue) needs more bytes than a 64-bit size holds")
            }
            guard entry.end - entry.begin == byteCount else {
                throw invalid(
                    "shape \(shapeText) of \(entry.dtype.rawValue) needs \(byteCount) bytes, the range holds \(entry.end - entry.begin)")
            }
            guard entry.end <= dataLength else {
                throw invalid("the range ends past the data buffer, which has \(dataLength) bytes (is the file truncated?)")
            }
            if entry.begin < covered, let previous = tensors.last {
                throw invalid(
                    "it starts inside tensor \"\(previous.name)\" [\(previous.byteRange.lowerBound), \(previous.byteRange.upperBound)]")
            }
            guard entry.begin == covered else {
                throw invalid("bytes \(covered)..<\(entry.begin) of the data buffer before it belong to no tensor")
            }
            covered = entry.end
            tensors.append(SafetensorsFile.TensorInfo(
                name: entry.name, dtype: entry.dtype.rawValue, shape: entry.shape, byteRange: entry.begin..<entry.end))
        }
        guard covered == dataLength else {
            guard let last = tensors.last else {
                throw fail(.invalidHeader(
                    offset: dataStart, reason: "the header lists no tensor, but \(dataLength) bytes of data follow it"))
            }
            throw fail(.invalidDataOffsets(
                tensor: last.name, begin: last.byteRange.lowerBound, end: last.byteRange.upperBound,
                reason: "bytes \(covered)..<\(dataLength) at the end of the data buffer, after it, belong to no tensor"))
        }
        return tensors
    }

    /// The bytes a tensor of `shape` and `dtype` takes, or `nil` when that overflows `Int`. A
    /// zero extent makes it 0 whatever the others are.
    static func byteCount(shape: [Int], dtype: SafetensorsDType) -> Int? {
        if shape.contains(0) { return 0 }
        var count = dtype.size
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            if overflow { return nil }
            count = product
        }
        return count
    }
}
