import Foundation
import Tempo

/// The timing of one case on one device at one thread count.
public struct Measurement: Sendable {
    public let benchCase: BenchCase
    public let device: Device
    /// CPU threads for the CPU device; the device's compute units for an OpenCL device (PoCL
    /// runs one thread per compute unit; Tempo's thread setting does not apply to it).
    public let threads: Int
    /// Wall-clock milliseconds per repetition, the device synchronised before and after each.
    public let times: [Double]
    /// Launches and host<->device bytes of one call.
    public let counters: DeviceCounters
    /// This device's output against the reference device's, when there is another device.
    public var verification: Verification?
    /// The device's SGEMM GFLOP/s measured in the same run, for the fraction-of-peak column.
    public var sgemmPeak: Double?
    /// Peak resident memory of one call above the memory before it, output included (see
    /// ``WorkingMemory``); nil where it cannot be measured.
    public var workingMemoryBytes: Int?

    public var median: Double { Statistics.median(times) }
    public var minimum: Double { times.min() ?? 0 }
    public var maximum: Double { times.max() ?? 0 }
    public var gflops: Double { benchCase.flops / (median * 1e6) }
    public var gigabytesPerSecond: Double { benchCase.bytes / (median * 1e6) }
    public var peakFraction: Double? {
        guard benchCase.flops > 0, let sgemmPeak, sgemmPeak > 0 else { return nil }
        return gflops / sgemmPeak
    }
}

enum Statistics {
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// One device's output compared with the reference device's (the first selected).
public struct Verification: Sendable {
    public let reference: Device
    public let maxAbsolute: Float
    public let maxRelative: Float
    public let passed: Bool

    /// Compares element by element with the case's tolerance; NaN matches only NaN.
    public static func compare(
        _ values: [Float], to expected: [Float], tolerance: (absolute: Float, relative: Float), reference: Device
    ) -> Verification {
        var maxAbsolute: Float = 0, maxRelative: Float = 0
        var passed = values.count == expected.count
        for (actual, wanted) in zip(values, expected) {
            if actual.isNaN || wanted.isNaN {
                if actual.isNaN != wanted.isNaN { passed = false; maxAbsolute = .infinity }
                continue
            }
            let difference = abs(actual - wanted)
            if !(difference <= tolerance.absolute + tolerance.relative * abs(wanted)) { passed = false }
            maxAbsolute = max(maxAbsolute, difference)
            if wanted != 0 { maxRelative = max(maxRelative, difference / abs(wanted)) }
        }
        return Verification(reference: reference, maxAbsolute: maxAbsolute, maxRelative: maxRelative, passed: passed)
    }
}
