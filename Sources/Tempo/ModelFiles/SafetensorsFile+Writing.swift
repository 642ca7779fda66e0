import Foundation

extension SafetensorsFile {
    /// The bytes of a `.safetensors` file holding `tensors` as F32, in the given order, and
    /// `metadata` as `__metadata__`.
    ///
    /// The layout is the Python package's: metadata first in the header, the header padded with
    /// spaces to a multiple of 8 bytes so the data buffer starts 8-byte aligned. Values are written
    /// bit for bit (NaN payloads, -0 and subnormals included). Tensors on an OpenCL device are
    /// read back first.
    ///
    /// - Throws: ``TempoError/invalidArgument(argument:expected:actual:)`` for a name given twice
    ///   or the reserved name `__metadata__`; what reading a tensor's values throws.
    public static func serialize(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]? = nil
    ) throws -> Data {
        var names = Set<String>()
        for (name, _) in tensors {
            guard name != "__metadata__" else {
                throw TempoError.invalidArgument(
                    argument: "tensors", expected: "names other than the reserved \"__metadata__\"", actual: "\"\(name)\"")
            }
            guard names.insert(name).inserted else {
                throw TempoError.invalidArgument(
                    argument: "tensors", expected: "each name once", actual: "\"\(name)\" more than once")
            }
        }

        var header = "{"
        var entries: [String] = []
        if let metadata {
            // Sorted, so the same inputs give the same bytes.
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, tensor) in tensors {
            let (byteCount, overflow) = tensor.count.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
            let (end, endOverflow) = offset.addingReportingOverflow(byteCount)
            guard !overflow, !endOverflow else {
                throw TempoError.invalidArgument(argument: "tensors", expected: "a total size that fits in memory", actual: "more")
            }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        headerBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8))
        guard headerBytes.count <= SafetensorsLayout.maximumHeaderLength else {
            throw TempoError.invalidArgument(
                argument: "tensors", expected: "a header of at most \(SafetensorsLayout.maximumHeaderLength) bytes",
                actual: "\(headerBytes.count) bytes")
        }

        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for (_, tensor) in tensors {
            let values = try tensor.values
            #if _endian(little)
            values.withUnsafeBytes { data.append(contentsOf: $0) }
            #else
            for value in values {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
            #endif
        }
        return data
    }

    /// Writes ``serialize(_:metadata:)``'s bytes to `url` atomically: through a temporary file
    /// renamed over the destination, so a reader never sees half a file.
    ///
    /// - Throws: as ``serialize(_:metadata:)``; ``TempoError/modelFile(path:problem:)`` with
    ///   ``ModelFileProblem/io(_:)`` when the file cannot be written.
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]? = nil, to url: URL
    ) throws {
        let data = try serialize(tensors, metadata: metadata)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            let path = url.isFileURL ? url.path(percentEncoded: false) : url.absoluteString
            throw TempoError.modelFile(path: path, problem: .io("cannot write the file: \(error.localizedDescription)"))
        }
    }

    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped (as
    /// serde_json writes them), everything else as UTF-8.
    static func jsonString(_ text: String) -> String {
        var literal = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": literal += "\\\""
            case "\\": literal += "\\\\"
            case "\n": literal += "\\n"
            case "\r": literal += "\\r"
            case "\t": literal += "\\t"
            case "\u{08}": literal += "\\b"
            case "\u{0C}": literal += "\\f"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16, uppercase: false)
                literal += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                literal.unicodeScalars.append(scalar)
            }
        }
        return literal + "\""
    }
}
