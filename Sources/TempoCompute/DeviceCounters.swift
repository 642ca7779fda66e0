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

/// The five tallies of ``DeviceCounters``, atomically: a device's totals and each counting scope.
final class AtomicCounts: Sendable {
    enum Tally { case launches, bytesToDevice, bytesToHost, buffersAllocated, buffersReleased }

    private let launches = Atomic<Int>(0)
    private let bytesToDevice = Atomic<Int>(0)
    private let bytesToHost = Atomic<Int>(0)
    private let buffersAllocated = Atomic<Int>(0)
    private let buffersReleased = Atomic<Int>(0)

    func add(_ amount: Int, to tally: Tally) {
        switch tally {
        case .launches: launches.add(amount, ordering: .relaxed)
        case .bytesToDevice: bytesToDevice.add(amount, ordering: .relaxed)
        case .bytesToHost: bytesToHost.add(amount, ordering: .relaxed)
        case .buffersAllocated: buffersAllocated.add(amount, ordering: .relaxed)
        case .buffersReleased: buffersReleased.add(amount, ordering: .relaxed)
        }
    }

    var snapshot: DeviceCounters {
        DeviceCounters(
            launches: launches.load(ordering: .relaxed),
            bytesToDevice: bytesToDevice.load(ordering: .relaxed),
            bytesToHost: bytesToHost.load(ordering: .relaxed),
            buffersAllocated: buffersAllocated.load(ordering: .relaxed),
            buffersReleased: buffersReleased.load(ordering: .relaxed))
    }
}

/// Thread-safe running totals for one device, plus the scopes opened by ``Device/counting(_:)``.
final class CounterRecorder: Sendable {
    private let counts = AtomicCounts()
    let deviceID: String

    init(deviceID: String) {
        self.deviceID = deviceID
    }

    var totals: DeviceCounters { counts.snapshot }

    /// Buffers alive now on this device.
    var liveBuffers: Int {
        let totals = counts.snapshot
        return totals.buffersAllocated - totals.buffersReleased
    }

    /// Records a new buffer and returns what its deinit must call: the release is credited to
    /// the scopes that were active at allocation, wherever and whenever the buffer dies.
    func recordAllocation() -> @Sendable () -> Void {
        let scopes = activeScopes
        record(1, to: .buffersAllocated, scopes: scopes)
        return { [self] in record(1, to: .buffersReleased, scopes: scopes) }
    }

    func recordLaunches(_ count: Int = 1) {
        record(count, to: .launches, scopes: activeScopes)
    }

    func recordToDevice(bytes: Int) {
        record(bytes, to: .bytesToDevice, scopes: activeScopes)
    }

    func recordToHost(bytes: Int) {
        record(bytes, to: .bytesToHost, scopes: activeScopes)
    }

    private var activeScopes: [CounterScope] {
        CounterScope.active.filter { $0.deviceID == deviceID }
    }

    private func record(_ amount: Int, to tally: AtomicCounts.Tally, scopes: [CounterScope]) {
        counts.add(amount, to: tally)
        for scope in scopes { scope.counts.add(amount, to: tally) }
    }
}

/// Counts for one ``Device/counting(_:)`` call. Scopes are task-local, so tests that run
/// concurrently on the same device each see only their own work.
final class CounterScope: Sendable {
    @TaskLocal static var active: [CounterScope] = []

    let deviceID: String
    let counts = AtomicCounts()

    init(deviceID: String) {
        self.deviceID = deviceID
    }

    var counters: DeviceCounters { counts.snapshot }
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

