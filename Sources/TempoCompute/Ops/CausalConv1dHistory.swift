/// The inputs a streaming causal convolution still needs: for each of B sequences, the last
/// `(K-1)*d` samples of its Cin input channels, on one device, with the count of samples seen.
///
/// ``Tensor/causalConv1dStep(weight:bias:dilation:groups:history:activation:residual:outputActivation:)``
/// reads its taps from here and appends each new sample in place, so a step costs one column of
/// work instead of a recomputed receptive field. It is a class and not a ``Tensor`` because it is
/// mutated: tensors never change once made (caches of packed weights rely on that).
///
/// A new history, and one after ``reset()``, holds zeros: the implicit zeros before a sequence's
/// start, so stepping from it gives exactly the whole-sequence ``Tensor/causalConv1d(weight:bias:dilation:groups:)``.
///
/// Storage is a ring of `S = (K-1)*d + 1` slots of `[B, Cin]` (none when K = 1): sample `n` goes to
/// slot `n % S`, so appending is one contiguous copy and each tap reads one contiguous `[B, Cin]`
/// slot. The one slot more than the taps reach is the one being written: the slot of sample `n`
/// held sample `n - S`, which no tap of step `n` reads, so a device kernel may write it while
/// other work-items still read the taps (one launch per step, no ordering between the two).
///
/// Not thread-safe: one stream steps its history from one thread at a time.
public final class CausalConv1dHistory {
    /// Where the samples live; the step's tensors must be on it too.
    public let device: Device
    /// B
    public let batch: Int
    /// Cin
    public let channels: Int
    /// K
    public let kernelSize: Int
    /// d
    public let dilation: Int
    /// Samples appended since creation or the last ``reset()``.
    public private(set) var steps = 0

    /// Slots of the ring: `(K-1)*d + 1`, or 0 when K = 1 (no tap looks back).
    let slots: Int
    /// The slot the next sample goes to: `steps % slots` (0 without slots).
    private(set) var position = 0
    /// `[slots, B, Cin]`, nil when there are no slots.
    let storage: (any DeviceBuffer)?
    /// The backend's own state for this stream, beyond the samples (the CPU's stash of paired
    /// steps); dropped by ``reset()``.
    var backendState: AnyObject?
    /// The weight last stepped with and its prepared form (see ``preparedWeight(for:sizes:make:)``).
    private var lastWeight: (source: any DeviceBuffer, sizes: CausalConv1dDescriptor, prepared: AnyObject)?

    /// A history of zeros.
    ///
    /// - Throws: ``TempoError/invalidArgument(argument:expected:actual:)`` for a size below 1 or a
    ///   ring too large to index with 32-bit ints.
    public init(device: Device, batch: Int, channels: Int, kernelSize: Int, dilation: Int) throws {
        for (name, value) in [("batch", batch), ("channels", channels), ("kernelSize", kernelSize), ("dilation", dilation)]
        where value < 1 {
            throw TempoError.invalidArgument(argument: name, expected: "at least 1", actual: "\(value)")
        }
        let (reach, overflow) = (kernelSize - 1).multipliedReportingOverflow(by: dilation)
        guard !overflow, reach < Int(Int32.max / 2) else {
            throw TempoError.invalidArgument(
                argument: "dilation", expected: "(K-1)*dilation below \(Int32.max / 2)", actual: "\(dilation) with K = \(kernelSize)")
        }
        slots = reach == 0 ? 0 : reach + 1
        let count = try Tensor.elementCount(of: [slots, batch, channels], argument: "history [(K-1)*d + 1, B, Cin]")
        self.device = device
        self.batch = batch
        self.channels = channels
        self.kernelSize = kernelSize
        self.dilation = dilation
        if slots > 0 {
            let backend = try device.backend()
            let buffer = try backend.allocate(count: count)
            try backend.fill(buffer, with: 0, count: count)
            storage = buffer
        } else {
            storage = nil
        }
    }

    /// A history of zeros for stepping `weight` (`[Cout, Cin/groups, K]`) over B sequences, on the
    /// weight's device.
    public convenience init(batch: Int, weight: Tensor, dilation: Int, groups: Int = 1) throws {
        guard weight.rank == 3, weight.shape.allSatisfy({ $0 >= 1 }) else {
            throw TempoError.shapeMismatch(argument: "weight", expected: "[Cout, Cin/groups, K]", actual: weight.shape)
        }
        guard groups >= 1 else {
            throw TempoError.invalidArgument(argument: "groups", expected: "at least 1", actual: "\(groups)")
        }
        let (channels, overflow) = weight.shape[1].multipliedReportingOverflow(by: groups)
        guard !overflow else {
            throw TempoError.invalidArgument(argument: "groups", expected: "Cin/groups * groups to fit an Int", actual: "\(groups)")
        }
        try self.init(
            device: weight.device, batch: batch, channels: channels, kernelSize: weight.shape[2], dilation: dilation)
    }

    /// Back to zeros and step 0: the start of new sequences.
    public func reset() throws {
        if let storage { try device.backend().fill(storage, with: 0, count: slots * batch * channels) }
        steps = 0
        position = 0
        backendState = nil
    }

    /// Records that the sample now in slot ``position`` was appended.
    func advance() {
        steps += 1
        if slots > 0 { position = position + 1 == slots ? 0 : position + 1 }
    }

    /// The prepared (packed) form of `weight` for a step of `sizes`, from `make` (the backend's
    /// shared cache) unless it is the weight of this history's last step. A stream steps the same
    /// weight every time, so all but its first step skip the shared cache's lock and key; the
    /// history holds the weight buffer with its prepared form, so the identity cannot be reused.
    func preparedWeight<Prepared: AnyObject>(
        for weight: any DeviceBuffer, sizes: CausalConv1dDescriptor, make: () throws -> Prepared
    ) rethrows -> Prepared {
        // Field by field in place: binding `lastWeight` would copy (retain) the whole tuple.
        if lastWeight?.source === weight, lastWeight?.sizes == sizes, let prepared = lastWeight?.prepared as? Prepared {
            return prepared
        }
        let prepared = try make()
        lastWeight = (weight, sizes, prepared)
        return prepared
    }

    /// The sizes, as errors quote them.
    var summary: String { "B = \(batch), Cin = \(channels), K = \(kernelSize), d = \(dilation)" }
}
