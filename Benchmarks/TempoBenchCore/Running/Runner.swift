import Foundation
import Tempo

/// What a run does, as the command line set it.
public struct RunConfiguration: Sendable {
    public var devices: [Device]
    /// CPU thread counts to time at (the OpenCL devices run once).
    public var threads: [Int]
    public var warmup: Int
    public var repetitions: Int
    /// Progress lines on standard error.
    public var showProgress: Bool
    /// Time the cases in turn on each device, a few calls of each per round (see
    /// ``Runner/interleavedRounds``), instead of one case's repetitions after another's.
    public var interleaved: Bool

    public init(
        devices: [Device], threads: [Int], warmup: Int, repetitions: Int, showProgress: Bool, interleaved: Bool = false
    ) {
        self.devices = devices
        self.threads = threads
        self.warmup = warmup
        self.repetitions = repetitions
        self.showProgress = showProgress
        self.interleaved = interleaved
    }
}

/// The outcome of a run: every measurement, and whether every cross-device check passed.
public struct RunOutcome: Sendable {
    public var measurements: [Measurement]
    public var mismatches: [Measurement] { measurements.filter { $0.verification?.passed == false } }
    public var passed: Bool { mismatches.isEmpty }
}

/// Verify, then time (as MIOpen's driver does): each case runs once on every device and the
/// outputs are compared with the first device's; then each device is timed after warm-up, with the
/// device synchronised around every repetition.
public struct Runner {
    public let configuration: RunConfiguration
    private let start = DispatchTime.now()

    public init(configuration: RunConfiguration) {
        self.configuration = configuration
    }

    public func run(_ cases: [BenchCase]) throws -> RunOutcome {
        WorkingMemory.fixAllocator()
        if configuration.interleaved { return try runInterleaved(cases) }
        var measurements: [Measurement] = []
        let steps = cases.count * configuration.devices.count
        var step = 0
        for benchCase in cases {
            let verifications = try verify(benchCase)
            for device in configuration.devices {
                step += 1
                let call = try benchCase.prepare(device)
                // Thread counts apply to the CPU only.
                for threads in device.runtime == .cpu ? configuration.threads : [device.computeUnits] {
                    if device.runtime == .cpu { try Device.setCPUThreadCount(threads) }
                    progress("[\(step)/\(steps)] \(benchCase.name) on \(device.id), \(threads) threads")
                    var measurement = try Self.time(
                        benchCase, on: device, threads: threads, call: call, warmup: configuration.warmup,
                        repetitions: configuration.repetitions)
                    measurement.verification = verifications[device]
                    measurements.append(measurement)
                }
            }
        }
        try attachPeaks(to: &measurements)
        progress("done: \(measurements.count) measurements")
        return RunOutcome(measurements: measurements)
    }

    /// Rounds of an interleaved run: each round times `repetitions / interleavedRounds` calls of
    /// each case in turn.
    static let interleavedRounds = 20

    /// ``run(_:)`` with the cases timed in turn, round by round, on each device and thread count,
    /// so that every case sees the machine's states alike.
    private func runInterleaved(_ cases: [BenchCase]) throws -> RunOutcome {
        let verifications = try cases.map(verify)
        var measurements: [Measurement] = []
        for device in configuration.devices {
            let calls = try cases.map { try $0.prepare(device) }
            for threads in device.runtime == .cpu ? configuration.threads : [device.computeUnits] {
                if device.runtime == .cpu { try Device.setCPUThreadCount(threads) }
                progress("\(cases.count) cases in turn on \(device.id), \(threads) threads")
                var counters: [DeviceCounters] = []
                for (benchCase, call) in zip(cases, calls) {
                    counters.append(try Self.warmUp(benchCase, on: device, call: call, warmup: configuration.warmup))
                }
                // Rounds of a few calls per case, not single calls: a call right after another
                // case's runs with that case's data in the caches (a TCN step after a recompute ran
                // 2-4x slower than back to back), so each case's calls in a round begin untimed.
                let perRound = max(configuration.repetitions / Self.interleavedRounds, 1)
                var times = [[Double]](repeating: [], count: cases.count)
                for _ in 0..<Self.interleavedRounds {
                    for index in cases.indices {
                        for _ in 0..<max(perRound / 2, 1) {
                            _ = try calls[index]()
                            try device.synchronize()
                        }
                        for _ in 0..<perRound {
                            times[index].append(try Self.timeOnce(cases[index], on: device, call: calls[index]))
                        }
                    }
                }
                for index in cases.indices {
                    var measurement = Measurement(
                        benchCase: cases[index], device: device, threads: threads, times: times[index], counters: counters[index])
                    measurement.workingMemoryBytes = try WorkingMemory.measure(on: device, calls[index])
                    measurement.verification = verifications[index][device]
                    measurements.append(measurement)
                }
            }
        }
        try attachPeaks(to: &measurements)
        progress("done: \(measurements.count) measurements")
        return RunOutcome(measurements: measurements)
    }

    /// Runs the case once per device and compares each output with the first device's.
    func verify(_ benchCase: BenchCase) throws -> [Device: Verification] {
        guard configuration.devices.count > 1, let referenceDevice = configuration.devices.first else { return [:] }
        progress("verifying \(benchCase.name) on \(configuration.devices.map(\.id).joined(separator: ", "))")
        let expected = try benchCase.prepare(referenceDevice)().values
        var verifications: [Device: Verification] = [:]
        for device in configuration.devices.dropFirst() {
            let values = try benchCase.prepare(device)().values
            verifications[device] = Verification.compare(
                values, to: expected, tolerance: benchCase.tolerance, reference: referenceDevice)
        }
        return verifications
    }

    /// Seconds of warm-up calls, at the least, before a case is timed.
    static let minimumWarmup = 0.1

    /// Warm-up calls, one counted call, then `repetitions` timed calls.
    static func time(
        _ benchCase: BenchCase, on device: Device, threads: Int, call: @Sendable () throws -> Tensor, warmup: Int,
        repetitions: Int
    ) throws -> Measurement {
        let counters = try warmUp(benchCase, on: device, call: call, warmup: warmup)
        var times: [Double] = []
        for _ in 0..<max(repetitions, 1) {
            times.append(try timeOnce(benchCase, on: device, call: call))
        }
        var measurement = Measurement(benchCase: benchCase, device: device, threads: threads, times: times, counters: counters)
        // After the timed calls: it empties the device's cache of freed blocks.
        measurement.workingMemoryBytes = try WorkingMemory.measure(on: device, call)
        return measurement
    }

    /// Warm-up calls, then one counted call; returns its counters.
    static func warmUp(
        _ benchCase: BenchCase, on device: Device, call: @Sendable () throws -> Tensor, warmup: Int
    ) throws -> DeviceCounters {
        // OpenBLAS's workers spin for ~0.1 s after a call; on a small machine they would take a
        // core from the next device's threads (PoCL's, for one). Let them park first.
        Thread.sleep(forTimeInterval: 0.25)
        // At least `warmup` calls and at least `minimumWarmup` seconds: after another device's
        // work (PoCL's threads) a CPU case at batch 1 ran 5-10 ms spikes for its first ~25 ms of
        // calls, which 3 calls of 1 ms did not cover.
        let warmupEnd = DispatchTime.now().uptimeNanoseconds + UInt64(minimumWarmup * 1e9)
        var warmed = 0
        while warmed < warmup || DispatchTime.now().uptimeNanoseconds < warmupEnd {
            _ = try call()
            try device.synchronize()
            warmed += 1
        }
        let (_, counters) = try device.counting {
            _ = try call()
            try device.synchronize()
        }
        return counters
    }

    /// One timed call, in milliseconds, the device synchronised before and after.
    static func timeOnce(_ benchCase: BenchCase, on device: Device, call: @Sendable () throws -> Tensor) throws -> Double {
        try device.synchronize()
        if benchCase.idleMilliseconds > 0 { Thread.sleep(forTimeInterval: benchCase.idleMilliseconds / 1000) }
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try call()
        try device.synchronize()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }

    /// Fills in each measurement's SGEMM peak: the best large `sgemm` of the run (every dimension
    /// at least 1024, where GEMM reaches its roofline) on that device and thread count, or, when
    /// the run has none, a short 1024^3 probe.
    private func attachPeaks(to measurements: inout [Measurement]) throws {
        struct Key: Hashable { let device: Device; let threads: Int }
        var peaks: [Key: Double] = [:]
        let large = { (m: Measurement) in m.benchCase.shape.allSatisfy { $0.value.intValue >= 1024 } }
        for m in measurements where m.benchCase.op == "sgemm" && large(m) {
            peaks[Key(device: m.device, threads: m.threads), default: 0] = max(peaks[Key(device: m.device, threads: m.threads)] ?? 0, m.gflops)
        }
        for index in measurements.indices where measurements[index].benchCase.flops > 0 {
            let m = measurements[index]
            let key = Key(device: m.device, threads: m.threads)
            if peaks[key] == nil {
                progress("measuring the SGEMM peak of \(m.device.id) (\(m.threads) threads)")
                if m.device.runtime == .cpu { try Device.setCPUThreadCount(m.threads) }
                peaks[key] = try Self.sgemmPeak(on: m.device)
            }
            measurements[index].sgemmPeak = peaks[key]
        }
    }

    /// SGEMM GFLOP/s at 1024^3 (median of 5): the device's practical compute roofline.
    public static func sgemmPeak(on device: Device) throws -> Double {
        let probe = Catalog.sgemm(m: 1024, n: 1024, k: 1024)
        let measurement = try time(
            probe, on: device, threads: device.computeUnits, call: probe.prepare(device), warmup: 2, repetitions: 5)
        return measurement.gflops
    }

    private func progress(_ message: String) {
        guard configuration.showProgress else { return }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        FileHandle.standardError.write(Data((String(format: "%7.1f s  ", elapsed) + message + "\n").utf8))
    }
}
