import Synchronization
import TempoCompute

/// Where layers draw their initial weights from: one seeded generator, so a program that builds the
/// same layers in the same order gets the same weights on every run and device.
///
/// ```swift
/// Random.seed(42)                                  // like torch.manual_seed(42)
/// let layer = try Linear(inputSize: 4, outputSize: 3)
///
/// let model = try Random.withSeed(7) {             // a private stream for this block and its
///     try Linear(inputSize: 4, outputSize: 3)      // child tasks: concurrent code does not
/// }                                                // interleave with it
/// ```
/// The process-wide stream starts from seed 0.
public enum Random {
    /// A generator shared by the code that uses it; draws are serialised.
    final class Stream: Sendable {
        private let generator: Mutex<SeededGenerator>

        init(seed: UInt64) {
            generator = Mutex(SeededGenerator(seed: seed))
        }

        func reseed(_ seed: UInt64) {
            generator.withLock { $0 = SeededGenerator(seed: seed) }
        }

        func draw<Result>(_ body: (inout SeededGenerator) throws -> Result) rethrows -> Result {
            try generator.withLock { try body(&$0) }
        }
    }

    private static let global = Stream(seed: 0)
    @TaskLocal private static var scoped: Stream?

    /// Restarts the process-wide stream from `seed`.
    public static func seed(_ seed: UInt64) {
        global.reseed(seed)
    }

    /// Runs `body` with its own stream started from `seed` (inherited by child tasks).
    public static func withSeed<Result>(_ seed: UInt64, _ body: () throws -> Result) rethrows -> Result {
        try $scoped.withValue(Stream(seed: seed), operation: body)
    }

    /// The `async` form of ``withSeed(_:_:)``.
    public static func withSeed<Result>(_ seed: UInt64, _ body: () async throws -> Result) async rethrows -> Result {
        try await $scoped.withValue(Stream(seed: seed), operation: body)
    }

    /// Draws from the current stream: the task's own when inside ``withSeed(_:_:)``, else the
    /// process-wide one.
    static func draw<Result>(_ body: (inout SeededGenerator) throws -> Result) rethrows -> Result {
        try (scoped ?? global).draw(body)
    }
}
