import Foundation
import Tempo

/// The result of timing one case on one device.
struct Measurement {
    let benchCase: BenchCase
    let device: Device
    let threads: Int
    /// Wall-clock milliseconds per repetition, device synchronised before and after each.
    let times: [Double]
    /// Launches and host<->device bytes of one call.
    let counters: DeviceCounters

    var medianMilliseconds: Double {
        let sorted = times.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
    var minimumMilliseconds: Double { times.min() ?? 0 }
    var maximumMilliseconds: Double { times.max() ?? 0 }
    var gflops: Double { benchCase.flops / (medianMilliseconds * 1e6) }
    var gigabytesPerSecond: Double { benchCase.bytes / (medianMilliseconds * 1e6) }
}

enum Timer {
    /// Runs `call` `warmup` times untimed, then `repetitions` times, each timed between two
    /// device synchronisations so that queued work is inside the measurement and nothing else is.
    static func measure(
        _ benchCase: BenchCase, on device: Device, call: @Sendable () throws -> Tensor, warmup: Int, repetitions: Int
    ) throws -> Measurement {
        // OpenBLAS's workers spin for ~0.1 s after a call; on a small machine they would take a
        // core from the next device's threads (PoCL's, for one). Let them park first.
        Thread.sleep(forTimeInterval: 0.25)
        for _ in 0..<warmup { _ = try call() }
        try device.synchronize()
        let (_, counters) = try device.counting {
            _ = try call()
            try device.synchronize()
        }
        var times: [Double] = []
        for _ in 0..<repetitions {
            try device.synchronize()
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try call()
            try device.synchronize()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return Measurement(
            benchCase: benchCase, device: device, threads: Device.cpuThreadCount, times: times, counters: counters)
    }
}

/// Cross-device verification: the first device's output is the reference for the others.
struct Verification {
    let benchCase: BenchCase
    let device: Device
    let reference: Device
    let maxAbsolute: Float
    let maxRelative: Float
    let passed: Bool

    static func compare(_ values: [Float], to expected: [Float], case benchCase: BenchCase, device: Device, reference: Device) -> Verification {
        var maxAbsolute: Float = 0, maxRelative: Float = 0
        var passed = values.count == expected.count
        for (actual, wanted) in zip(values, expected) {
            let difference = abs(actual - wanted)
            if !(difference <= benchCase.tolerance.absolute + benchCase.tolerance.relative * abs(wanted)) { passed = false }
            if difference.isNaN { maxAbsolute = .nan; continue }
            maxAbsolute = max(maxAbsolute, difference)
            if wanted != 0 { maxRelative = max(maxRelative, difference / abs(wanted)) }
        }
        return Verification(
            benchCase: benchCase, device: device, reference: reference, maxAbsolute: maxAbsolute, maxRelative: maxRelative,
            passed: passed)
    }
}
