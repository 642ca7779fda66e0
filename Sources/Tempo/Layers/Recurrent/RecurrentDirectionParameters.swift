/// The parameters of one direction of one stacked layer of an ``RNN``, ``LSTM`` or ``GRU``, under
/// PyTorch's `state_dict` keys.
///
/// With `G` gate blocks, hidden size `H`, input size `I` (the network's input for layer 0, `D*R`
/// above it) and `R` the size of `h` (`H`, or `P` with a projection):
/// - `weight_ih_l{k}` `[G*H, I]`, `weight_hh_l{k}` `[G*H, R]`;
/// - `bias_ih_l{k}`, `bias_hh_l{k}` `[G*H]`, both or neither;
/// - `weight_hr_l{k}` `[P, H]`, an LSTM with a projection (PyTorch's `proj_size`);
/// - `weight_peephole_l{k}` `[peepholeCount*H]`, an LSTM with peepholes (not in PyTorch, which
///   has no peepholes; the name follows its pattern);
///
/// each with the suffix `_reverse` for the backward direction.
struct RecurrentDirectionParameters {
    /// `_l{k}` or `_l{k}_reverse`.
    let suffix: String
    let input: Parameter
    let hidden: Parameter
    let inputBias: Parameter?
    let hiddenBias: Parameter?
    let projection: Parameter?
    let peephole: Parameter?

    /// Draws every tensor from the ``Random`` stream in `state_dict` order with PyTorch's recurrent
    /// initialiser, U(-1/√H, 1/√H). PyTorch applies it to every parameter of a recurrent layer
    /// whatever its role, so the projection gets it too; the peepholes, which PyTorch lacks, get
    /// the same so that no parameter of the layer is special.
    init(
        layer: Int, direction: Int, cell: RecurrentCell, inputSize: Int, hiddenSize: Int, projectionSize: Int,
        bias: Bool, device: Device
    ) throws {
        suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
        let initializer = Initializer.pytorchRecurrent(hiddenSize: hiddenSize)
        func draw(_ shape: [Int], if present: Bool = true) throws -> Parameter? {
            present ? Parameter(try initializer.tensor(shape, device: device)) : nil
        }
        let rows = cell.gateCount * hiddenSize
        let stateSize = projectionSize > 0 ? projectionSize : hiddenSize
        input = Parameter(try initializer.tensor([rows, inputSize], device: device))
        hidden = Parameter(try initializer.tensor([rows, stateSize], device: device))
        inputBias = try draw([rows], if: bias)
        hiddenBias = try draw([rows], if: bias)
        projection = try draw([projectionSize, hiddenSize], if: projectionSize > 0)
        peephole = try draw([cell.peepholeCount * hiddenSize], if: cell.peepholeCount > 0)
    }

    /// In PyTorch's `state_dict` order (`_flat_weights_names`), the peepholes last.
    var members: [(key: String, member: ModuleMember)] {
        let named: [(String, Parameter?)] = [
            ("weight_ih", input), ("weight_hh", hidden), ("bias_ih", inputBias), ("bias_hh", hiddenBias),
            ("weight_hr", projection), ("weight_peephole", peephole),
        ]
        return named.compactMap { name, parameter in parameter.map { (name + suffix, .parameter($0)) } }
    }

    /// The current values, as the sequence op takes them.
    var weights: RecurrentWeights {
        RecurrentWeights(
            input: input.value, hidden: hidden.value, inputBias: inputBias?.value, hiddenBias: hiddenBias?.value,
            peephole: peephole?.value, projection: projection?.value)
    }
}
