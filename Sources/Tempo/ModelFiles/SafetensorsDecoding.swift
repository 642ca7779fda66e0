/// Turns a tensor's little-endian bytes into Float32 values.
enum SafetensorsDecoding {
    /// The values stored in `bytes` as `dtype`, one per `dtype.size` bytes (a trailing partial
    /// element, which a validated file never has, is ignored). A dtype that is not
    /// ``SafetensorsDType/isReadable`` gives an empty array; callers refuse those first.
    static func floats(from bytes: UnsafeRawBufferPointer, dtype: SafetensorsDType) -> [Float] {
        let count = bytes.count / dtype.size
        // Every element index below is < count, so each load of `dtype.size` bytes at
        // `index * dtype.size` ends at or before bytes.count.
        switch dtype {
        case .float32:
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                #if _endian(little)
                // The file's byte order is the host's: one copy, as fast as the disk allows.
                if count > 0, let destination = buffer.baseAddress, let source = bytes.baseAddress {
                    UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
                }
                #else
                for index in 0..<count {
                    let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
                    buffer[index] = Float(bitPattern: bits)
                }
                #endif
                initialized = count
            }
        case .float16:
            return (0..<count).map { index in
                let half = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
                return Float(bitPattern: FloatConversion.float32Bits(fromFloat16: half))
            }
        case .bfloat16:
            return (0..<count).map { index in
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
                return Float(bitPattern: FloatConversion.float32Bits(fromBFloat16: bits))
            }
        case .float64:
            return (0..<count).map { index in
                let bits = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
                return Float(Double(bitPattern: bits))
            }
        default:
            return []
        }
    }
}
