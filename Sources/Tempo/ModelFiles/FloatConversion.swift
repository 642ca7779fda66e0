/// Bit-exact conversions from the narrower float formats of model files to `Float`.
///
/// Written on integers rather than through `Float16` so that the result, NaN payloads included, is
/// the same on every platform (`Float16` is missing on macOS/x86, and hardware conversions may quiet
/// a signalling NaN).
enum FloatConversion {
    /// The Float32 bit pattern of an IEEE 754 binary16 value; exact for every input. A NaN keeps
    /// its sign and payload (shifted into the top of the wider significand), as numpy's conversion does.
    static func float32Bits(fromFloat16 half: UInt16) -> UInt32 {
        let sign = UInt32(half & 0x8000) << 16
        let exponent = UInt32(half >> 10) & 0x1F
        let significand = UInt32(half & 0x03FF)
        switch exponent {
        case 0x1F:
            // Infinity or NaN: the all-ones exponent of binary32, significand carried over.
            return sign | 0x7F80_0000 | significand << 13
        case 0 where significand == 0:
            return sign
        case 0:
            // Subnormal: significand * 2^-24, a normal Float32; shift until the leading bit reaches
            // the implicit position. At most 10 shifts, since significand != 0.
            var shifted = significand
            var biasedExponent: UInt32 = 127 - 15 + 1
            while shifted & 0x0400 == 0 {
                shifted <<= 1
                biasedExponent -= 1
            }
            return sign | biasedExponent << 23 | (shifted & 0x03FF) << 13
        default:
            return sign | (exponent + 127 - 15) << 23 | significand << 13
        }
    }

    /// The Float32 bit pattern of a bfloat16 value: bfloat16 is the top half of a Float32.
    static func float32Bits(fromBFloat16 bits: UInt16) -> UInt32 {
        UInt32(bits) << 16
    }
}
