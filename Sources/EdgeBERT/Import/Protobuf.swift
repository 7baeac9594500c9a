/// Protocol Buffers' wire format, read over bytes it does not own (a mapped file): a message is a
/// sequence of (field number, wire type, value) records. Only the four wire types protobuf 3 writes
/// are accepted (varint, fixed64, length-delimited, fixed32); groups (3, 4) and the unused 6, 7 are
/// refused. Every length is checked against the bytes left before anything is sliced, and nested
/// messages carry a depth that stops at `ProtoReader.maxDepth`, so no input can trap, read out of
/// bounds or recurse without end. https://protobuf.dev/programming-guides/encoding/
struct ProtoReader {
    /// One field's value, as the wire type gives it; its meaning comes from the schema.
    enum Value {
        /// Wire type 0: int32, int64, uint64, bool, enum (two's complement, 64 bits).
        case varint(UInt64)
        /// Wire type 1: fixed64, sfixed64, double.
        case fixed64(UInt64)
        /// Wire type 2: bytes, string, an embedded message, a packed repeated field. A slice of the
        /// reader's bytes: valid as long as they are.
        case bytes(UnsafeRawBufferPointer)
        /// Wire type 5: fixed32, sfixed32, float.
        case fixed32(UInt32)
    }

    /// The deepest nesting of messages read (ONNX needs 5: model, graph, node, attribute, tensor).
    static let maxDepth = 16

    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0
    /// What errors name: the file and the message being read (`m.onnx: graph.node[3]`).
    let what: String
    /// How many messages enclose this one (0: the top).
    let depth: Int

    /// A reader of one message: `bytes` must outlive it and everything it returns.
    init(_ bytes: UnsafeRawBufferPointer, what: String, depth: Int = 0) throws(EdgeBERTError) {
        guard depth <= Self.maxDepth else {
            throw .data(what, "messages nested more than \(Self.maxDepth) deep: not an ONNX file, or a hostile one")
        }
        self.bytes = bytes
        self.what = what
        self.depth = depth
    }

    /// A reader of the message embedded in `value`, one level deeper.
    func nested(_ value: Value, what: String) throws(EdgeBERTError) -> ProtoReader {
        guard case .bytes(let b) = value else { throw .data(what, "expected an embedded message, found another wire type") }
        return try ProtoReader(b, what: what, depth: depth + 1)
    }

    /// The next field, or nil at the end of the message.
    mutating func next() throws(EdgeBERTError) -> (number: Int, value: Value)? {
        guard offset < bytes.count else { return nil }
        let at = offset
        let key = try varint()
        let number = key >> 3
        guard number >= 1, number <= 0x1FFF_FFFF else {
            throw .data(what, "field number \(number) at byte \(at) is outside 1...536870911: not protobuf, or corrupt")
        }
        switch key & 7 {
        case 0: return (Int(number), .varint(try varint()))
        case 1:
            try need(8, at: at)
            defer { offset += 8 }
            return (Int(number), .fixed64(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.count - offset) else {
                throw .data(what, "field \(number) at byte \(at) claims \(length) bytes, \(bytes.count - offset) are left: truncated?")
            }
            let n = Int(length)
            defer { offset += n }
            return (Int(number), .bytes(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])))
        case 5:
            try need(4, at: at)
            defer { offset += 4 }
            return (Int(number), .fixed32(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
        default:
            throw .data(what, "field \(number) at byte \(at) has wire type \(key & 7) (groups and unknown types are not read)")
        }
    }

    private func need(_ n: Int, at: Int) throws(EdgeBERTError) {
        guard offset <= bytes.count, n <= bytes.count - offset else {
            throw .data(what, "the field at byte \(at) runs past the end of the message: truncated?")
        }
    }

    /// A base-128 varint of at most 10 bytes whose value fits 64 bits.
    private mutating func varint() throws(EdgeBERTError) -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        for i in 0..<10 {
            guard offset < bytes.count else { throw .data(what, "a varint at byte \(start) runs past the end: truncated?") }
            let b = bytes[offset]
            offset += 1
            if i == 9 && b > 1 { throw .data(what, "the varint at byte \(start) does not fit 64 bits") }
            result |= UInt64(b & 0x7F) << UInt64(7 * i)
            if b < 0x80 { return result }
        }
        throw .data(what, "the varint at byte \(start) does not fit 64 bits")
    }

    // MARK: Typed values

    /// A string field: UTF-8 (invalid sequences become U+FFFD).
    static func string(_ v: Value, what: String) throws(EdgeBERTError) -> String {
        guard case .bytes(let b) = v else { throw .data(what, "expected a string, found another wire type") }
        return String(decoding: b, as: UTF8.self)
    }

    /// An int64 / int32 / enum field (negative values arrive as 10-byte varints).
    static func int64(_ v: Value, what: String) throws(EdgeBERTError) -> Int64 {
        guard case .varint(let u) = v else { throw .data(what, "expected an integer, found another wire type") }
        return Int64(bitPattern: u)
    }

    /// A float field.
    static func float(_ v: Value, what: String) throws(EdgeBERTError) -> Float {
        guard case .fixed32(let u) = v else { throw .data(what, "expected a float, found another wire type") }
        return Float(bitPattern: u)
    }

    /// Appends a repeated int64 field's values, packed (one length-delimited run) or not.
    static func appendInt64s(_ v: Value, to out: inout [Int64], what: String) throws(EdgeBERTError) {
        switch v {
        case .varint(let u): out.append(Int64(bitPattern: u))
        case .bytes(let b):
            var r = try ProtoReader(b, what: what)
            while r.offset < b.count { out.append(Int64(bitPattern: try r.varint())) }
        default: throw .data(what, "expected integers, found another wire type")
        }
    }

    /// Appends a repeated float field's values, packed or not.
    static func appendFloats(_ v: Value, to out: inout [Float], what: String) throws(EdgeBERTError) {
        switch v {
        case .fixed32(let u): out.append(Float(bitPattern: u))
        case .bytes(let b):
            guard b.count % 4 == 0 else { throw .data(what, "packed floats of \(b.count) bytes: not a multiple of 4") }
            out.reserveCapacity(out.count + b.count / 4)
            for i in stride(from: 0, to: b.count, by: 4) {
                out.append(Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: i, as: UInt32.self))))
            }
        default: throw .data(what, "expected floats, found another wire type")
        }
    }
}
