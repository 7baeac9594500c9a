/// A stored tensor seen in place: a pointer into the mapped file, no copy.
struct TensorView: @unchecked Sendable {
    let entry: TensorEntry
    let base: UnsafeRawPointer

    var name: String { entry.name }
    var shape: [Int] { entry.shape }
    var dtype: DType { entry.dtype }

    var floats: UnsafePointer<Float> { base.assumingMemoryBound(to: Float.self) }
    var int8s: UnsafePointer<Int8> { base.assumingMemoryBound(to: Int8.self) }
    var int32s: UnsafePointer<Int32> { base.assumingMemoryBound(to: Int32.self) }
}

/// A model file opened for use: mapped read-only, header, table and vocabulary validated.
/// Every tensor lies inside the file, 64-byte aligned, with a length that matches its dtype and
/// shape; otherwise opening fails with an error naming the tensor.
public final class ModelFile: @unchecked Sendable {
    /// The path the file was opened from.
    public let path: String
    /// The read-only mapping of the whole file.
    public let file: MappedFile
    /// The validated header.
    public let header: ModelHeader
    /// The tensor table, in file order.
    public let entries: [TensorEntry]
    /// The WordPiece vocabulary, by id.
    public let vocab: [String]
    private let index: [String: Int]

    /// The model's description (from the header).
    public var config: ModelConfig { header.config }

    /// Maps and validates the file: header and table checksum, every offset, length and count; an error names what is wrong.
    public init(path: String) throws(EdgeBERTError) {
        self.path = path
        file = try MappedFile(path: path)
        let bytes = file.bytes
        header = try ModelHeader.decode(bytes, path: path)
        let size = bytes.count
        func check(_ ok: Bool, _ why: @autoclosure () -> String) throws(EdgeBERTError) {
            if !ok { throw .data(path, why()) }
        }
        // Every region as `offset <= size && length <= size - offset`: no sum can overflow, and
        // no error message does arithmetic on what the file says.
        func inside(_ offset: UInt64, _ length: UInt64) -> Bool {
            offset <= UInt64(size) && length <= UInt64(size) - offset
        }
        let h = header
        try check(h.tensorCount <= 100_000, "tensor count \(h.tensorCount) is not plausible")
        let tableBytes = UInt64(h.tensorCount) * UInt64(TensorEntry.size)
        try check(h.tableOffset >= UInt64(ModelHeader.size) && inside(h.tableOffset, tableBytes),
                  "tensor table of \(h.tensorCount) entries at offset \(h.tableOffset) runs past the end of the file (\(size) bytes): truncated?")
        let tableEnd = h.tableOffset + tableBytes
        try check(h.vocabOffset >= tableEnd && inside(h.vocabOffset, h.vocabBytes),
                  "vocabulary of \(h.vocabBytes) bytes at offset \(h.vocabOffset) runs past the end of the file (\(size) bytes): truncated?")
        try check(h.dataOffset >= h.vocabOffset && h.dataOffset - h.vocabOffset >= h.vocabBytes && inside(h.dataOffset, h.dataBytes),
                  "tensor data of \(h.dataBytes) bytes at offset \(h.dataOffset) runs past the end of the file (\(size) bytes): truncated?")
        // A vocabulary of n tokens needs at least n - 1 separators: checked before any reservation.
        try check(UInt64(h.vocabCount) == UInt64(h.config.vocabSize) && UInt64(h.vocabCount) <= h.vocabBytes + 1,
                  "the header's vocabulary count \(h.vocabCount) does not match the config's \(h.config.vocabSize) or the \(h.vocabBytes) vocabulary bytes")
        let dataStart = Int(h.dataOffset), dataEnd = Int(h.dataOffset + h.dataBytes)
        var r = ByteReader(bytes, at: Int(h.tableOffset), what: path)
        var entries: [TensorEntry] = []
        var index: [String: Int] = [:]
        entries.reserveCapacity(Int(h.tensorCount))
        for _ in 0..<Int(h.tensorCount) {
            let e = try TensorEntry.decode(&r)
            let expected = e.dtype.byteCount(shape: e.shape)
            try check(expected == e.length, "tensor \(e.name): \(e.length) bytes stored, its shape \(e.shape) needs \(expected)")
            try check(e.offset % ModelWriter.alignment == 0, "tensor \(e.name): offset \(e.offset) is not 64-byte aligned")
            try check(e.offset >= dataStart && e.offset <= dataEnd && e.length <= dataEnd - e.offset,
                      "tensor \(e.name): \(e.length) bytes at offset \(e.offset) lie outside the data region (\(dataStart)..<\(dataEnd)): truncated?")
            try check(index[e.name] == nil, "tensor \(e.name) appears twice")
            index[e.name] = entries.count
            entries.append(e)
        }
        self.entries = entries
        self.index = index
        let blob = UnsafeRawBufferPointer(rebasing: bytes[Int(h.vocabOffset)..<(Int(h.vocabOffset) + Int(h.vocabBytes))])
        // Count the tokens before splitting: a blob of newlines must not become millions of slices.
        var separators = 0
        for b in blob where b == 0x0A { separators += 1 }
        try check(separators + 1 == Int(h.vocabCount), "vocabulary holds \(separators + 1) tokens, the header says \(h.vocabCount)")
        var vocab: [String] = []
        vocab.reserveCapacity(Int(h.vocabCount))
        for piece in blob.split(separator: 0x0A, omittingEmptySubsequences: false) {
            vocab.append(String(decoding: piece, as: UTF8.self))
        }
        try check(vocab.count == Int(h.vocabCount), "vocabulary holds \(vocab.count) tokens, the header says \(h.vocabCount)")
        self.vocab = vocab
    }

    /// The tensor `name`, checked against the dtype(s) and shape the caller expects.
    func tensor(_ name: String, _ dtypes: [DType], _ shape: [Int]) throws(EdgeBERTError) -> TensorView {
        guard let i = index[name] else { throw .data(path, "tensor \(name) is missing") }
        let e = entries[i]
        guard dtypes.contains(e.dtype) else {
            throw .data(path, "tensor \(name) is \(e.dtype), expected \(dtypes.map(\.description).joined(separator: " or "))")
        }
        guard e.shape == shape else { throw .data(path, "tensor \(name) has shape \(e.shape), the config implies \(shape)") }
        return TensorView(entry: e, base: file.bytes.baseAddress! + e.offset)
    }

    /// True when the file holds a tensor of that name.
    public func has(_ name: String) -> Bool { index[name] != nil }

    /// The table row of a tensor, or nil.
    public func entry(_ name: String) -> TensorEntry? { index[name].map { entries[$0] } }

    /// Recomputes the CRC32C over everything after the first 16 bytes.
    public func verify() throws(EdgeBERTError) {
        let actual = Checksum.crc32c(UnsafeRawBufferPointer(rebasing: file.bytes[ModelHeader.checkedFrom...]))
        guard actual == header.checksum else {
            throw .data(path, "checksum mismatch (stored \(hex(header.checksum)), computed \(hex(actual))): the file is corrupt")
        }
    }
}

func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
}
