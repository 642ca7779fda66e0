import Synchronization

/// Weights rearranged for a kernel (packed panels, transposed copies), kept across calls.
///
/// Keys are the identities of the source buffers plus a variant string for the layout. That is
/// sound because a buffer's contents never change after the op that made it returns (every op
/// writes a fresh output, and parameters are replaced, not written), and because each entry holds
/// its sources, so an identity cannot be reused by a new buffer while its entry lives. A
/// recurrent layer called many times (a benchmark, a stream of `step` calls) thus packs its
/// weights once, as cuDNN-backed frameworks keep their flattened weights.
final class PreparedWeightCache<Prepared: AnyObject & Sendable>: Sendable {
    private struct Entry: Sendable {
        let sources: [any DeviceBuffer]
        /// The sources' identities, computed once: a lookup runs on every call of a streaming step.
        let identities: [ObjectIdentifier]
        let variant: String
        let prepared: Prepared
        let bytes: Int
        var lastUse: UInt64
    }

    private struct State: Sendable {
        var entries: [Entry] = []
        var clock: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Entries kept; the least recently used goes first.
    private let capacity: Int

    init(capacity: Int = 16) {
        self.capacity = capacity
    }

    /// The prepared form of `sources` in layout `variant`, made by `make` on a miss. `make` runs
    /// outside the lock, so two threads may both prepare the same weights once; one result is kept.
    func prepared(for sources: [any DeviceBuffer], variant: String, bytes: Int, make: () throws -> Prepared) rethrows -> Prepared {
        let identities = sources.map { ObjectIdentifier($0) }
        if let hit = state.withLock({ Self.use(&$0, identities, variant) }) { return hit }
        let made = try make()
        return state.withLock { state in
            if let raced = Self.use(&state, identities, variant) { return raced }
            if state.entries.count >= capacity,
               let oldest = state.entries.indices.min(by: { state.entries[$0].lastUse < state.entries[$1].lastUse }) {
                state.entries.remove(at: oldest)
            }
            state.clock += 1
            state.entries.append(
                Entry(sources: sources, identities: identities, variant: variant, prepared: made, bytes: bytes, lastUse: state.clock))
            return made
        }
    }

    /// The entry for these sources and variant, marked as just used.
    private static func use(_ state: inout State, _ identities: [ObjectIdentifier], _ variant: String) -> Prepared? {
        guard let index = state.entries.firstIndex(where: {
            $0.identities == identities && $0.variant == variant
        }) else { return nil }
        state.clock += 1
        state.entries[index].lastUse = state.clock
        return state.entries[index].prepared
    }

    /// Bytes held by the prepared forms.
    var bytes: Int { state.withLock { $0.entries.reduce(0) { $0 + $1.bytes } } }

    func removeAll() { state.withLock { $0.entries.removeAll() } }
}
