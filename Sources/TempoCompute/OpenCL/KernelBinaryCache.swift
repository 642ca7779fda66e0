import Foundation

/// Program binaries on disk, so that a process does not pay the driver's compile (~0.5 s per
/// program on PoCL, more on some GPU drivers) for a program an earlier process already built.
///
/// Directory: `TEMPO_KERNEL_CACHE` when set (`off` disables the cache), else
/// `$XDG_CACHE_HOME/tempo/kernels`, else `~/.cache/tempo/kernels`. An entry is keyed by everything
/// that changes the binary: device name, driver and platform version, build options and the source
/// text. The file name is one 64-bit hash of that key and the file starts with a second,
/// independent hash, so a collision or a stale or damaged file is detected and rebuilt, never used.
/// Writing is best effort: a read-only or full disk only costs the compile next time.
struct KernelBinaryCache: Sendable {
    let directory: URL

    /// The cache configured by the environment, or `nil` when disabled.
    static var fromEnvironment: KernelBinaryCache? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["TEMPO_KERNEL_CACHE"], !path.isEmpty {
            if path == "off" || path == "0" { return nil }
            return KernelBinaryCache(directory: URL(fileURLWithPath: path))
        }
        let base = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appending(path: ".cache")
        return KernelBinaryCache(directory: base.appending(path: "tempo/kernels"))
    }

    /// What identifies one binary.
    struct Key {
        let deviceName: String
        let driverVersion: String
        let platformVersion: String
        let options: String
        let source: String

        fileprivate var material: [UInt8] {
            Array([deviceName, driverVersion, platformVersion, options, source].joined(separator: "\u{0}").utf8)
        }
    }

    private static let magic = Array("TEMPOCL1".utf8)

    func url(for key: Key) -> URL {
        let name = String(Self.fnv1a(key.material, basis: 0xcbf2_9ce4_8422_2325), radix: 16)
        return directory.appending(path: "\(name).bin")
    }

    /// The cached binary for `key`, if a valid one exists.
    func binary(for key: Key) -> [UInt8]? {
        guard let data = try? Data(contentsOf: url(for: key)) else { return nil }
        let bytes = [UInt8](data)
        let headerLength = Self.magic.count + 8
        guard bytes.count > headerLength, Array(bytes[0..<Self.magic.count]) == Self.magic else { return nil }
        let stored = bytes[Self.magic.count..<headerLength].enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        }
        guard stored == Self.check(key) else { return nil }
        return Array(bytes[headerLength...])
    }

    /// Stores `binary` for `key`, atomically (write to a temporary file, then rename).
    func store(_ binary: [UInt8], for key: Key) {
        let check = Self.check(key)
        var bytes = Self.magic
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: check >> (8 * UInt64($0))) }
        bytes += binary
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(bytes).write(to: url(for: key), options: .atomic)
        } catch {
            // Best effort by design: see the type's documentation.
        }
    }

    func remove(for key: Key) {
        try? FileManager.default.removeItem(at: url(for: key))
    }

    /// The verification hash, independent of the file-name hash (different offset basis and the
    /// material reversed).
    private static func check(_ key: Key) -> UInt64 {
        fnv1a(key.material.reversed(), basis: 0x8422_2325_cbf2_9ce4)
    }

    private static func fnv1a<Bytes: Sequence<UInt8>>(_ bytes: Bytes, basis: UInt64) -> UInt64 {
        var hash = basis
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
