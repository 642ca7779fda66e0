/// A JSON value read from a model-file header, with the byte offset in the file where it starts.
///
/// The headers of `.safetensors` files are read by this small strict parser rather than
/// `JSONSerialization` because the reader needs what that one does not give: the byte offset of a
/// problem for the error, duplicate keys kept (to reject a tensor named twice), and integers told
/// apart from floats with their exact value (`"shape": [2.0]` and `[1e30]` are errors, as in the
/// reference implementation).
struct HeaderJSON {
    /// Where the value starts, counted from the start of the file.
    let offset: Int
    let value: Value

    enum Value {
        /// Members in file order, duplicates kept.
        case object([Member])
        case array([HeaderJSON])
        case string(String)
        case number(Number)
        case bool(Bool)
        case null
    }

    struct Member {
        let key: String
        /// Where the key's opening quote is, counted from the start of the file.
        let keyOffset: Int
        let value: HeaderJSON
    }

    struct Number {
        /// The literal as written, for messages.
        let text: String
        /// The value when the literal is an integer (no fraction, no exponent) that fits in `Int`.
        let integer: Int?
    }

    /// What kind of value this is, for messages such as "expected an array, found a string".
    var kind: String {
        switch value {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case let .number(number): "the number \(number.text)"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

/// Malformed JSON: where and what.
struct HeaderJSONError: Error {
    /// Counted from the start of the file.
    let offset: Int
    let reason: String
}

extension HeaderJSON {
    /// Nesting deeper than this is refused, so a hostile header cannot exhaust the stack of a
    /// secondary thread. A safetensors header needs 3 levels (header, entry, shape); serde_json,
    /// behind the reference implementation, stops at 128.
    static let maximumDepth = 64

    /// Parses `bytes` as exactly one JSON value followed only by whitespace.
    ///
    /// - Parameters:
    ///   - bytes: the header, already checked to be valid UTF-8.
    ///   - fileOffset: where `bytes` starts in the file, added to every offset reported.
    static func parse(_ bytes: UnsafeRawBufferPointer, fileOffset: Int) throws(HeaderJSONError) -> HeaderJSON {
        var parser = HeaderJSONParser(bytes: bytes, fileOffset: fileOffset)
        return try parser.parseDocument()
    }
}

/// A recursive-descent parser over the header bytes. Every read goes through ``peek()`` or
/// ``next()``, which check the position against the end, so no input can read out of bounds.
private struct HeaderJSONParser {
    let bytes: UnsafeRawBufferPointer
    let fileOffset: Int
    var position = 0

    init(bytes: UnsafeRawBufferPointer, fileOffset: Int) {
        self.bytes = bytes
        self.fileOffset = fileOffset
    }

    mutating func parseDocument() throws(HeaderJSONError) -> HeaderJSON {
        skipWhitespace()
        let document = try parseValue(depth: 0)
        skipWhitespace()
        if let byte = peek() {
            throw error("unexpected \(describe(byte)) after the end of the JSON value")
        }
        return document
    }

    // MARK: Values

    private mutating func parseValue(depth: Int) throws(HeaderJSONError) -> HeaderJSON {
        guard depth < HeaderJSON.maximumDepth else {
            throw error("JSON nested deeper than \(HeaderJSON.maximumDepth) levels")
        }
        let start = fileOffset + position
        guard let byte = peek() else { throw error("the header ends where a JSON value should start") }
        switch byte {
        case UInt8(ascii: "{"): return HeaderJSON(offset: start, value: .object(try parseObject(depth: depth)))
        case UInt8(ascii: "["): return HeaderJSON(offset: start, value: .array(try parseArray(depth: depth)))
        case UInt8(ascii: "\""): return HeaderJSON(offset: start, value: .string(try parseString()))
        case UInt8(ascii: "t"): try expectLiteral("true"); return HeaderJSON(offset: start, value: .bool(true))
        case UInt8(ascii: "f"): try expectLiteral("false"); return HeaderJSON(offset: start, value: .bool(false))
        case UInt8(ascii: "n"): try expectLiteral("null"); return HeaderJSON(offset: start, value: .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return HeaderJSON(offset: start, value: .number(try parseNumber()))
        default:
            throw error("expected a JSON value, found \(describe(byte))")
        }
    }

    private mutating func parseObject(depth: Int) throws(HeaderJSONError) -> [HeaderJSON.Member] {
        position += 1  // "{", seen by the caller
        var members: [HeaderJSON.Member] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return members
        }
        while true {
            skipWhitespace()
            let keyOffset = fileOffset + position
            guard peek() == UInt8(ascii: "\"") else { throw unexpected(expecting: "a string key") }
            let key = try parseString()
            skipWhitespace()
            guard next() == UInt8(ascii: ":") else { throw unexpected(expecting: "':' after the key", back: 1) }
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            members.append(HeaderJSON.Member(key: key, keyOffset: keyOffset, value: value))
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return members
            default: throw unexpected(expecting: "',' or '}' in an object", back: 1)
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(HeaderJSONError) -> [HeaderJSON] {
        position += 1  // "[", seen by the caller
        var elements: [HeaderJSON] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return elements
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return elements
            default: throw unexpected(expecting: "',' or ']' in an array", back: 1)
            }
        }
    }

    // MARK: Strings

    private mutating func parseString() throws(HeaderJSONError) -> String {
        position += 1  // the opening quote, seen by the caller
        var utf8: [UInt8] = []
        while true {
            guard let byte = next() else { throw error("the header ends inside a string") }
            switch byte {
            case UInt8(ascii: "\""):
                // The header was validated as UTF-8 and escapes produce whole scalars.
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8)
            case 0..<0x20:
                position -= 1
                throw error("control character \(describe(byte)) inside a string (JSON requires it escaped)")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(HeaderJSONError) {
        guard let byte = next() else { throw error("the header ends inside a string escape") }
        let simple: UInt8? = switch byte {
        case UInt8(ascii: "\""): UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): UInt8(ascii: "\\")
        case UInt8(ascii: "/"): UInt8(ascii: "/")
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
        if let simple {
            utf8.append(simple)
            return
        }
        guard byte == UInt8(ascii: "u") else {
            position -= 1
            throw error("invalid escape \\\(describe(byte)) in a string")
        }
        let escapeStart = position - 2
        var scalar = UInt32(try parseHex4())
        if (0xD800...0xDBFF).contains(scalar) {
            // A high surrogate must be followed by an escaped low one; together they are one scalar.
            guard next() == UInt8(ascii: "\\"), next() == UInt8(ascii: "u") else {
                position = escapeStart
                throw error("unpaired surrogate escape in a string")
            }
            let low = UInt32(try parseHex4())
            guard (0xDC00...0xDFFF).contains(low) else {
                position = escapeStart
                throw error("unpaired surrogate escape in a string")
            }
            scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
        }
        guard let unicodeScalar = Unicode.Scalar(scalar) else {
            position = escapeStart
            throw error("unpaired surrogate escape in a string")
        }
        utf8.append(contentsOf: String(Character(unicodeScalar)).utf8)
    }

    private mutating func parseHex4() throws(HeaderJSONError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let byte = next() else { throw error("the header ends inside a \\u escape") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                position -= 1
                throw error("expected a hex digit in a \\u escape, found \(describe(byte))")
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    // MARK: Numbers and literals

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, as RFC 8259 has it.
    private mutating func parseNumber() throws(HeaderJSONError) -> HeaderJSON.Number {
        let start = position
        let negative = peek() == UInt8(ascii: "-")
        if negative { position += 1 }
        // The integer part, accumulated with overflow reported: a too-large integer is still JSON,
        // it just has no `Int` value.
        var magnitude: Int? = 0
        guard let first = peek(), isDigit(first) else { throw unexpected(expecting: "a digit") }
        if first == UInt8(ascii: "0") {
            position += 1
        } else {
            while let byte = peek(), isDigit(byte) {
                position += 1
                if let current = magnitude {
                    let (times10, overflow1) = current.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                    magnitude = overflow1 || overflow2 ? nil : sum
                }
            }
        }
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard let byte = peek(), isDigit(byte) else { throw unexpected(expecting: "a digit after '.'") }
            while let byte = peek(), isDigit(byte) { position += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let byte = peek(), isDigit(byte) else { throw unexpected(expecting: "a digit in the exponent") }
            while let byte = peek(), isDigit(byte) { position += 1 }
        }
        // Every byte of a number literal is ASCII, so this slice is whole characters.
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        let integer = isInteger ? magnitude.map { negative ? -$0 : $0 } : nil
        return HeaderJSON.Number(text: text, integer: integer)
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(HeaderJSONError) {
        let start = position
        for expected in UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount) {
            guard next() == expected else {
                position = start
                throw error("expected \(literal)")
            }
        }
    }

    // MARK: Bytes

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    /// The byte at the position, then moves past it (also past the end, so `back:` stays right).
    private mutating func next() -> UInt8? {
        defer { position += 1 }
        return peek()
    }

    private mutating func skipWhitespace() {
        while let byte = peek(),
              byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t") {
            position += 1
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// An error at the current position.
    private func error(_ reason: String) -> HeaderJSONError {
        HeaderJSONError(offset: fileOffset + min(position, bytes.count), reason: reason)
    }

    /// "expected X, found Y" for the byte `back` bytes before the position (1 after ``next()``).
    private mutating func unexpected(expecting expected: String, back: Int = 0) -> HeaderJSONError {
        position -= back
        guard let byte = peek() else { return error("the header ends where \(expected) should be") }
        return error("expected \(expected), found \(describe(byte))")
    }

    /// `'x'` for printable ASCII, `byte 0x1F` otherwise.
    private func describe(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte)
            ? "'\(Character(Unicode.Scalar(byte)))'"
            : "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }
}
