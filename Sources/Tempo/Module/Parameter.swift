/// A tensor a module owns under a `state_dict` key: a weight or a bias.
///
/// Parameters are references, so a module and whoever loads or moves it share them. The shape is
/// fixed when the parameter is made; loading and moving replace the value, never the shape.
public final class Parameter {
    /// The current value.
    public internal(set) var value: Tensor

    public init(_ value: Tensor) {
        self.value = value
    }

    public var shape: [Int] { value.shape }
    public var device: Device { value.device }
}

extension Parameter: CustomStringConvertible {
    public var description: String { "Parameter(\(TempoError.format(shape)) on \(device.id))" }
}
