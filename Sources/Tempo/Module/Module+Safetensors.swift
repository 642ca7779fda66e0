import Foundation

extension Module {
    /// Loads parameter values from a `.safetensors` file whose tensor names are this module's
    /// `state_dict` keys, as PyTorch's `safetensors.torch.save_file(model.state_dict(), path)` writes.
    ///
    /// F32, F16 and BF16 tensors are read (converted to Float32). The header and every name and
    /// shape are checked before any data is read, and nothing is assigned until everything has
    /// been read, so a failed load leaves the module as it was.
    ///
    /// - Parameters:
    ///   - allowMissing: leave parameters the file lacks as they are, instead of throwing.
    ///   - allowUnexpected: ignore tensors the module has no parameter for, instead of throwing.
    /// - Throws: ``TempoError/modelFile(path:problem:)`` naming the tensor or byte offset.
    public func load(safetensors url: URL, allowMissing: Bool = false, allowUnexpected: Bool = false) throws {
        let file = try SafetensorsFile(contentsOf: url)
        try load(
            from: file.path, names: Set(file.tensors.map(\.name)), allowMissing: allowMissing,
            allowUnexpected: allowUnexpected,
            shapeOf: { name in file.info(name)?.shape ?? [] },
            fetch: { name, device in try file.tensor(name, device: device) })
    }

    /// Writes every parameter as F32 under its `state_dict` key, so that PyTorch loads it with
    /// `model.load_state_dict(safetensors.torch.load_file(path))`. Written atomically.
    public func save(safetensors url: URL, metadata: [String: String]? = nil) throws {
        try SafetensorsFile.write(stateDict().map { (name: $0.key, tensor: $0.tensor) }, metadata: metadata, to: url)
    }
}
