import Foundation

/// The fixed sinusoidal positional encoding of "Attention Is All You Need", as the PyTorch
/// tutorial's `PositionalEncoding`: `x + pe[offset ..< offset + S]`, then dropout, with
/// `pe[p, 2i] = sin(p / 10000^(2i/E))` and `pe[p, 2i+1] = cos(p / 10000^(2i/E))` (an odd `E`
/// drops the last cosine column).
///
/// `pe` `[maxLength, 1, E]` is listed under the key `pe`, as the tutorial's registered buffer is
/// in its `state_dict`, so its checkpoints load; it is not trained.
public final class SinusoidalPositionalEncoding: Module, UnaryLayer {
    public let modelDimension: Int
    public let maxLength: Int
    public let batchFirst: Bool
    /// `[maxLength, 1, E]`.
    public let pe: Parameter
    public let dropout: Dropout

    /// - Parameter dropout: applied after the sum in training mode (the tutorial's default 0.1).
    public init(modelDimension: Int, dropout: Float = 0.1, maxLength: Int = 5000, batchFirst: Bool = false, device: Device = .cpu) throws {
        for (name, size) in [("modelDimension", modelDimension), ("maxLength", maxLength)] where size < 1 {
            throw TempoError.invalidArgument(argument: name, expected: "at least 1", actual: "\(size)")
        }
        self.modelDimension = modelDimension
        self.maxLength = maxLength
        self.batchFirst = batchFirst
        self.dropout = try Dropout(probability: dropout)
        var table = [Float](repeating: 0, count: maxLength * modelDimension)
        for position in 0..<maxLength {
            for column in stride(from: 0, to: modelDimension, by: 2) {
                // exp(2i * -ln(10000) / E), as the tutorial computes div_term, in double precision.
                let angle = Double(position) * exp(Double(column) * -log(10000.0) / Double(modelDimension))
                table[position * modelDimension + column] = Float(sin(angle))
                if column + 1 < modelDimension { table[position * modelDimension + column + 1] = Float(cos(angle)) }
            }
        }
        pe = Parameter(try Tensor(shape: [maxLength, 1, modelDimension], values: table, device: device))
    }

    override public var members: [(key: String, member: ModuleMember)] {
        [("pe", .parameter(pe)), ("dropout", .module(dropout))]
    }

    /// `x`: `[S, B, E]` or `[B, S, E]` (`batchFirst`); `S` positions from `offset` (the steps
    /// already decoded, when decoding incrementally) must fit in `maxLength`.
    public func callAsFunction(_ x: Tensor, offset: Int) throws -> Tensor {
        try dropout(x.addingPositions(pe.value.reshaped([maxLength, modelDimension]), offset: offset, batchFirst: batchFirst))
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try callAsFunction(x, offset: 0) }
}

/// A learned positional encoding (BERT's and GPT's position embeddings): `x + weight[offset ..< offset + S]`,
/// then dropout. `weight` `[maxLength, E]` is initialised N(0, 1) as an `nn.Embedding`'s.
public final class LearnedPositionalEncoding: Module, UnaryLayer {
    public let modelDimension: Int
    public let maxLength: Int
    public let batchFirst: Bool
    /// `[maxLength, E]`.
    public let weight: Parameter
    public let dropout: Dropout

    public init(modelDimension: Int, maxLength: Int, dropout: Float = 0.1, batchFirst: Bool = false, device: Device = .cpu) throws {
        let table = try Embedding(count: maxLength, dimension: modelDimension, device: device)
        self.modelDimension = modelDimension
        self.maxLength = maxLength
        self.batchFirst = batchFirst
        weight = table.weight
        self.dropout = try Dropout(probability: dropout)
    }

    override public var members: [(key: String, member: ModuleMember)] {
        [("weight", .parameter(weight)), ("dropout", .module(dropout))]
    }

    /// As ``SinusoidalPositionalEncoding/callAsFunction(_:offset:)``.
    public func callAsFunction(_ x: Tensor, offset: Int) throws -> Tensor {
        try dropout(x.addingPositions(weight.value, offset: offset, batchFirst: batchFirst))
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try callAsFunction(x, offset: 0) }
}

extension Tensor {
    /// `self` `[S, B, E]` (or `[B, S, E]`) plus rows `offset ..< offset + S` of `table`
    /// `[maxLength, E]`, the same row for every batch element.
    fileprivate func addingPositions(_ table: Tensor, offset: Int, batchFirst: Bool) throws -> Tensor {
        let (maxLength, width) = (table.shape[0], table.shape[1])
        guard rank == 3, shape[2] == width else {
            throw TempoError.shapeMismatch(argument: "x", expected: batchFirst ? "[B, S, \(width)]" : "[S, B, \(width)]", actual: shape)
        }
        let (length, batch) = batchFirst ? (shape[1], shape[0]) : (shape[0], shape[1])
        guard offset >= 0, offset + length <= maxLength else {
            throw TempoError.invalidArgument(
                argument: "offset", expected: "offset >= 0 and offset + S <= maxLength = \(maxLength) (S = \(length))", actual: "\(offset)")
        }
        let rows = try table.slice(axis: 0, range: offset..<offset + length)
        if batchFirst {
            return try rows.reshaped([1, 1, length * width]).repeatingRows(batch, adding: reshaped([1, batch, length * width]))
                .reshaped(shape)
        }
        return try rows.reshaped([length, 1, width]).repeatingRows(batch, adding: self)
    }
}
