extension Module {
    /// The parameters' current values under their `state_dict` keys, in order.
    public func stateDict() -> [(key: String, tensor: Tensor)] {
        namedParameters().map { ($0.key, $0.parameter.value) }
    }

    /// Replaces parameter values with `tensors`, keyed as ``namedParameters()`` keys them.
    ///
    /// Everything is checked before anything changes, so a failed load leaves the module as it
    /// was. Each tensor moves to its parameter's device.
    ///
    /// - Parameters:
    ///   - allowMissing: leave parameters without a tensor as they are, instead of throwing.
    ///   - allowUnexpected: ignore tensors that match no parameter, instead of throwing.
    /// - Throws: ``TempoError/modelFile(path:problem:)`` naming the missing, unexpected or
    ///   misshapen tensors (`path` is `source`).
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
        let parameters = namedParameters()
        let keys = Set(parameters.map(\.key))
        let missing = parameters.map(\.key).filter { !names.contains($0) }
        if !missing.isEmpty, !allowMissing {
            throw TempoError.modelFile(path: source, problem: .missingTensors(missing))
        }
        let unexpected = names.subtracting(keys).sorted()
        if !unexpected.isEmpty, !allowUnexpected {
            throw TempoError.modelFile(path: source, problem: .unexpectedTensors(unexpected))
        }
        // Check every shape before reading any data, then read everything before assigning.
        if let shapeOf {
            for (key, parameter) in parameters where names.contains(key) {
                let shape = try shapeOf(key)
                guard shape == parameter.shape else {
                    throw TempoError.modelFile(
                        path: source, problem: .shapeMismatch(tensor: key, expected: parameter.shape, actual: shape))
                }
            }
        }
        var values: [(Parameter, Tensor)] = []
        for (key, parameter) in parameters where names.contains(key) {
            guard let tensor = try fetch(key, parameter.device) else { continue }
            guard tensor.shape == parameter.shape else {
                throw TempoError.modelFile(
                    path: source, problem: .shapeMismatch(tensor: key, expected: parameter.shape, actual: tensor.shape))
            }
            values.append((parameter, try tensor.to(parameter.device)))
        }
        for (parameter, value) in values { parameter.value = value }
    }
}
