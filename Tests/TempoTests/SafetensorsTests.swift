import Foundation
import TempoTestSupport
import Testing
@testable import Tempo

@Suite("Safetensors: round trip and fixtures")
struct SafetensorsTests {
    /// Values that a careless reader or writer changes: NaNs with payloads (quiet and signalling),
    /// -0, infinities, subnormals, max finite.
    static let awkwardBits: [UInt32] = [
        0x7FC0_0000, 0xFFC1_2345, 0x7F80_0001, 0x7FBF_FFFF,  // NaNs; the last two signalling
        0x8000_0000, 0x0000_0000, 0x7F80_0000, 0xFF80_0000,  // -0, +0, +-inf
        0x0000_0001, 0x807F_FFFF, 0x7F7F_FFFF, 0xC049_0FDB,  // subnormals, max finite, -pi
    ]

    /// Names (one with quotes, a backslash, a control character and non-ASCII), shapes and values
    /// of the round-trip file, in the order they are written.
    static func roundTripContents() -> [(name: String, shape: [Int], bits: [UInt32])] {
        var generator = SeededGenerator(seed: 7)
        let random = (0..<(17 * 33)).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: generator.next())).bitPattern }
        return [
            ("awkward", [3, 4], awkwardBits),
            ("empty", [0, 5], []),
            ("scalar", [], [0xFFC1_2345]),
            ("random.bits", [17, 33], random),
            ("layer.0/\"weight\"\\ \u{01} \u{00FC}\u{00DF}\u{1F600}", [2], [0x3F80_0000, 0xBF80_0000]),
        ]
    }

    static let roundTripMetadata = [
        "format": "pt", "quote\"and\\backslash": "line\nbreak\ttab\u{01}", "\u{00FC}nicode": "\u{1F600}", "": "",
    ]

    @Test("serialize then read back is bit-exact", arguments: allDevices)
    func roundTrip(device: Device) throws {
        let contents = Self.roundTripContents()
        let tensors = try contents.map { item in
            (name: item.name, tensor: try Tensor(shape: item.shape, values: item.bits.map(Float.init(bitPattern:)), device: device))
        }
        let data = try SafetensorsFile.serialize(tensors, metadata: Self.roundTripMetadata)

        // The Python package's layout: u64 header length, a multiple of 8, header padded with spaces.
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
        #expect(data.dropFirst(8).first == UInt8(ascii: "{"))

        let file = try SafetensorsFile(data: data)
        #expect(file.metadata == Self.roundTripMetadata)
        #expect(file.tensors.map(\.name) == contents.map(\.name), "data order is the given order")
        var offset = 0
        for item in contents {
            let info = try #require(file.info(item.name))
            #expect(info.dtype == "F32")
            #expect(info.shape == item.shape)
            #expect(info.byteRange == offset..<(offset + 4 * item.bits.count), "\(item.name)")
            offset = info.byteRange.upperBound
            #expect(bits(try file.values(item.name)) == item.bits, "\(item.name)")
            let tensor = try file.tensor(item.name, device: device)
            #expect(tensor.device == device)
            #expect(tensor.shape == item.shape)
            #expect(bits(try tensor.values) == item.bits, "\(item.name) on \(device)")
        }
        #expect(data.count == 8 + headerLength + offset)
    }

    @Test("the round trip ran on OpenCL when TEMPO_REQUIRE_OPENCL=1")
    func openCLCovered() {
        if ProcessInfo.processInfo.environment["TEMPO_REQUIRE_OPENCL"] == "1" {
            #expect(!Device.openCLDevices.isEmpty, "no OpenCL device: \(Device.openCLUnavailableReason ?? "none found")")
        }
    }

    @Test("write is atomic and replaces an existing file; contentsOf reads it back")
    func writeAndRead() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "tempo-safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appending(path: "model.safetensors")

        let first = try Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        try SafetensorsFile.write([("a", first)], to: url)
        let second = try Tensor(shape: [3], values: [5, 6, 7])
        try SafetensorsFile.write([("b", second), ("a", first)], metadata: ["k": "v"], to: url)

        let file = try SafetensorsFile(contentsOf: url)
        #expect(file.path == url.path(percentEncoded: false))
        #expect(file.tensors.map(\.name) == ["b", "a"])
        #expect(file.metadata == ["k": "v"])
        #expect(try file.values("b") == [5, 6, 7])
        #expect(try file.tensor("a").values == [1, 2, 3, 4])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path(percentEncoded: false)) == ["model.safetensors"])
    }

    @Test("a file inside a larger Data (a slice with a non-zero start index) reads the same")
    func dataSlice() throws {
        let data = try SafetensorsFile.serialize([("x", Tensor(shape: [2], values: [1.5, -2]))])
        let padded = Data([9, 9, 9]) + data + Data([9])
        let file = try SafetensorsFile(data: padded[3..<(3 + data.count)])
        #expect(try file.values("x") == [1.5, -2])
    }

    @Test("serialize refuses a name given twice and the reserved __metadata__")
    func serializeNames() throws {
        let x = try Tensor(shape: [1], values: [1])
        #expect(throws: TempoError.self) { try SafetensorsFile.serialize([("x", x), ("x", x)]) }
        #expect(throws: TempoError.self) { try SafetensorsFile.serialize([("__metadata__", x)]) }
    }

    // MARK: Fixtures written by the Python package

    struct ExpectedFile: Decodable {
        struct Entry: Decodable {
            let dtype: String
            let shape: [Int]
            let float32_bits: [UInt32]?
        }
        let metadata: [String: String]
        let tensors: [String: Entry]
    }

    @Test("F32, F16, BF16 and F64 written by safetensors 0.8.0 read as numpy converts them", arguments: allDevices)
    func mixedDTypes(device: Device) throws {
        let expected = try JSONDecoder().decode(
            ExpectedFile.self, from: Data(contentsOf: fixturesDirectory.appending(path: "mixed_dtypes_expected.json")))
        let file = try SafetensorsFile(contentsOf: fixturesDirectory.appending(path: "mixed_dtypes.safetensors"))
        #expect(file.metadata == expected.metadata)
        #expect(Set(file.tensors.map(\.name)) == Set(expected.tensors.keys))
        #expect(file.tensors.map(\.byteRange.lowerBound) == file.tensors.map(\.byteRange.lowerBound).sorted())
        for (name, entry) in expected.tensors.sorted(by: { $0.key < $1.key }) {
            let info = try #require(file.info(name))
            #expect(info.dtype == entry.dtype, "\(name)")
            #expect(info.shape == entry.shape, "\(name)")
            if let expectedBits = entry.float32_bits {
                #expect(bits(try file.values(name)) == expectedBits, "\(name)")
                #expect(bits(try file.tensor(name, device: device).values) == expectedBits, "\(name) on \(device)")
            } else {
                let problem = modelFileProblem { _ = try file.values(name) }
                #expect(problem == .unsupportedDType(tensor: name, dtype: entry.dtype))
                #expect(problem?.description.contains("\"\(name)\"") == true)
            }
        }
    }

    @Test("safetensors.numpy.save_file's file holds the same F32 and F16 values")
    func numpySaveFile() throws {
        let mixed = try SafetensorsFile(contentsOf: fixturesDirectory.appending(path: "mixed_dtypes.safetensors"))
        let file = try SafetensorsFile(contentsOf: fixturesDirectory.appending(path: "numpy_save_file.safetensors"))
        #expect(file.metadata == ["writer": "safetensors.numpy.save_file"])
        #expect(file.tensors.map(\.name).sorted() == ["weights.f16", "weights.f32"])
        for name in ["weights.f16", "weights.f32"] {
            #expect(file.info(name)?.shape == mixed.info(name)?.shape)
            #expect(bits(try file.values(name)) == bits(try mixed.values(name)), "\(name)")
        }
    }

    /// The layer fixtures are for the layer tests; here they are checked to load with the right
    /// keys and shapes and to be self-consistent (y recomputed from x and the state dict in Double).
    @Test("linear fixtures: nn.Linear(5, 3) state dict, x and y = x W^T + b")
    func linearFixture() throws {
        let state = try SafetensorsFile(contentsOf: fixturesDirectory.appending(path: "linear.safetensors"))
        let io = try SafetensorsFile(contentsOf: fixturesDirectory.appending(path: "linear_io.safetensors"))
        #expect(state.tensors.map(\.name).sorted() == ["bias", "weight"])
        #expect(state.info("weight")?.shape == [3, 5])
        #expect(state.info("bias")?.shape == [3])
        #expect(io.info("x")?.shape == [4, 5])
        #expect(io.info("y")?.shape == [4, 3])
        let (w, b, x, y) = try (state.values("weight"), state.values("bias"), io.values("x"), io.values("y"))
        for row in 0..<4 {
            for column in 0..<3 {
                var sum = Double(b[column])
                for k in 0..<5 { sum += Double(x[row * 5 + k]) * Double(w[column * 5 + k]) }
                #expect(abs(Float(sum) - y[row * 3 + column]) <= 1e-6 * max(1, abs(Float(sum))))
            }
        }
    }

    @Test("layer_norm fixtures: nn.LayerNorm(6) state dict, x with a large offset, y")
    func layerNormFixture() throws {
        let state = try SafetensorsFile(contentsOf: fixturesDirectory.appending(path: "layer_norm.safetensors"))
        let io = try SafetensorsFile(contentsOf: fixturesDirectory.appending(path: "layer_norm_io.safetensors"))
        #expect(state.tensors.map(\.name).sorted() == ["bias", "weight"])
        #expect(state.info("weight")?.shape == [6])
        #expect(io.info("x")?.shape == [3, 6])
        #expect(io.info("y")?.shape == [3, 6])
        let (w, b, x, y) = try (state.values("weight"), state.values("bias"), io.values("x"), io.values("y"))
        #expect(w.contains { $0 != 1 } && b.contains { $0 != 0 }, "affine parameters are not the defaults")
        #expect(x[6..<12].allSatisfy { $0 > 990 }, "row 1 carries the large offset")
        for row in 0..<3 {
            let values = x[(row * 6)..<(row * 6 + 6)].map(Double.init)
            let mean = values.reduce(0, +) / 6
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 6
            for column in 0..<6 {
                let expected = (values[column] - mean) / (variance + 1e-5).squareRoot() * Double(w[column]) + Double(b[column])
                #expect(abs(Float(expected) - y[row * 6 + column]) <= 1e-5 * max(1, abs(Float(expected))))
            }
        }
    }
}


@Suite("Safetensors: float conversions")
struct SafetensorsConversionTests {
    #if !(os(macOS) && arch(x86_64))  // Float16 is missing there
    @Test("F16 converts exactly for all 65536 bit patterns; NaNs keep sign and payload")
    func float16() {
        for half in UInt16.min...UInt16.max {
            let converted = FloatConversion.float32Bits(fromFloat16: half)
            let reference = Float(Float16(bitPattern: half))
            if reference.isNaN {
                #expect(converted == UInt32(half & 0x8000) << 16 | 0x7F80_0000 | UInt32(half & 0x03FF) << 13)
            } else if converted != reference.bitPattern {
                Issue.record("F16 0x\(String(half, radix: 16)): got 0x\(String(converted, radix: 16)), expected \(reference)")
            }
        }
    }
    #endif

    @Test("BF16 is the top half of a Float32")
    func bfloat16() {
        for bits in [UInt16(0x0000), 0x8000, 0x3F80, 0x0001, 0x7F7F, 0x7F80, 0xFFC1] {
            #expect(FloatConversion.float32Bits(fromBFloat16: bits) == UInt32(bits) << 16)
        }
        #expect(Float(bitPattern: FloatConversion.float32Bits(fromBFloat16: 0x3FC0)) == 1.5)
    }
}
