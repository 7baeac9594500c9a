/// One row of the tensor table: 128 bytes on disk.
///
///     0 name (80 bytes, UTF-8, zero padded)   80 dtype u32   84 rank u32   88 shape 4 x u32
///     104 absolute offset u64 (64-byte aligned)   112 byte length u64   120 zero
public struct TensorEntry: Equatable, Sendable {
    /// Bytes of one table row on disk.
    public static let size = 128
    /// Bytes of the zero-padded name field.
    public static let nameWidth = 80

    /// The checkpoint's key without any `bert.` prefix, plus a suffix (`.weight`, `.scale`, ...).
    public var name: String
    /// How the elements are stored.
    public var dtype: DType
    /// The logical shape ([N, K] for a packed matrix).
    public var shape: [Int]
    /// Absolute byte offset in the file, 64-byte aligned.
    public var offset: Int
    /// Bytes stored.
    public var length: Int

    func encode(into w: inout ByteWriter) {
        w.fixedString(name, Self.nameWidth)
        w.u32(dtype.rawValue)
        w.u32(UInt32(shape.count))
        for i in 0..<4 { w.u32(i < shape.count ? UInt32(shape[i]) : 0) }
        w.u64(UInt64(offset))
        w.u64(UInt64(length))
        w.zeros(8)
    }

    static func decode(_ r: inout ByteReader) throws(EdgeBERTError) -> TensorEntry {
        let name = try r.fixedString(nameWidth)
        let dt = try r.u32()
        guard let dtype = DType(rawValue: dt) else { throw .data(r.what, "tensor \(name): unknown dtype \(dt)") }
        let rank = Int(try r.u32())
        guard (1...4).contains(rank) else { throw .data(r.what, "tensor \(name): rank \(rank) outside 1...4") }
        var shape: [Int] = []
        for i in 0..<4 {
            let d = Int(try r.u32())
            if i < rank { shape.append(d) }
        }
        let offset = try r.u64(), length = try r.u64()
        try r.skip(8)
        guard offset < UInt64(Int.max), length < UInt64(Int.max) else {
            throw .data(r.what, "tensor \(name): offset or length out of range")
        }
        return TensorEntry(name: name, dtype: dtype, shape: shape, offset: Int(offset), length: Int(length))
    }
}
