import ArgumentParser
import Foundation
import Synchronization
import TempoTestSupport
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import TempoBenchCore
import Tempo

/// Devices for runner tests: the CPU and the first OpenCL device, or the CPU twice (the runner
/// treats each entry as a device to verify against the first).
let benchDevices: [Device] = [.cpu] + (Device.openCLDevices.first.map { [$0] } ?? [.cpu])

/// A small real run, shared by the writer tests.
func smallOutcome() throws -> RunOutcome {
    let configuration = RunConfiguration(devices: benchDevices, threads: [1], warmup: 0, repetitions: 2, showProgress: false)
    return try Runner(configuration: configuration).run([
        Catalog.sgemm(m: 8, n: 8, k: 8), Catalog.softmax(rows: 3, columns: 17),
    ])
}

@Suite("tempo-bench arguments")
struct ArgumentTests {
    @Test("run: op, shape, devices, threads, warm-up, repetitions")
    func runOptions() throws {
        let run = try Run.parse([
            "--op", "sgemm", "--shape", "M=64,K=16", "--device", "cpu", "--threads", "1,2", "--warmup", "1", "--reps", "4",
        ])
        let cases = try run.selectedCases()
        #expect(cases.count == 1)
        #expect(cases[0].shapeText == "M=64,N=2048,K=16")   // N keeps its default
        #expect(cases[0].flops == 2 * 64 * 2048 * 16)
        let configuration = try run.runConfiguration()
        #expect(configuration.devices == [.cpu])
        #expect(configuration.threads == [1, 2])
        #expect(configuration.warmup == 1 && configuration.repetitions == 4)
    }

    @Test("no arguments: the default suite on every device")
    func defaults() throws {
        let command = try TempoBench.parseAsRoot([])
        let run = try #require(command as? Run)
        #expect(try run.selectedCases().map(\.name) == Suite.default.cases.map(\.name))
        #expect(try run.runConfiguration().devices == Device.available)
        let quick = try #require(try TempoBench.parseAsRoot(["--suite", "quick"]) as? Run)
        #expect(try quick.selectedCases().count == Suite.quick.cases.count)
        #expect(try quick.runConfiguration().repetitions == Suite.quick.defaultRepetitions)
    }

    @Test("the stream suite times its cases in turn, and the report gives each step's saving over its recompute")
    func streamSuite() throws {
        let run = try #require(try TempoBench.parseAsRoot(["--suite", "stream", "--device", "cpu"]) as? Run)
        #expect(try run.runConfiguration().interleaved)
        #expect(try !(#require(try TempoBench.parseAsRoot(["--op", "tcn_step"]) as? Run)).runConfiguration().interleaved)
        let cases = try run.selectedCases()
        #expect(cases.map(\.op) == ["tcn_step", "tcn", "tcn_step", "tcn"])
        // Made-up times: the step 0.02 ms, the window's recompute 1.3 ms; another length, no line.
        let measurements = [
            Measurement(benchCase: cases[0], device: .cpu, threads: 2, times: [0.02], counters: DeviceCounters()),
            Measurement(benchCase: cases[1], device: .cpu, threads: 2, times: [1.3], counters: DeviceCounters()),
            Measurement(
                benchCase: Catalog.tcn(batch: 1, channels: 128, length: 60, kernelSize: 3, blocks: 4), device: .cpu,
                threads: 2, times: [1.0], counters: DeviceCounters()),
            Measurement(benchCase: cases[2], device: .cpu, threads: 2, times: [0.01], counters: DeviceCounters()),
        ]
        let lines = Report.streamingSavings(measurements)
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains("65.0x") == true, "\(lines)")
        #expect(lines.first?.contains("L = 61") == true, "\(lines)")
        // A short interleaved run: every case measured, each with its rounds' calls.
        let configuration = RunConfiguration(
            devices: [.cpu], threads: [1], warmup: 0, repetitions: 40, showProgress: false, interleaved: true)
        let small = [
            Catalog.tcnStep(batch: 2, channels: 8, kernelSize: 3, blocks: 2),
            Catalog.tcn(batch: 2, channels: 8, length: 13, kernelSize: 3, blocks: 2),  // 13: the receptive field
        ]
        let outcome = try Runner(configuration: configuration).run(small)
        #expect(outcome.measurements.map(\.benchCase.op) == ["tcn_step", "tcn"])
        #expect(outcome.measurements.allSatisfy { $0.times.count == 40 })
        #expect(Report.text(outcome).contains("Streaming TCN"))
    }

    @Test("flags in shapes: true/false and 1/0")
    func shapeValues() throws {
        let shape = try Catalog.parseShape("B=8,causal=true,S=512")
        #expect(shape == ["B": .int(8), "causal": .bool(true), "S": .int(512)])
        #expect(ShapeValue.bool(true).matches(true) && ShapeValue.bool(true).matches(1) && !ShapeValue.bool(true).matches(false))
        #expect(ShapeValue.int(3).matches(3) && ShapeValue.int(3).matches(3.0) && !ShapeValue.int(3).matches(4))
    }

    @Test("bad arguments are rejected with a reason")
    func rejects() throws {
        #expect(throws: (any Error).self) { try Run.parse(["--reps", "0"]) }
        #expect(throws: (any Error).self) { try Run.parse(["--warmup", "-1"]) }
        #expect(throws: (any Error).self) { try Run.parse(["--shape", "M=1"]) }
        #expect(throws: (any Error).self) { try Run.parse(["--threads", "2,x"]) }
        #expect(throws: (any Error).self) { try Run.parse(["--suite", "huge"]) }
        #expect(throws: BenchError.self) { try Run.parse(["--op", "nonsense"]).selectedCases() }
        #expect(throws: BenchError.self) { try Run.parse(["--op", "sgemm", "--shape", "Q=3"]).selectedCases() }
        #expect(throws: BenchError.self) { try Run.parse(["--op", "sgemm", "--shape", "M=0"]).selectedCases() }
        #expect(throws: BenchError.self) { try Run.parse(["--op", "sgemm", "--shape", "M"]).selectedCases() }
        #expect(throws: (any Error).self) { try Run.parse(["--device", "opencl:99"]).runConfiguration() }
    }
}

@Suite("tempo-bench output")
struct OutputTests {
    @Test("JSON lines parse back with the shape keys at top level")
    func jsonLines() throws {
        let outcome = try smallOutcome()
        let text = try ResultFiles.jsonLines(outcome, context: .init(machine: "test machine", date: "2026-01-01"))
        let records = try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(records.count == outcome.measurements.count)
        for (record, m) in zip(records, outcome.measurements) {
            #expect(record["op"] as? String == m.benchCase.op)
            #expect(record["device"] as? String == m.device.id)
            #expect(record["threads"] as? Int == m.threads)
            #expect(record["reps"] as? Int == 2)
            #expect((record["median_ms"] as? Double).map { abs($0 - m.median) < 1e-9 } == true)
            #expect(record["machine"] as? String == "test machine")
            for (key, value) in m.benchCase.shape { #expect(record[key] as? Int == value.intValue) }
            for key in ["min_ms", "max_ms", "flops", "gflops", "launches", "bytes_to_device", "bytes_to_host"] {
                #expect(record[key] != nil, "missing \(key)")
            }
        }
        // What tempo-bench writes, --compare reads.
        #expect(Comparison.load(text).count == records.count)
    }

    @Test("CSV parses back into the same rows and columns")
    func csv() throws {
        let outcome = try smallOutcome()
        let text = ResultFiles.csv(outcome, context: .init(machine: "a, \"quoted\" machine", date: "2026-01-01"))
        let rows = parseCSV(text)
        #expect(rows.first == ResultFiles.csvColumns)
        #expect(rows.count == outcome.measurements.count + 1)
        let column = { (name: String) in ResultFiles.csvColumns.firstIndex(of: name) ?? -1 }
        for (row, m) in zip(rows.dropFirst(), outcome.measurements) {
            #expect(row.count == ResultFiles.csvColumns.count)
            #expect(row[column("op")] == m.benchCase.op)
            #expect(row[column("shape")] == m.benchCase.shape.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            #expect(row[column("device")] == m.device.id)
            #expect(Double(row[column("median_ms")]).map { abs($0 - m.median) < 1e-9 } == true)
            #expect(row[column("machine")] == "a, \"quoted\" machine")
        }
    }

    @Test("the SVG chart is well-formed XML with one bar per case and device")
    func svg() throws {
        let outcome = try smallOutcome()
        let text = SVGChart.render(outcome, context: .init(machine: "test <machine> & co", date: "2026-01-01"))
        let counter = ElementCounter()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = counter
        #expect(parser.parse(), "XML error: \(String(describing: parser.parserError))")
        #expect(counter.bars == outcome.measurements.count)
        #expect(counter.texts.contains { $0.contains("test <machine> & co") })
        #expect(counter.texts.contains { $0.contains("sgemm M=8,N=8,K=8") })
    }

    @Test("the report prints the table, the verification and the FLOP formulas")
    func report() throws {
        let text = Report.text(try smallOutcome())
        #expect(text.contains("median ms") && text.contains("GFLOP/s") && text.contains("of SGEMM peak"))
        #expect(text.contains("2*M*N*K"))
        #expect(text.contains("Verification") && text.contains("ok "))
    }

    @Test("--compare matches peers' lines by op, shape keys and threads")
    func compare() throws {
        let outcome = try smallOutcome()
        let median = try #require(outcome.measurements.first { $0.benchCase.op == "sgemm" }).median
        let peers = """
            {"peer": "numpy", "impl": "matmul/openblas", "op": "sgemm", "M": 8, "N": 8, "K": 8, "threads": 1, "median_ms": \(median * 2), "min_ms": 1}
            {"peer": "numpy", "impl": "matmul/openblas", "op": "sgemm", "M": 8, "N": 8, "K": 9, "threads": 1, "median_ms": 7}
            {"peer": "numpy", "impl": "matmul/openblas", "op": "sgemm", "M": 8, "N": 8, "K": 8, "threads": 2, "median_ms": 5}
            {"peer": "onnxruntime", "impl": "Attention-23", "op": "attention", "B": 8, "heads": 8, "S": 512, "d": 64, "causal": true, "threads": 1, "median_ms": 28.1}
            not json
            """
        let entries = Comparison.load(peers)
        #expect(entries.count == 4)
        let sgemm = try #require(outcome.measurements.first { $0.benchCase.op == "sgemm" && $0.device == .cpu })
        #expect(Comparison.matches(for: sgemm, in: entries).count == 1)
        let table = Comparison.table(outcome, against: entries, source: "peers.jsonl")
        #expect(table.contains("numpy matmul/openblas"))
        #expect(table.contains("2.00x"))
        #expect(!table.contains("7.000"))   // K differs: not the same case
    }
}

@Suite("tempo-bench verification")
struct VerificationTests {
    /// A case whose output differs per prepared device: the second device gets ones, not zeros.
    static func plantedMismatch() -> BenchCase {
        let prepared = Atomic<Int>(0)
        return BenchCase(op: "planted", shape: [("N", .int(4))], flops: 0, bytes: 16, tolerance: (1e-3, 0)) { device in
            let (index, _) = prepared.add(1, ordering: .relaxed)
            let value: Float = index == 1 ? 0 : 1
            return { try Tensor(shape: [4], repeating: value, device: device) }
        }
    }

    @Test("a planted cross-device mismatch fails the run")
    func mismatchFails() throws {
        let configuration = RunConfiguration(devices: benchDevices, threads: [1], warmup: 0, repetitions: 1, showProgress: false)
        let outcome = try Runner(configuration: configuration).run([Self.plantedMismatch()])
        #expect(!outcome.passed)
        #expect(outcome.mismatches.first?.verification?.maxAbsolute == 1)
        let run = try Run.parse(["--quiet"])
        #expect(throws: ExitCode(1)) { try run.execute(cases: [Self.plantedMismatch()], configuration: configuration) }
    }

    @Test("matching outputs pass; NaN matches only NaN")
    func comparison() {
        let ok = Verification.compare([1, 2, .nan], to: [1, 2.0001, .nan], tolerance: (1e-3, 0), reference: .cpu)
        #expect(ok.passed)
        let nan = Verification.compare([1, .nan], to: [1, 2], tolerance: (1, 1), reference: .cpu)
        #expect(!nan.passed)
        let short = Verification.compare([1], to: [1, 2], tolerance: (1, 1), reference: .cpu)
        #expect(!short.passed)
    }
}

/// Counts the chart's bars and collects its text.
final class ElementCounter: NSObject, XMLParserDelegate {
    var bars = 0
    var texts: [String] = []
    private var current = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "rect", attributes["class"] == "bar" { bars += 1 }
        current = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        current += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" || name == "title" { texts.append(current) }
    }
}

/// RFC 4180 parsing: quoted cells may hold commas, doubled quotes and newlines.
func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = [], row: [String] = [], cell = ""
    var quoted = false
    var characters = Array(text).makeIterator()
    while let character = characters.next() {
        if quoted {
            if character == "\"" {
                if let next = characters.next() {
                    if next == "\"" { cell.append("\"") } else {
                        quoted = false
                        if next == "," { row.append(cell); cell = "" } else if next == "\n" { row.append(cell); rows.append(row); row = []; cell = "" }
                    }
                } else { quoted = false }
            } else { cell.append(character) }
        } else if character == "\"" { quoted = true }
        else if character == "," { row.append(cell); cell = "" }
        else if character == "\n" { row.append(cell); rows.append(row); row = []; cell = "" }
        else { cell.append(character) }
    }
    if !cell.isEmpty || !row.isEmpty { row.append(cell); rows.append(row) }
    return rows
}
