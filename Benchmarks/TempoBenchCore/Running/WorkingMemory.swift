import Foundation
import Tempo

#if canImport(Glibc)
import Glibc
#endif

/// The memory one call needs while it runs: the peak resident set during the call minus the
/// resident set before it (Linux `/proc/self/status`: VmHWM after resetting it through
/// `/proc/self/clear_refs`, and VmRSS). The device's cache of freed blocks is emptied first, so
/// the call's scratch and output are fresh pages that count, not reused ones that hide.
///
/// glibc would otherwise serve a large block from memory it kept resident after an earlier free
/// (its mmap threshold grows with every large free), and a call's fresh memory would not show;
/// ``fixAllocator()``, called before a run allocates anything, sets the threshold to a fixed
/// 128 KiB, so large blocks are mapped when allocated and unmapped when freed.
///
/// Whole-process figures: other threads' allocations during the call count too (tempo-bench
/// runs nothing else meanwhile). nil where the files are not there (not Linux) or the peak
/// cannot be reset.
enum WorkingMemory {
    static func measure(on device: Device, _ call: () throws -> Tensor) throws -> Int? {
        device.releaseCachedMemory()
        guard resetPeak(), let before = statusField("VmRSS") else { return nil }
        let result = try call()
        try device.synchronize()
        guard let peak = statusField("VmHWM") else { return nil }
        withExtendedLifetime(result) {}
        return max(peak - before, 0)
    }

    /// `mallopt(M_MMAP_THRESHOLD, 128 KiB)`, found at run time: Swift's Glibc module does not
    /// export <malloc.h>.
    static func fixAllocator() {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(mmapThreshold, 128 << 10)
        #endif
    }

    /// Writing 5 to clear_refs sets VmHWM back to the current resident set (Linux 4.0 on).
    private static func resetPeak() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("5".utf8))) != nil
    }

    /// A `kB` field of /proc/self/status, in bytes.
    private static func statusField(_ name: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            // "VmRSS:\t  123456 kB"
            let kilobytes = line.dropFirst(name.count + 1).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }
}
