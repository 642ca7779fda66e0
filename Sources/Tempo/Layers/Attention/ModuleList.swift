/// Modules held by position, as PyTorch's `nn.ModuleList`: their parameters are keyed `0.…`,
/// `1.…`, so a parent that holds the list under `layers` has PyTorch's `layers.0.…` keys.
/// It has no forward of its own; its owner calls the modules.
public final class ModuleList<Element: Module>: Module {
    public let modules: [Element]

    public init(_ modules: [Element]) {
        self.modules = modules
    }

    override public var members: [(key: String, member: ModuleMember)] {
        modules.enumerated().map { ("\($0.offset)", .module($0.element)) }
    }
}
