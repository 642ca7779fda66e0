/// Layers applied in order, as PyTorch's `nn.Sequential`; their parameters are keyed by position
/// (`0.weight`, `2.bias`, ...), so a PyTorch `Sequential`'s state_dict loads unchanged.
public final class Sequential: Module, UnaryLayer {
    public private(set) var layers: [any UnaryLayer]

    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers
    }

    public convenience init(_ layers: any UnaryLayer...) {
        self.init(layers)
    }

    override public var members: [(key: String, member: ModuleMember)] {
        layers.enumerated().map { ("\($0.offset)", .module($0.element)) }
    }

    /// Adds `layer` at the end.
    public func append(_ layer: any UnaryLayer) {
        layers.append(layer)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try layers.reduce(x) { try $1($0) }
    }
}
