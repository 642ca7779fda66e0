import Synchronization
import TempoCompute

/// A tensor a module owns under a `state_dict` key: a weight or a bias.
///
/// Parameters are references, so a module and whoever loads or moves it share them. The shape is
/// fixed when the parameter is made; loading and moving replace the value, never the shape.
public final class Parameter {
    /// The current value.
    public internal(set) var value: Tensor {
        didSet { Self.changes.add(1, ordering: .releasing) }
    }

    public init(_ value: Tensor) {
        self.value = value
        Self.changes.add(1, ordering: .releasing)
    }

    /// Counts every parameter made or given a new value, in any module: work derived from
    /// parameters and kept between calls (a TCN's prepared streaming steps) stays valid while this
    /// stays the same, one load instead of comparing every tensor per call.
    private static let changes = Atomic<Int>(0)

    /// The count of parameter changes so far (see `changes`).
    static var changeCount: Int { changes.load(ordering: .acquiring) }

    public var shape: [Int] { value.shape }
    public var device: Device { value.device }
}

extension Parameter: CustomStringConvertible {
    public var description: String { "Parameter(\(TempoError.format(shape)) on \(device.id))" }
}
