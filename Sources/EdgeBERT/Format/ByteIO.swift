/// Little-endian writing into a growing byte array (the converter's side).
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }
    mutating func fixedString(_ s: String, _ width: Int) {
        let utf8 = Array(s.utf8.prefix(width))
        bytes.append(contentsOf: utf8)
        zeros(width - utf8.count)
    }
    mutating func pad(to alignment: Int) {
        let r = bytes.count % alignment
        if r != 0 { zeros(alignment - r) }
    }
}

/// Little-endian reading from mapped bytes with every read bounds-checked (the runtime's side).
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int
    let what: String

    init(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0, what: String) {
        self.bytes = bytes
        self.offset = offset
        self.what = what
    }

    mutating func need(_ n: Int) throws(EdgeBERTError) {
        guard n >= 0, offset <= bytes.count, bytes.count - offset >= n else {
            throw .data(what, "truncated: needs \(n) bytes at offset \(offset), the file has \(bytes.count)")
        }
    }
    mutating func u8() throws(EdgeBERTError) -> UInt8 {
        try need(1); defer { offset += 1 }
        return bytes[offset]
    }
    mutating func u32() throws(EdgeBERTError) -> UInt32 {
        try need(4); defer { offset += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    mutating func u64() throws(EdgeBERTError) -> UInt64 {
        try need(8); defer { offset += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    mutating func f32() throws(EdgeBERTError) -> Float { Float(bitPattern: try u32()) }
    mutating func skip(_ n: Int) throws(EdgeBERTError) { try need(n); offset += n }
    mutating func fixedString(_ width: Int) throws(EdgeBERTError) -> String {
        try need(width)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + width)])
        offset += width
        let end = slice.firstIndex(of: 0) ?? width
        return String(decoding: slice[0..<end], as: UTF8.self)
    }
}
