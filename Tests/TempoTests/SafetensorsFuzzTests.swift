import Foundation
import TempoTestSupport
import Testing
import Tempo

/// Seeded mutations of valid files: each must load (every tensor's values readable, or refused
/// as an unsupported dtype) or throw a `TempoError`. A trap would kill the test process, so a green
/// run is the proof that no byte pattern here crashes the reader.
@Suite("Safetensors: fuzz")
struct SafetensorsFuzzTests {
    /// Mutations per seed file.
    static let attempts = 10_000

    /// Valid files to mutate: the Python package's mixed-dtype file and one written by Tempo.
    static func seedFiles() throws -> [(name: String, data: Data)] {
        let python = try Data(contentsOf: fixturesDirectory.appending(path: "mixed_dtypes.safetensors"))
        let tempo = try SafetensorsFile.serialize(
            [
                ("a", Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])),
                ("empty", Tensor(shape: [0, 2], values: [])),
                ("s", Tensor(shape: [], values: [-0.0])),
                ("b", Tensor(shape: [5], values: [.nan, .infinity, -1, 0x1p-149, 7])),
            ],
            metadata: ["k": "v", "format": "pt"])
        return [("mixed_dtypes.safetensors", python), ("tempo", tempo)]
    }

    @Test("thousands of mutated files load or throw a TempoError, never trap", arguments: [0, 1])
    func mutations(seedIndex: Int) throws {
        let (seedName, original) = try Self.seedFiles()[seedIndex]
        var generator = SeededGenerator(seed: 0x5AFE + UInt64(seedIndex))
        let headerEnd = 8 + original.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var outcomes: [String: Int] = [:]

        for attempt in 0..<Self.attempts {
            var bytes = [UInt8](original)
            let mutation = Self.mutate(&bytes, headerEnd: headerEnd, using: &generator)
            let outcome: String
            do {
                let file = try SafetensorsFile(data: Data(bytes), path: "fuzz")
                try Self.checkLoaded(file, fileSize: bytes.count)
                outcome = "loaded"
            } catch let TempoError.modelFile(_, problem) {
                outcome = "\(problem)".prefix { $0 != ":" && $0 != " " }.description
            } catch {
                Issue.record("\(seedName) attempt \(attempt) (\(mutation)): not a model-file TempoError: \(error)")
                outcome = "other"
            }
            outcomes[outcome, default: 0] += 1
        }
        // The mutations reach every layer of the reader, and some mutated files are still valid.
        #expect(outcomes["loaded", default: 0] > 0, "\(outcomes)")
        #expect(outcomes["truncated", default: 0] > 0, "\(outcomes)")
        #expect(outcomes["invalid", default: 0] > 0, "\(outcomes)")
        #expect(outcomes["tensor", default: 0] > 0, "\(outcomes)")  // invalidDataOffsets: `tensor "x" has ...`
    }

    /// A loaded file's tensors cover its data exactly, and each one's values read (or are refused
    /// as an unsupported dtype) with one value per element.
    static func checkLoaded(_ file: SafetensorsFile, fileSize: Int) throws {
        var covered = file.tensors.first?.byteRange.lowerBound ?? 0
        #expect(covered == 0)
        for info in file.tensors {
            #expect(info.byteRange.lowerBound == covered)
            covered = info.byteRange.upperBound
            do {
                let values = try file.values(info.name)
                let elements = info.shape.contains(0) ? 0 : info.shape.reduce(1, *)
                #expect(values.count == elements)
            } catch let TempoError.modelFile(_, problem) {
                #expect(problem == .unsupportedDType(tensor: info.name, dtype: info.dtype))
            }
        }
        #expect(covered <= fileSize)
    }

    /// Applies one random mutation to `bytes` and says which.
    static func mutate(_ bytes: inout [UInt8], headerEnd: Int, using generator: inout SeededGenerator) -> String {
        let header = 0..<min(headerEnd, bytes.count)
        switch Int.random(in: 0..<8, using: &generator) {
        case 0:
            let length = Int.random(in: 0..<bytes.count, using: &generator)
            bytes.removeSubrange(length...)
            return "truncated to \(length) bytes"
        case 1:
            let flips = Int.random(in: 1...8, using: &generator)
            for _ in 0..<flips { flipBit(in: &bytes, within: bytes.indices, using: &generator) }
            return "\(flips) bit flips anywhere"
        case 2:
            flipBit(in: &bytes, within: 0..<8, using: &generator)
            return "a bit flip in the length"
        case 3:
            let flips = Int.random(in: 1...4, using: &generator)
            for _ in 0..<flips { flipBit(in: &bytes, within: header, using: &generator) }
            return "\(flips) bit flips in the length and header"
        case 4:
            let count = Int.random(in: 1...6, using: &generator)
            let start = Int.random(in: 0..<bytes.count, using: &generator)
            for index in start..<min(start + count, bytes.count) { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
            return "\(count) bytes overwritten at \(start)"
        case 5:
            let lengths: [UInt64] = [
                0, 1, 7, UInt64(headerEnd - 9), UInt64(headerEnd - 7), UInt64(headerEnd), UInt64(bytes.count),
                100_000_000, 100_000_001, UInt64(Int.max), UInt64(Int.max) + 1, .max,
                UInt64.random(in: 0...UInt64(bytes.count + 16), using: &generator), generator.next(),
            ]
            let length = lengths[Int.random(in: 0..<lengths.count, using: &generator)]
            withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
            return "length set to \(length)"
        case 6:
            // A digit of the header changed: shapes and offsets that still parse but disagree.
            let digits = header.filter { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[$0]) && $0 >= 8 }
            guard let index = digits.randomElement(using: &generator) else { return "no digit to change" }
            bytes[index] = UInt8(ascii: "0") + UInt8.random(in: 0...9, using: &generator)
            return "digit at \(index) changed"
        default:
            // A header byte replaced by JSON punctuation, or one inserted or deleted.
            let punctuation = Array("{}[],:\" -.e0\\u".utf8)
            let index = Int.random(in: header.lowerBound..<max(header.upperBound, 1), using: &generator)
            guard index < bytes.count else { return "no header byte" }
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: bytes[index] = punctuation.randomElement(using: &generator) ?? 0
            case 1: bytes.insert(punctuation.randomElement(using: &generator) ?? 0, at: index)
            default: bytes.remove(at: index)
            }
            return "header byte \(index) replaced, inserted or deleted"
        }
    }

    static func flipBit(in bytes: inout [UInt8], within range: Range<Int>, using generator: inout SeededGenerator) {
        let range = range.clamped(to: bytes.indices)
        guard !range.isEmpty else { return }
        let index = Int.random(in: range, using: &generator)
        bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
    }
}
