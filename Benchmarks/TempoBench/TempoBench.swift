import ArgumentParser
import Foundation
import Tempo

@main
struct TempoBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tempo-bench",
        abstract: "Verify, then time, Tempo's kernels on every device.",
        subcommands: [Run.self, Devices.self],
        defaultSubcommand: Run.self)
}

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the devices Tempo can use.")

    func run() throws {
        for device in Device.available {
            print(device)
            print("    runtime \(device.runtime.rawValue), driver \(device.driverVersion)")
        }
        if let reason = Device.openCLUnavailableReason { print("OpenCL: \(reason)") }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the default suite, or one op (--op, --shape).")

    @Option(help: "One op to run instead of the default suite: sgemm, add, tanh, gelu, softmax, layer_norm, transpose.")
    var op: String?

    @Option(help: "Shape keys for --op, e.g. M=1024,N=1024,K=1024.")
    var shape: String?

    @Option(help: "Devices, comma-separated (cpu, opencl, opencl:N); default: all.")
    var device: String?

    @Option(help: "CPU threads for OpenBLAS and Tempo's loops; default: all cores.")
    var threads: Int?

    @Option(help: "Untimed calls before timing.")
    var warmup = 3

    @Option(help: "Timed repetitions per case and device.")
    var reps = 10

    @Option(help: "Also write one JSON object per case and device to this file.")
    var json: String?

    func run() throws {
        if let threads { try Device.setCPUThreadCount(threads) }
        let devices = try device.map { try $0.split(separator: ",").map { try Device.named(String($0)) } } ?? Device.available
        let cases = try selectedCases()

        var measurements: [Measurement] = []
        var failures: [Verification] = []
        for benchCase in cases {
            // Verify: run once per device and compare with the first device's output.
            var calls: [(Device, @Sendable () throws -> Tensor)] = []
            var reference: (Device, [Float])?
            for device in devices {
                let call = try benchCase.prepare(device)
                calls.append((device, call))
                let values = try call().values
                if let (referenceDevice, expected) = reference {
                    let check = Verification.compare(values, to: expected, case: benchCase, device: device, reference: referenceDevice)
                    let status = check.passed ? "ok" : "MISMATCH"
                    FileHandle.standardError.write(Data(
                        "verify \(benchCase.op) \(benchCase.shapeText) \(device.id) vs \(referenceDevice.id): max abs \(check.maxAbsolute), max rel \(check.maxRelative) \(status)\n".utf8))
                    if !check.passed { failures.append(check) }
                } else {
                    reference = (device, values)
                }
            }
            // Time.
            for (device, call) in calls {
                measurements.append(try Timer.measure(benchCase, on: device, call: call, warmup: warmup, repetitions: reps))
            }
        }

        var peak: [Device: Double] = [:]
        for m in measurements where m.benchCase.op == "sgemm" { peak[m.device] = max(peak[m.device] ?? 0, m.gflops) }
        print(Report.table(measurements, sgemmPeak: peak))
        if let json {
            let text = measurements.map(Report.jsonLine).joined(separator: "\n") + "\n"
            try text.write(toFile: json, atomically: true, encoding: .utf8)
        }
        if !failures.isEmpty {
            for failure in failures {
                print("MISMATCH: \(failure.benchCase.op) \(failure.benchCase.shapeText) on \(failure.device.id) differs from \(failure.reference.id) beyond abs \(failure.benchCase.tolerance.absolute) + rel \(failure.benchCase.tolerance.relative)")
            }
            throw ExitCode(1)
        }
    }

    private func selectedCases() throws -> [BenchCase] {
        guard let op else { return Cases.defaultSuite }
        var keys: [String: Int] = [:]
        for pair in (shape ?? "").split(separator: ",") {
            let parts = pair.split(separator: "=")
            guard parts.count == 2, let value = Int(parts[1]), value > 0 else {
                throw ValidationError("--shape expects KEY=positive integer pairs separated by commas, got \"\(pair)\"")
            }
            keys[String(parts[0])] = value
        }
        guard let benchCase = Cases.named(op, shape: keys) else {
            throw ValidationError("unknown op \"\(op)\"; known: sgemm, add, tanh, gelu, softmax, layer_norm, transpose")
        }
        return [benchCase]
    }
}
