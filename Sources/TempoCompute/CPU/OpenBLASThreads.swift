import Foundation

/// Shortens how long OpenBLAS's idle worker threads spin.
///
/// After each threaded call, OpenBLAS 0.3's workers busy-wait (calling `sched_yield`) for 2^28
/// cycles, about 0.1 s, before they sleep. On a machine with as many threads as cores, that takes
/// the cores from the next op: measured here, a GRU at batch 1 right after a GEMM ran 1.3 ms
/// instead of 0.74, its thread team waiting at every step for a core a spinning worker held.
/// Unless the user has set `OPENBLAS_THREAD_TIMEOUT`, Tempo sets it to 2^18 cycles (~0.1 ms,
/// still enough to bridge back-to-back BLAS calls), has OpenBLAS re-read its environment and
/// stops its thread pool, which the next threaded call starts again with the new timeout. Builds
/// that do not export those functions are left as they are.
enum OpenBLASThreads {
    /// log2 of the cycles an idle worker spins (OpenBLAS accepts 4...30; its default is 28).
    static let spinCyclesLog2 = 18

    static func limitSpinning() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] == nil,
              let handle = dlopen(nil, RTLD_NOW),
              let readEnvironment = dlsym(handle, "openblas_read_env"),
              let shutdown = dlsym(handle, "blas_thread_shutdown_")
        else { return }
        typealias VoidFunction = @convention(c) () -> Void
        typealias StatusFunction = @convention(c) () -> Int32
        setenv("OPENBLAS_THREAD_TIMEOUT", String(spinCyclesLog2), 0)
        unsafeBitCast(readEnvironment, to: VoidFunction.self)()
        _ = unsafeBitCast(shutdown, to: StatusFunction.self)()
    }
}
