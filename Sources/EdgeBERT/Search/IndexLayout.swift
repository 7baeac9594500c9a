/// The search index file (little-endian). A 4,096-byte header, then segments of at most
/// `IndexLayout.block` vectors each, appended one after another:
///
///     header  0    magic "EBINDEX1"        8  version u32 (1)          12 vector kind u32 (1 int8, 2 int8 + f32)
///             16   dims u32                20 kp = roundup(dims, 4)    24 model checksum u32 (its header's CRC)
///             28   model meta checksum u32 32 model hidden u32         36 block u32 (4096)
///             40   model path length u32   44..64 zero
///             64   the model's path when indexed (1,024 bytes, zero padded)
///             1088 commit slot A, 1152 commit slot B (64 bytes each):
///                  0 sequence u64   8 vectors u64   16 segments u64   24 end u64 (bytes in use)
///                  32 input lines read u64   40 CRC32C of header [0, 1088) + this slot [0, 40) u32
///     segment 0    magic "EBSEGMNT"        8  count u32 (1...block)    12 flags u32 (bit 0: f32 vectors)
///             16   text bytes u64          24 segment bytes u64 (64-aligned, this header included)
///             32   CRC32C of [64, segment bytes) u32    36 CRC32C of [0, 36) u32    40..64 zero
///             64   vectors int8, packed as the GEMM's weights: [np/16][kp/4][16][4], np = roundup(count, 16)
///             then scales f32 [np] (symmetric, max|v| / 127), column sums i32 [np], f32 vectors
///             [count][dims] (flag), line numbers u64 [count] (1-based, over every `index` run),
///             text offsets u64 [count + 1] into the text bytes, the texts (UTF-8); each section
///             64-byte aligned.
///
/// Committing: a segment is written past the committed end and synced, then the older slot is
/// rewritten with the next sequence number and synced. A reader takes the valid slot with the
/// higher sequence; bytes past its end (an append cut short) are ignored and later overwritten.
/// The vectors are unit length: scores are cosine similarities.
enum IndexLayout {
    static let magic: [UInt8] = Array("EBINDEX1".utf8)
    static let segmentMagic: [UInt8] = Array("EBSEGMNT".utf8)
    static let version: UInt32 = 1
    static let headerBytes = 4096
    static let staticBytes = 1088
    static let pathBytes = 1024
    static let slotOffsets = [1088, 1152]
    static let slotBytes = 64
    static let segmentHeaderBytes = 64
    /// Vectors per segment at most: one GEMM call's panels and the writer's memory.
    static let block = 4096

    /// Byte offsets of a segment's sections, from its header's fields.
    struct Sections: Equatable {
        let count: Int, dims: Int, kp: Int, hasF32: Bool, textBytes: Int
        var np: Int { roundUp(count, 16) }
        var packed: Int { IndexLayout.segmentHeaderBytes }
        var scales: Int { roundUp(packed + np * kp, 64) }
        var colsums: Int { roundUp(scales + 4 * np, 64) }
        var floats: Int { roundUp(colsums + 4 * np, 64) }
        var lines: Int { roundUp(floats + (hasF32 ? 4 * count * dims : 0), 64) }
        var textOffsets: Int { roundUp(lines + 8 * count, 64) }
        var texts: Int { roundUp(textOffsets + 8 * (count + 1), 64) }
        var total: Int { roundUp(texts + textBytes, 64) }
    }
}

/// The header's fixed fields: what vectors the index holds and which model made them.
public struct IndexIdentity: Equatable, Sendable {
    /// Floats per vector.
    public var dims: Int
    /// True when the index keeps f32 vectors beside the int8 ones (to re-score the best).
    public var keepsFloat: Bool
    /// The model file's checksum and header checksum: the model's identity.
    public var modelChecksum: UInt32
    public var modelMetaChecksum: UInt32
    /// The model's hidden size (for messages).
    public var modelHidden: Int
    /// The model's path when the index was made.
    public var modelPath: String

    /// The identity of vectors from `embedder`'s model at its output width.
    public init(embedder: Embedder, keepsFloat: Bool) {
        dims = embedder.dimension
        self.keepsFloat = keepsFloat
        modelChecksum = embedder.model.header.checksum
        modelMetaChecksum = embedder.model.header.metaChecksum
        modelHidden = embedder.config.hidden
        modelPath = realPath(embedder.model.path) ?? embedder.model.path
    }

    init(dims: Int, keepsFloat: Bool, modelChecksum: UInt32, modelMetaChecksum: UInt32, modelHidden: Int, modelPath: String) {
        self.dims = dims
        self.keepsFloat = keepsFloat
        self.modelChecksum = modelChecksum
        self.modelMetaChecksum = modelMetaChecksum
        self.modelHidden = modelHidden
        self.modelPath = modelPath
    }

    var kp: Int { roundUp(dims, 4) }

    /// The first 1,088 header bytes.
    func encode() -> [UInt8] {
        var w = ByteWriter()
        w.bytes.append(contentsOf: IndexLayout.magic)
        w.u32(IndexLayout.version)
        w.u32(keepsFloat ? 2 : 1)
        w.u32(UInt32(dims))
        w.u32(UInt32(kp))
        w.u32(modelChecksum)
        w.u32(modelMetaChecksum)
        w.u32(UInt32(modelHidden))
        w.u32(UInt32(IndexLayout.block))
        let path = Array(modelPath.utf8.prefix(IndexLayout.pathBytes))
        w.u32(UInt32(path.count))
        w.zeros(64 - w.bytes.count)
        w.bytes.append(contentsOf: path)
        w.zeros(IndexLayout.staticBytes - w.bytes.count)
        return w.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(EdgeBERTError) -> IndexIdentity {
        guard bytes.count >= IndexLayout.headerBytes else {
            throw .data(path, "not an EdgeBERT index: \(bytes.count) bytes is shorter than the \(IndexLayout.headerBytes)-byte header")
        }
        guard Array(bytes[0..<8]) == IndexLayout.magic else {
            throw .data(path, "not an EdgeBERT index (bad magic); make one with `edgebert index`")
        }
        var r = ByteReader(bytes, at: 8, what: path)
        let version = try r.u32()
        guard version == IndexLayout.version else {
            throw .data(path, "index format version \(version), this edgebert reads version \(IndexLayout.version); re-run `edgebert index`")
        }
        let kind = try r.u32(), dims = Int(try r.u32()), kp = Int(try r.u32())
        let sum = try r.u32(), meta = try r.u32(), hidden = Int(try r.u32()), block = Int(try r.u32())
        let pathLength = Int(try r.u32())
        guard kind == 1 || kind == 2 else { throw .data(path, "unknown vector kind \(kind) (the index is corrupt)") }
        guard (1...65536).contains(dims), kp == roundUp(dims, 4), (1...65536).contains(hidden), block == IndexLayout.block,
              pathLength <= IndexLayout.pathBytes else {
            throw .data(path, "the index header is corrupt (dims \(dims), kp \(kp), block \(block))")
        }
        let modelPath = String(decoding: bytes[64..<(64 + pathLength)], as: UTF8.self)
        return IndexIdentity(dims: dims, keepsFloat: kind == 2, modelChecksum: sum, modelMetaChecksum: meta,
                             modelHidden: hidden, modelPath: modelPath)
    }
}

/// One commit slot: how much of the file is the index.
struct IndexCommit: Equatable {
    var sequence: UInt64 = 0
    var vectors: UInt64 = 0
    var segments: UInt64 = 0
    var end: UInt64 = UInt64(IndexLayout.headerBytes)
    var lines: UInt64 = 0

    /// The slot's 64 bytes, its CRC covering the header's fixed part too.
    func encode(header: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.u64(sequence); w.u64(vectors); w.u64(segments); w.u64(end); w.u64(lines)
        let crc = w.bytes.withUnsafeBytes { s in header.withUnsafeBytes { h in Checksum.crc32c(s, continuing: Checksum.crc32c(h)) } }
        w.u32(crc)
        w.zeros(IndexLayout.slotBytes - w.bytes.count)
        return w.bytes
    }

    /// The valid slot with the higher sequence, nil when neither is valid.
    static func newest(_ bytes: UnsafeRawBufferPointer) -> IndexCommit? {
        let header = UnsafeRawBufferPointer(rebasing: bytes[0..<IndexLayout.staticBytes])
        var best: IndexCommit?
        for at in IndexLayout.slotOffsets {
            var r = ByteReader(bytes, at: at, what: "")
            guard let s = try? r.u64(), let v = try? r.u64(), let g = try? r.u64(), let e = try? r.u64(),
                  let l = try? r.u64(), let stored = try? r.u32() else { continue }
            let crc = Checksum.crc32c(UnsafeRawBufferPointer(rebasing: bytes[at..<(at + 40)]), continuing: Checksum.crc32c(header))
            guard crc == stored, s > 0 else { continue }
            let c = IndexCommit(sequence: s, vectors: v, segments: g, end: e, lines: l)
            if best == nil || c.sequence > best!.sequence { best = c }
        }
        return best
    }
}

/// A segment's 64-byte header.
struct SegmentHeader: Equatable {
    var count: Int
    var hasF32: Bool
    var textBytes: Int
    var bytes: Int
    var dataCRC: UInt32

    func encode() -> [UInt8] {
        var w = ByteWriter()
        w.bytes.append(contentsOf: IndexLayout.segmentMagic)
        w.u32(UInt32(count)); w.u32(hasF32 ? 1 : 0); w.u64(UInt64(textBytes)); w.u64(UInt64(bytes)); w.u32(dataCRC)
        let crc = w.bytes.withUnsafeBytes { Checksum.crc32c($0) }
        w.u32(crc)
        w.zeros(IndexLayout.segmentHeaderBytes - w.bytes.count)
        return w.bytes
    }

    /// The segment header at `offset`, checked: magic, its own CRC, and that the segment (whose
    /// sections follow from count, dims and text bytes) ends within `limit`.
    static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int, identity: IndexIdentity,
                       path: String) throws(EdgeBERTError) -> SegmentHeader {
        guard offset <= limit, limit - offset >= IndexLayout.segmentHeaderBytes else {
            throw .data(path, "segment at offset \(offset) runs past the index's end (\(limit) bytes): truncated")
        }
        guard Array(bytes[offset..<(offset + 8)]) == IndexLayout.segmentMagic else {
            throw .data(path, "segment at offset \(offset) has a bad magic: the index is corrupt")
        }
        var r = ByteReader(bytes, at: offset + 8, what: path)
        let count = Int(try r.u32()), flags = try r.u32(), text = try r.u64(), size = try r.u64(), data = try r.u32()
        let stored = try r.u32()
        let crc = Checksum.crc32c(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 36)]))
        guard crc == stored else { throw .data(path, "segment at offset \(offset): header checksum mismatch: the index is corrupt") }
        guard (1...IndexLayout.block).contains(count), flags <= 1, (flags == 1) == identity.keepsFloat,
              text <= UInt64(limit), size <= UInt64(limit - offset) else {
            throw .data(path, "segment at offset \(offset) does not fit the index (count \(count), \(size) bytes): truncated or corrupt")
        }
        let h = SegmentHeader(count: count, hasF32: flags == 1, textBytes: Int(text), bytes: Int(size), dataCRC: data)
        guard h.sections(identity).total == h.bytes else {
            throw .data(path, "segment at offset \(offset): its size does not match its contents: the index is corrupt")
        }
        return h
    }

    func sections(_ id: IndexIdentity) -> IndexLayout.Sections {
        IndexLayout.Sections(count: count, dims: id.dims, kp: id.kp, hasF32: hasF32, textBytes: textBytes)
    }
}
