/// UTF-8 validation that reports where the first invalid byte is, for header errors that name
/// the offset (`String(validating:)` only says whether).
enum UTF8Validation {
    /// The index of the first byte that does not begin or continue a well-formed UTF-8 sequence
    /// (overlong forms, surrogates and scalars above U+10FFFF are ill-formed), or `nil` when all of
    /// `bytes` is UTF-8.
    static func firstInvalidIndex(in bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            // The allowed range of the second byte depends on the lead (Unicode table 3-7); every
            // later byte is 80...BF.
            let length: Int
            let second: ClosedRange<UInt8>
            switch lead {
            case 0xC2...0xDF: (length, second) = (2, 0x80...0xBF)
            case 0xE0: (length, second) = (3, 0xA0...0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (length, second) = (3, 0x80...0xBF)
            case 0xED: (length, second) = (3, 0x80...0x9F)
            case 0xF0: (length, second) = (4, 0x90...0xBF)
            case 0xF1...0xF3: (length, second) = (4, 0x80...0xBF)
            case 0xF4: (length, second) = (4, 0x80...0x8F)
            default: return index
            }
            for continuation in 1..<length {
                let position = index + continuation
                guard position < bytes.count else { return index }
                let allowed = continuation == 1 ? second : 0x80...0xBF
                guard allowed.contains(bytes[position]) else { return position }
            }
            index += length
        }
        return nil
    }
}
