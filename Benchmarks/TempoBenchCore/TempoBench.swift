import ArgumentParser
import Foundation
import Tempo

/// `tempo-bench`: verify, then time, Tempo's kernels on every device.
public struct TempoBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tempo-bench",
        abstract: "Verify, then time, Tempo's kernels on every device.",
        discussion: """
            With no subcommand, runs the default suite on every device (the same as `tempo-bench run`).
            Every case runs once per device first and the outputs are compared; a mismatch beyond
            the op's tolerance fails the run (exit status 1) after the report is written.
            """,
        subcommands: [Run.self, Devices.self],
        defaultSubcommand: Run.self)

    public init() {}
}

/// `tempo-bench devices`: the devices, their properties and measured SGEMM peak.
public struct Devices: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "List the devices with their properties and measured SGEMM peak (1024^3, median of 5).")

    @Flag(help: "Skip the SGEMM measurement.")
    var noPeak = false

    public init() {}

    public func run() throws {
        var table = TextTable(["id", "name", "kind", "compute units", "memory GiB", "driver", "SGEMM GFLOP/s"])
        for device in Device.available {
            let peak = noPeak ? "" : String(format: "%.1f", try Runner.sgemmPeak(on: device))
            table.append([
                device.id, device.name, device.kind.rawValue, "\(device.computeUnits)",
                String(format: "%.1f", Double(device.memoryBytes) / 1_073_741_824), device.driverVersion, peak,
            ])
        }
        print(table.render())
        if let reason = Device.openCLUnavailableReason { print("\nOpenCL: \(reason)") }
    }
}

/// `tempo-bench run`: a suite, or one op at one shape.
public struct Run: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Run a suite (default: the default suite), or one op with --op and --shape.")

    @Option(help: "The suite: quick, default, full, or stream (a streaming TCN step against recomputing its window, timed in turn, round by round).")
    var suite: Suite = .default

    @Option(help: "Run this one op instead of a suite: \(Catalog.ops.map(\.name).joined(separator: ", ")).")
    var op: String?

    @Option(help: "Shape for --op in the peers' keys, e.g. M=1024,N=1024,K=1024 (unset keys keep the op's default).")
    var shape: String?

    @Option(help: "Devices, comma-separated: cpu, opencl, opencl:N. Default: every device.")
    var device: String?

    @Option(help: "CPU thread counts, comma-separated (e.g. 1,2). Default: every core.")
    var threads: String?

    @Option(help: "Untimed calls before timing (default: 3; 1 for the quick suite).")
    var warmup: Int?

    @Option(help: "Timed repetitions per case and device (default: 10; 5 for the quick suite).")
    var reps: Int?

    @Option(help: "Write one JSON object per case and device to this file.")
    var json: String?

    @Option(help: "Write the results as CSV to this file.")
    var csv: String?

    @Option(help: "Write a bar chart of GFLOP/s and GB/s per case and device to this SVG file.")
    var svg: String?

    @Option(help: "Set the results beside a previous run's or a peer's JSON lines (../shared/peers/peer_bench.py) and print the ratios.")
    var compare: String?

    @Flag(help: "No progress lines on standard error.")
    var quiet = false

    public init() {}

    public func validate() throws {
        if let warmup, warmup < 0 { throw ValidationError("--warmup must be at least 0, got \(warmup)") }
        if let reps, reps < 1 { throw ValidationError("--reps must be at least 1, got \(reps)") }
        if shape != nil, op == nil { throw ValidationError("--shape needs --op") }
        _ = try threadCounts()
    }

    /// The cases this command line selects.
    public func selectedCases() throws -> [BenchCase] {
        guard let op else { return suite.cases }
        return [try Catalog.benchCase(op: op, overrides: Catalog.parseShape(shape ?? ""))]
    }

    /// The run configuration this command line selects.
    public func runConfiguration() throws -> RunConfiguration {
        let devices = try device.map { try $0.split(separator: ",").map { try Device.named(String($0)) } } ?? Device.available
        let useDefaults = op == nil
        return RunConfiguration(
            devices: devices,
            threads: try threadCounts(),
            warmup: warmup ?? (useDefaults ? suite.defaultWarmup : 3),
            repetitions: reps ?? (useDefaults ? suite.defaultRepetitions : 10),
            showProgress: !quiet && isatty(STDERR_FILENO) == 1, interleaved: useDefaults && suite.interleaved)
    }

    func threadCounts() throws -> [Int] {
        guard let threads else { return [Device.cpuThreadCount] }
        return try threads.split(separator: ",").map { text in
            guard let count = Int(text), count >= 1 else {
                throw ValidationError("--threads expects positive integers separated by commas, got \"\(text)\"")
            }
            return count
        }
    }

    public func run() throws {
        do {
            try execute(cases: selectedCases(), configuration: runConfiguration())
        } catch let error as BenchError {
            throw ValidationError(error.description)
        }
    }

    /// Runs `cases`, prints the report, writes the requested files, and exits with status 1 if a
    /// device's output did not match.
    public func execute(cases: [BenchCase], configuration: RunConfiguration) throws {
        let outcome = try Runner(configuration: configuration).run(cases)
        let context = ResultFiles.Context.current
        print(Report.text(outcome))
        if let json { try ResultFiles.jsonLines(outcome, context: context).write(toFile: json, atomically: true, encoding: .utf8) }
        if let csv { try ResultFiles.csv(outcome, context: context).write(toFile: csv, atomically: true, encoding: .utf8) }
        if let svg { try SVGChart.render(outcome, context: context).write(toFile: svg, atomically: true, encoding: .utf8) }
        if let compare {
            let text = try String(contentsOfFile: compare, encoding: .utf8)
            print("\n" + Comparison.table(outcome, against: Comparison.load(text), source: compare))
        }
        if !outcome.passed {
            for m in outcome.mismatches {
                print("MISMATCH: \(m.benchCase.name) on \(m.device.id) differs from \(m.verification?.reference.id ?? "the reference") beyond its tolerance")
            }
            throw ExitCode(1)
        }
    }
}

extension Suite: ExpressibleByArgument {}
