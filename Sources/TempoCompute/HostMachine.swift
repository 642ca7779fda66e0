import CBLAS
import Foundation

/// Facts about the host, read once: the processor's name for `Device.cpu` and OpenBLAS's build.
enum HostMachine {
    static let processorName: String = cpuInfoField("model name") ?? "host CPU"
    static let processorVendor: String = cpuInfoField("vendor_id") ?? "unknown"

    /// OpenBLAS's own description, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64`,
    /// read after ``OpenBLASCore`` has settled the core.
    static let openBLASConfiguration: String = {
        _ = OpenBLASCore.name
        guard let configuration = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: configuration).trimmingCharacters(in: .whitespaces)
    }()

    /// The value of the first `field : value` line of /proc/cpuinfo (`model name`, `flags`, ...).
    static func cpuInfoField(_ field: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
