import Synchronization

/// Work a device has been asked to do: kernel launches and bytes moved between host and device.
///
/// On OpenCL a launch is one enqueued kernel; on the CPU it is one backend op (one BLAS call or one
/// vectorised loop). Host<->device bytes are zero on the CPU, where host memory is device memory.
/// Tests and `tempo-bench` use these to show an op's structure, e.g. that a fused sequence op does
/// not round-trip through the host.
public struct DeviceCounters: Sendable, Hashable, CustomStringConvertible {
    public var launches = 0
    public var bytesToDevice = 0
    public var bytesToHost = 0
    /// Device buffers created (one per tensor, plus scratch such as GEMM's packed panels).
    public var buffersAllocated = 0
    /// Of those buffers, how many have been freed. Within ``Device/counting(_:)`` this counts only
    /// the buffers allocated inside the scope, so `allocated - released` is what the scope leaked
    /// or still holds.
    public var buffersReleased = 0

    public init(
        launches: Int = 0, bytesToDevice: Int = 0, bytesToHost: Int = 0, buffersAllocated: Int = 0,
        buffersReleased: Int = 0
    ) {
        self.launches = launches
        self.bytesToDevice = bytesToDevice
        self.bytesToHost = bytesToHost
        self.buffersAllocated = buffersAllocated
        self.buffersReleased = buffersReleased
    }

    public var description: String {
        "\(launches) launches, \(bytesToDevice) B to device, \(bytesToHost) B to host, "
            + "\(buffersAllocated) buffers allocated, \(buffersReleased) released"
    }
}

/// Thread-safe running totals for one device, plus the scopes opened by ``Device/counting(_:)``.
final class CounterRecorder: Sendable {
    private let launches = Atomic<Int>(0)
    private let bytesToDevice = Atomic<Int>(0)
    private let bytesToHost = Atomic<Int>(0)
    private let buffersAllocated = Atomic<Int>(0)
    private let buffersReleased = Atomic<Int>(0)
    let deviceID: String

    init(deviceID: String) {
        self.deviceID = deviceID
    }

    var totals: DeviceCounters {
        DeviceCounters(
            launches: launches.load(ordering: .relaxed),
            bytesToDevice: bytesToDevice.load(ordering: .relaxed),
            bytesToHost: bytesToHost.load(ordering: .relaxed),
            buffersAllocated: buffersAllocated.load(ordering: .relaxed),
            buffersReleased: buffersReleased.load(ordering: .relaxed))
    }

    /// Buffers alive now on this device.
    var liveBuffers: Int {
        buffersAllocated.load(ordering: .relaxed) - buffersReleased.load(ordering: .relaxed)
    }

    /// Records a new buffer and returns what its deinit must call: the release is credited to
    /// the scopes that were active at allocation, wherever and whenever the buffer dies.
    func recordAllocation() -> @Sendable () -> Void {
        buffersAllocated.add(1, ordering: .relaxed)
        let scopes = CounterScope.active.filter { $0.deviceID == deviceID }
        for scope in scopes { scope.buffersAllocated.add(1, ordering: .relaxed) }
        return { [self] in
            buffersReleased.add(1, ordering: .relaxed)
            for scope in scopes { scope.buffersReleased.add(1, ordering: .relaxed) }
        }
    }

    func recordLaunches(_ count: Int = 1) {
        launches.add(count, ordering: .relaxed)
        forEachScope { $0.launches.add(count, ordering: .relaxed) }
    }

    func recordToDevice(bytes: Int) {
        bytesToDevice.add(bytes, ordering: .relaxed)
        forEachScope { $0.bytesToDevice.add(bytes, ordering: .relaxed) }
    }

    func recordToHost(bytes: Int) {
        bytesToHost.add(bytes, ordering: .relaxed)
        forEachScope { $0.bytesToHost.add(bytes, ordering: .relaxed) }
    }

    private func forEachScope(_ body: (CounterScope) -> Void) {
        for scope in CounterScope.active where scope.deviceID == deviceID { body(scope) }
    }
}

/// Counts for one ``Device/counting(_:)`` call. Scopes are task-local, so tests that run
/// concurrently on the same device each see only their own work.
final class CounterScope: Sendable {
    @TaskLocal static var active: [CounterScope] = []

    let deviceID: String
    let launches = Atomic<Int>(0)
    let bytesToDevice = Atomic<Int>(0)
    let bytesToHost = Atomic<Int>(0)
    let buffersAllocated = Atomic<Int>(0)
    let buffersReleased = Atomic<Int>(0)

    init(deviceID: String) {
        self.deviceID = deviceID
    }

    var counters: DeviceCounters {
        DeviceCounters(
            launches: launches.load(ordering: .relaxed),
            bytesToDevice: bytesToDevice.load(ordering: .relaxed),
            bytesToHost: bytesToHost.load(ordering: .relaxed),
            buffersAllocated: buffersAllocated.load(ordering: .relaxed),
            buffersReleased: buffersReleased.load(ordering: .relaxed))
    }
}

extension Device {
    /// Everything counted on this device since the process started.
    public var counters: DeviceCounters {
        (try? backend())?.counters.totals ?? DeviceCounters()
    }

    /// Runs `body` and returns what it asked of this device: launches and host<->device bytes.
    ///
    /// Only work started from the calling task (synchronously, or by child tasks) is counted, so
    /// concurrent work elsewhere in the process does not leak into the figures.
    public func counting<Result>(_ body: () throws -> Result) rethrows -> (result: Result, counters: DeviceCounters) {
        let scope = CounterScope(deviceID: id)
        let result = try CounterScope.$active.withValue(CounterScope.active + [scope]) { try body() }
        return (result, scope.counters)
    }

    /// The `async` form of ``counting(_:)``.
    public func counting<Result>(
        _ body: () async throws -> Result
    ) async rethrows -> (result: Result, counters: DeviceCounters) {
        let scope = CounterScope(deviceID: id)
        let result = try await CounterScope.$active.withValue(CounterScope.active + [scope]) { try await body() }
        return (result, scope.counters)
    }
}

