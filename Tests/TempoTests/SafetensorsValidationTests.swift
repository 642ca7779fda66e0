import Foundation
import TempoTestSupport
import Testing
import Tempo

/// A `.safetensors` file made by hand: the u64 length (the header's own unless `declaredLength`
/// says otherwise), the header bytes, then `dataBytes` bytes of data.
private func rawFile(_ header: [UInt8], dataBytes: Int = 0, declaredLength: UInt64? = nil) -> Data {
    var data = Data()
    withUnsafeBytes(of: (declaredLength ?? UInt64(header.count)).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: header)
    data.append(contentsOf: (0..<dataBytes).map { UInt8(truncatingIfNeeded: $0) })
    return data
}

private func rawFile(_ header: String, dataBytes: Int = 0, declaredLength: UInt64? = nil) -> Data {
    rawFile(Array(header.utf8), dataBytes: dataBytes, declaredLength: declaredLength)
}

/// The file offset of the `occurrence`-th `needle` in `header` (8 bytes of length come first).
private func offset(of needle: String, in header: String, occurrence: Int = 1) -> Int {
    let haystack = Array(header.utf8), pattern = Array(needle.utf8)
    var seen = 0
    for start in 0...(haystack.count - pattern.count) where Array(haystack[start..<(start + pattern.count)]) == pattern {
        seen += 1
        if seen == occurrence { return 8 + start }
    }
    return -1
}

/// `"name":{"dtype":...,"shape":[...],"data_offsets":[begin,end]}`
private func entry(_ name: String, _ dtype: String = "F32", shape: String, offsets: String) -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
}

/// One malformed file and the problem it must be reported as.
struct MalformedFile: Sendable, CustomTestStringConvertible {
    enum Expected: Sendable {
        case truncated(expectedBytes: Int, actualBytes: Int)
        case header(offset: Int)
        case offsets(tensor: String, begin: Int, end: Int)
    }

    let label: String
    let file: Data
    let expected: Expected
    /// Fragments the error's description must contain, besides the byte offset or tensor name.
    let mentions: [String]

    var testDescription: String { label }

    init(_ label: String, _ file: Data, _ expected: Expected, mentions: [String] = []) {
        self.label = label
        self.file = file
        self.expected = expected
        self.mentions = mentions
    }
}

@Suite("Safetensors: validation")
struct SafetensorsValidationTests {
    static let valid = "{" + entry("w", shape: "[2]", offsets: "[0,8]") + "}"

    static let cases: [MalformedFile] = {
        let deep = "{\"w\":{\"x\":" + String(repeating: "[", count: 10_000)
        let twoTensors = { (b: String) in "{" + entry("a", shape: "[2]", offsets: "[0,8]") + "," + b + "}" }
        return [
            // Lengths.
            MalformedFile("shorter than the 8-byte length", Data([1, 2, 3]),
                          .truncated(expectedBytes: 8, actualBytes: 3), mentions: ["8 bytes needed"]),
            MalformedFile("shorter than 8 + header length", rawFile(valid, dataBytes: 8, declaredLength: 200),
                          .truncated(expectedBytes: 208, actualBytes: 8 + valid.utf8.count + 8), mentions: ["208"]),
            MalformedFile("header length over 100 MB", rawFile(valid, dataBytes: 8, declaredLength: 100_000_001),
                          .header(offset: 0), mentions: ["100000001", "limit"]),
            MalformedFile("header length 2^64 - 1", rawFile(valid, declaredLength: .max),
                          .header(offset: 0), mentions: ["\(UInt64.max)"]),
            MalformedFile("empty header", rawFile(""), .header(offset: 8), mentions: ["'{'"]),
            // JSON.
            MalformedFile("header starting with whitespace", rawFile(" {}"), .header(offset: 8)),
            MalformedFile("header an array", rawFile("[1]"), .header(offset: 8)),
            MalformedFile("header not UTF-8", rawFile([UInt8]("{\"w".utf8) + [0xFF] + [UInt8]("\":1}".utf8)),
                          .header(offset: 11), mentions: ["UTF-8"]),
            MalformedFile("overlong UTF-8", rawFile([UInt8]("{\"w".utf8) + [0xC0, 0xAF] + [UInt8]("\":1}".utf8)),
                          .header(offset: 11), mentions: ["UTF-8"]),
            MalformedFile("JSON cut short", rawFile("{\"w\":{\"dtype\":\"F32\""),
                          .header(offset: 8 + 19), mentions: ["ends"]),
            MalformedFile("missing colon", rawFile("{\"w\" 1}"), .header(offset: 13), mentions: ["':'"]),
            MalformedFile("bytes after the object", rawFile("{} x"), .header(offset: 11), mentions: ["'x'"]),
            MalformedFile("nesting 10000 deep", rawFile(deep),
                          .header(offset: 8 + "{\"w\":{\"x\":".utf8.count + 62), mentions: ["nested"]),
            MalformedFile("unpaired surrogate escape", rawFile(#"{"\ud800x":1}"#), .header(offset: 10), mentions: ["surrogate"]),
            MalformedFile("raw control character in a name", rawFile("{\"a\u{01}\":1}"), .header(offset: 11),
                          mentions: ["control character"]),
            MalformedFile("leading zero", rawFile("{" + entry("w", shape: "[02]", offsets: "[0,8]") + "}"),
                          .header(offset: 8 + 30), mentions: ["'2'"]),
            // Entries.
            MalformedFile("entry not an object", rawFile(#"{"w":3}"#), .header(offset: 13), mentions: ["\"w\"", "object"]),
            MalformedFile("unknown dtype", rawFile("{" + entry("w", "F17", shape: "[2]", offsets: "[0,8]") + "}"),
                          .header(offset: offset(of: "\"F17\"", in: entry("w", "F17", shape: "[2]", offsets: "[0,8]")) + 1),
                          mentions: ["\"w\"", "F17", "BF16"]),
            MalformedFile("dtype not a string", rawFile(#"{"w":{"dtype":4,"shape":[],"data_offsets":[0,4]}}"#),
                          .header(offset: 8 + 14), mentions: ["\"w\"", "dtype"]),
            MalformedFile("negative extent", rawFile("{" + entry("w", shape: "[-1]", offsets: "[0,8]") + "}"),
                          .header(offset: 8 + 29), mentions: ["\"w\"", "-1"]),
            MalformedFile("fractional extent", rawFile("{" + entry("w", shape: "[2.0]", offsets: "[0,8]") + "}"),
                          .header(offset: 8 + 29), mentions: ["\"w\"", "2.0"]),
            MalformedFile("extent past 64 bits", rawFile("{" + entry("w", shape: "[99999999999999999999]", offsets: "[0,8]") + "}"),
                          .header(offset: 8 + 29), mentions: ["\"w\"", "99999999999999999999"]),
            MalformedFile("shape not an array", rawFile("{" + entry("w", shape: "2", offsets: "[0,8]") + "}"),
                          .header(offset: 8 + 28), mentions: ["\"w\"", "shape"]),
            MalformedFile("three data offsets", rawFile("{" + entry("w", shape: "[2]", offsets: "[0,4,8]") + "}"),
                          .header(offset: 8 + 47), mentions: ["\"w\"", "data_offsets", "3"]),
            MalformedFile("negative data offset", rawFile("{" + entry("w", shape: "[2]", offsets: "[-8,0]") + "}"),
                          .header(offset: 8 + 48), mentions: ["\"w\"", "-8"]),
            MalformedFile("missing data_offsets", rawFile(#"{"w":{"dtype":"F32","shape":[2]}}"#),
                          .header(offset: 13), mentions: ["\"w\"", "data_offsets"]),
            MalformedFile("a field twice", rawFile(#"{"w":{"dtype":"F32","dtype":"F32","shape":[],"data_offsets":[0,4]}}"#),
                          .header(offset: 8 + 20), mentions: ["\"w\"", "twice"]),
            MalformedFile("a tensor twice",
                          rawFile("{" + entry("w", shape: "[1]", offsets: "[0,4]") + "," + entry("w", shape: "[1]", offsets: "[4,8]") + "}", dataBytes: 8),
                          .header(offset: 8 + 1 + entry("w", shape: "[1]", offsets: "[0,4]").utf8.count + 1), mentions: ["\"w\"", "twice"]),
            MalformedFile("metadata value a number", rawFile(#"{"__metadata__":{"k":1}}"#),
                          .header(offset: 8 + 21), mentions: ["\"k\"", "string"]),
            MalformedFile("metadata an array", rawFile(#"{"__metadata__":[1]}"#), .header(offset: 8 + 16), mentions: ["__metadata__"]),
            MalformedFile("metadata key twice", rawFile(#"{"__metadata__":{"k":"a","k":"b"}}"#), .header(offset: 8 + 25),
                          mentions: ["\"k\"", "twice"]),
            // Data offsets.
            MalformedFile("begin after end", rawFile("{" + entry("w", shape: "[2]", offsets: "[8,0]") + "}", dataBytes: 8),
                          .offsets(tensor: "w", begin: 8, end: 0), mentions: ["after end"]),
            MalformedFile("range smaller than the shape", rawFile("{" + entry("w", shape: "[3]", offsets: "[0,8]") + "}", dataBytes: 8),
                          .offsets(tensor: "w", begin: 0, end: 8), mentions: ["[3]", "12 bytes", "holds 8"]),
            MalformedFile("F16 range the size of F32", rawFile("{" + entry("w", "F16", shape: "[2]", offsets: "[0,8]") + "}", dataBytes: 8),
                          .offsets(tensor: "w", begin: 0, end: 8), mentions: ["F16", "4 bytes"]),
            MalformedFile("byte count overflowing 64 bits",
                          rawFile("{" + entry("w", shape: "[4611686018427387904,4]", offsets: "[0,8]") + "}", dataBytes: 8),
                          .offsets(tensor: "w", begin: 0, end: 8), mentions: ["64-bit"]),
            MalformedFile("end past the data buffer", rawFile(valid, dataBytes: 4),
                          .offsets(tensor: "w", begin: 0, end: 8), mentions: ["past the data buffer", "4 bytes"]),
            MalformedFile("overlapping tensors", rawFile(twoTensors(entry("b", shape: "[2]", offsets: "[4,12]")), dataBytes: 12),
                          .offsets(tensor: "b", begin: 4, end: 12), mentions: ["inside tensor \"a\" [0, 8]"]),
            MalformedFile("an empty tensor inside another", rawFile(twoTensors(entry("z", shape: "[0]", offsets: "[4,4]")), dataBytes: 8),
                          .offsets(tensor: "z", begin: 4, end: 4), mentions: ["inside tensor \"a\""]),
            MalformedFile("a hole between tensors", rawFile(twoTensors(entry("b", shape: "[2]", offsets: "[12,20]")), dataBytes: 20),
                          .offsets(tensor: "b", begin: 12, end: 20), mentions: ["8..<12", "no tensor"]),
            MalformedFile("unindexed bytes at the end", rawFile(valid, dataBytes: 12),
                          .offsets(tensor: "w", begin: 0, end: 8), mentions: ["8..<12", "no tensor"]),
            MalformedFile("no tensor but data", rawFile("{}", dataBytes: 4), .header(offset: 10), mentions: ["4 bytes"]),
        ]
    }()

    @Test("a malformed file is reported as its specific problem, naming the tensor or byte", arguments: cases)
    func malformed(_ malformed: MalformedFile) throws {
        var description = ""
        let problem = modelFileProblem {
            do {
                _ = try SafetensorsFile(data: malformed.file, path: "bad.safetensors")
            } catch {
                description = "\(error)"
                throw error
            }
        }
        guard let problem else { return }
        var mentions = malformed.mentions + ["bad.safetensors"]
        switch (malformed.expected, problem) {
        case let (.truncated(expected, actual), .truncated):
            #expect(problem == .truncated(expectedBytes: expected, actualBytes: actual))
        case let (.header(expectedOffset), .invalidHeader(offset, _)):
            #expect(offset == expectedOffset, "\(description)")
            mentions.append("byte \(expectedOffset)")
        case let (.offsets(tensor, begin, end), .invalidDataOffsets(actualTensor, actualBegin, actualEnd, _)):
            #expect([actualTensor] == [tensor] && actualBegin == begin && actualEnd == end, "\(description)")
            mentions.append("tensor \"\(tensor)\"")
        default:
            Issue.record("expected \(malformed.expected), got \(description)")
        }
        for fragment in mentions where !description.contains(fragment) {
            Issue.record("\"\(description)\" does not mention \(fragment)")
        }
    }

    @Test("the baseline of the malformed cases is valid")
    func baseline() throws {
        let file = try SafetensorsFile(data: rawFile(Self.valid, dataBytes: 8))
        #expect(file.tensors.map(\.name) == ["w"])
        #expect(file.info("w")?.byteRange == 0..<8)
        #expect(try file.values("w").count == 2)
    }

    @Test("valid edge cases: no tensors, null metadata, extra fields, padding, empty tensors sharing an offset")
    func validEdges() throws {
        #expect(try SafetensorsFile(data: rawFile("{}")).tensors.isEmpty)
        let padded = try SafetensorsFile(data: rawFile("{\"__metadata__\":null, " + entry("w", shape: "[2]", offsets: "[0,8]") + "} \n\t\r ", dataBytes: 8))
        #expect(padded.metadata.isEmpty)
        #expect(padded.tensors.map(\.name) == ["w"])

        let extra = #"{"w":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4],"note":{"any":[1.5,true,null]}}}"#
        #expect(try SafetensorsFile(data: rawFile(extra, dataBytes: 4)).info("w")?.shape == [1, 2])

        let empties = "{" + [
            entry("e2", shape: "[0,4611686018427387904,4611686018427387904]", offsets: "[8,8]"),
            entry("e1", shape: "[0]", offsets: "[8,8]"),
            entry("a", "I64", shape: "[1]", offsets: "[0,8]"),
            entry("e0", shape: "[3,0]", offsets: "[0,0]"),
        ].joined(separator: ",") + "}"
        let file = try SafetensorsFile(data: rawFile(empties, dataBytes: 8))
        #expect(file.tensors.map(\.name) == ["e0", "a", "e1", "e2"])
        #expect(try file.values("e2").isEmpty)
        #expect(try file.tensor("e0").shape == [3, 0])

        let escaped = try SafetensorsFile(data: rawFile(#"{"\u00fc\ud83d\ude00\n\/":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}"#, dataBytes: 1))
        #expect(escaped.tensors.map(\.name) == ["\u{00FC}\u{1F600}\n/"])
    }

    @Test("reading: an unknown name is missing, a non-float dtype unsupported, a missing file an io problem")
    func readingProblems() throws {
        let file = try SafetensorsFile(data: rawFile("{" + entry("counts", "I64", shape: "[1]", offsets: "[0,8]") + "}", dataBytes: 8))
        #expect(modelFileProblem { _ = try file.values("nope") } == .missingTensors(["nope"]))
        #expect(modelFileProblem { _ = try file.tensor("nope") } == .missingTensors(["nope"]))
        let unsupported = modelFileProblem { _ = try file.tensor("counts") }
        #expect(unsupported == .unsupportedDType(tensor: "counts", dtype: "I64"))
        #expect(unsupported?.description.contains("\"counts\"") == true)

        let missing = URL(fileURLWithPath: "/nonexistent/dir/model.safetensors")
        guard case .io(let message)? = modelFileProblem({ _ = try SafetensorsFile(contentsOf: missing) }) else {
            Issue.record("expected an io problem")
            return
        }
        #expect(!message.isEmpty)
        #expect(throws: TempoError.self) { try SafetensorsFile.write([], to: missing) }
    }
}
