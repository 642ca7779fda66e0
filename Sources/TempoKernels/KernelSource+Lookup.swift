extension KernelSource {
    /// The embedded kernel file called `name` (without `.cl`), if there is one.
    public static func named(_ name: String) -> KernelSource? {
        all.first { $0.name == name }
    }
}
