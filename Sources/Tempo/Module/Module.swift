/// The base of every layer: named parameters, named sub-modules, a device and a training mode.
///
/// A layer is a subclass that overrides ``members`` to list its parameters and sub-modules under
/// the keys PyTorch gives them, so that ``namedParameters()`` yields exactly the keys of the
/// matching PyTorch module's `state_dict()` (`weight`, `layers.0.self_attn.in_proj_weight`, ...)
/// and a PyTorch checkpoint loads unchanged:
///
/// ```swift
/// final class Classifier: Module, UnaryLayer {
///     let encoder: Linear, head: Linear
///     init(device: Device) throws {
///         encoder = try Linear(inputSize: 64, outputSize: 32, device: device)
///         head = try Linear(inputSize: 32, outputSize: 4, device: device)
///     }
///     override var members: [(key: String, member: ModuleMember)] {
///         [("encoder", .module(encoder)), ("head", .module(head))]
///     }
///     func callAsFunction(_ x: Tensor) throws -> Tensor { try head(encoder(x).relu()) }
/// }
/// ```
///
/// As in PyTorch, a module starts in training mode; call ``eval()`` before inference (it turns
/// dropout off). Modules are not `Sendable`: use one from one task at a time.
open class Module {
    /// Whether the module is in training mode (dropout active). Set with ``train(_:)`` / ``eval()``.
    public private(set) var isTraining = true

    public init() {}

    /// This module's own parameters and direct sub-modules, under their `state_dict` keys, in
    /// `state_dict` order. Layers override it; the default is a module with neither.
    open var members: [(key: String, member: ModuleMember)] { [] }

    /// Sets this module and every sub-module to training mode (`true`) or evaluation mode.
    public func train(_ training: Bool = true) {
        isTraining = training
        for (_, child) in children { child.train(training) }
    }

    /// Sets this module and every sub-module to evaluation mode.
    public func eval() {
        train(false)
    }
}

/// What a module holds under a key.
public enum ModuleMember {
    case parameter(Parameter)
    case module(Module)
}

/// A module that maps one tensor to one tensor, so it can be chained (``Sequential``) or wrapped
/// (``TimeDistributed``).
public protocol UnaryLayer: Module {
    func callAsFunction(_ x: Tensor) throws -> Tensor
}

extension Module {
    /// The direct sub-modules with their keys.
    public var children: [(key: String, module: Module)] {
        members.compactMap { key, member in
            if case .module(let module) = member { return (key, module) }
            return nil
        }
    }

    /// Every parameter of this module and its sub-modules, once, keyed with dots as PyTorch's
    /// `named_parameters()` keys them.
    ///
    /// A sub-module may be registered under two keys, as PyTorch allows (locuslab's TCN lists its
    /// convolutions again in a `Sequential` called `net`): as `named_parameters()` does, its
    /// parameters appear under the first key only. ``stateDict()`` lists every key, as
    /// `state_dict()` does, and loading accepts any of them.
    public func namedParameters() -> [(key: String, parameter: Parameter)] {
        var seen = Set<ObjectIdentifier>()
        return stateDictEntries().filter { seen.insert(ObjectIdentifier($0.parameter)).inserted }
    }

    /// Every key under which a parameter is reachable, duplicates included, in `state_dict()` order.
    func stateDictEntries() -> [(key: String, parameter: Parameter)] {
        members.flatMap { key, member -> [(key: String, parameter: Parameter)] in
            switch member {
            case .parameter(let parameter): return [(key, parameter)]
            case .module(let module): return module.stateDictEntries().map { ("\(key).\($0.key)", $0.parameter) }
            }
        }
    }

    /// Every sub-module, once, depth first, keyed with dots; this module itself has the key "".
    /// A sub-module registered under two keys appears under the first, as in PyTorch's `named_modules()`.
    public func namedModules() -> [(key: String, module: Module)] {
        var seen = Set<ObjectIdentifier>()
        return allNamedModules().filter { seen.insert(ObjectIdentifier($0.module)).inserted }
    }

    private func allNamedModules() -> [(key: String, module: Module)] {
        [("", self)] + children.flatMap { key, child in
            child.allNamedModules().map { ($0.key.isEmpty ? key : "\(key).\($0.key)", $0.module) }
        }
    }

    /// The number of scalar parameters.
    public var parameterCount: Int {
        namedParameters().reduce(0) { $0 + $1.parameter.value.count }
    }

    /// The device of the parameters (the CPU for a module without parameters).
    public var device: Device {
        firstParameter()?.device ?? .cpu
    }

    /// The first parameter in `state_dict()` order, found without listing the others: layers
    /// check their input's device on every call, a streaming step included.
    private func firstParameter() -> Parameter? {
        for (_, member) in members {
            switch member {
            case .parameter(let parameter): return parameter
            case .module(let module): if let parameter = module.firstParameter() { return parameter }
            }
        }
        return nil
    }

    /// Moves every parameter to `device`. Either all move or, when a copy fails, none do.
    @discardableResult
    public func to(_ device: Device) throws -> Self {
        let parameters = namedParameters().map(\.parameter)
        let moved = try parameters.map { try $0.value.to(device) }
        for (parameter, value) in zip(parameters, moved) { parameter.value = value }
        return self
    }

    /// A readable list of the parameters: key, shape, device; then the total.
    public var parameterSummary: String {
        let lines = namedParameters().map { "\($0.key): \(TempoError.format($0.parameter.shape)) on \($0.parameter.device.id)" }
        return (lines + ["\(parameterCount) parameters"]).joined(separator: "\n")
    }

    /// Throws ``TempoError/deviceMismatch(argument:expected:actual:)`` unless `x` is on this
    /// module's device: a clearer error than the one the first op would give.
    func requireDevice(of x: Tensor, argument: String = "x") throws {
        let device = self.device
        guard x.device == device else {
            throw TempoError.deviceMismatch(argument: argument, expected: device.id, actual: x.device.id)
        }
    }
}
