extension Module {
    /// The parameters' current values under their `state_dict` keys, in order.
    ///
    /// As PyTorch's `state_dict()`, a parameter reachable under several keys (a sub-module
    /// registered twice) is listed under each, so a file saved from it loads into the PyTorch
    /// module with `strict=True`.
    public func stateDict() -> [(key: String, tensor: Tensor)] {
        stateDictEntries().map { ($0.key, $0.parameter.value) }
    }

    /// Replaces parameter values with `tensors`, keyed as ``stateDict()`` keys them.
    ///
    /// Everything is checked before anything changes, so a failed load leaves the module as it
    /// was. Each tensor moves to its parameter's device. A parameter with several keys needs only
    /// one of them; when several are given they must hold the same values.
    ///
    /// - Parameters:
    ///   - allowMissing: leave parameters without a tensor as they are, instead of throwing.
    ///   - allowUnexpected: ignore tensors that match no parameter, instead of throwing.
    /// - Throws: ``TempoError/modelFile(path:problem:)`` naming the missing, unexpected,
    ///   misshapen or conflicting tensors (`path` is `source`).
    public func load(
        stateDict tensors: [String: Tensor], allowMissing: Bool = false, allowUnexpected: Bool = false,
        source: String = "state dict"
    ) throws {
        try load(from: source, names: Set(tensors.keys), allowMissing: allowMissing, allowUnexpected: allowUnexpected) {
            name, _ in tensors[name]
        }
    }

    /// The shared core of loading from a dictionary or a file: validates names and shapes
    /// (`shapeOf` may read a header without reading data), then fetches and assigns.
    func load(
        from source: String, names: Set<String>, allowMissing: Bool, allowUnexpected: Bool,
        shapeOf: ((String) throws -> [Int])? = nil, fetch: (String, Device) throws -> Tensor?
    ) throws {
        let entries = stateDictEntries()
        let parameters = Self.keysByParameter(entries)
        let missing = parameters.filter { !$0.keys.contains(where: names.contains) }.map { $0.keys[0] }
        if !missing.isEmpty, !allowMissing {
            throw TempoError.modelFile(path: source, problem: .missingTensors(missing))
        }
        let unexpected = names.subtracting(entries.map(\.key)).sorted()
        if !unexpected.isEmpty, !allowUnexpected {
            throw TempoError.modelFile(path: source, problem: .unexpectedTensors(unexpected))
        }
        // Check every shape before reading any data, then read everything before assigning.
        if let shapeOf {
            for (key, parameter) in entries where names.contains(key) {
                try Self.requireShape(try shapeOf(key), of: parameter, key: key, source: source)
            }
        }
        var values: [(Parameter, Tensor)] = []
        for (parameter, keys) in parameters {
            var first: (key: String, tensor: Tensor)?
            for key in keys where names.contains(key) {
                guard let tensor = try fetch(key, parameter.device) else { continue }
                try Self.requireShape(tensor.shape, of: parameter, key: key, source: source)
                if let first {
                    // Bit patterns, so that NaN matches NaN: the two keys name one PyTorch tensor.
                    guard try tensor.values.map(\.bitPattern) == first.tensor.values.map(\.bitPattern) else {
                        throw TempoError.modelFile(
                            path: source, problem: .conflictingDuplicates(tensor: key, duplicateOf: first.key))
                    }
                } else {
                    first = (key, tensor)
                }
            }
            if let first { values.append((parameter, try first.tensor.to(parameter.device))) }
        }
        for (parameter, value) in values { parameter.value = value }
    }

    /// Each parameter once, in `state_dict` order, with every key it has there.
    private static func keysByParameter(
        _ entries: [(key: String, parameter: Parameter)]
    ) -> [(parameter: Parameter, keys: [String])] {
        var groups: [(parameter: Parameter, keys: [String])] = []
        var index: [ObjectIdentifier: Int] = [:]
        for (key, parameter) in entries {
            if let position = index[ObjectIdentifier(parameter)] {
                groups[position].keys.append(key)
            } else {
                index[ObjectIdentifier(parameter)] = groups.count
                groups.append((parameter, [key]))
            }
        }
        return groups
    }

    private static func requireShape(_ shape: [Int], of parameter: Parameter, key: String, source: String) throws {
        guard shape == parameter.shape else {
            throw TempoError.modelFile(
                path: source, problem: .shapeMismatch(tensor: key, expected: parameter.shape, actual: shape))
        }
    }
}
