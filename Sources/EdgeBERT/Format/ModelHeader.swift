/// The fixed-size header at the start of a model file (256 bytes, little-endian).
///
///     0   magic "EDGEBERT"            8   format version u32     12  CRC32C of bytes [16, end) u32
///     16  header size u32 (256)       20  flags u32 (0)
///     24  vocab, hidden, layers, heads, intermediate, max positions, type vocab   7 x u32
///     52  layer-norm eps f32          56  activation u32
///     60  lowercase u8, strip accents u8 (0 no, 1 yes, 2 follow lowercase), CJK split u8, 0
///     64  pooling u32                 68  normalise u32           72  max sequence length u32
///     76  [CLS] [SEP] [PAD] [UNK] [MASK] ids  5 x u32
///     96  weight dtype u32            100 tensor count u32        104 tensor table offset u64
///     112 vocabulary offset u64       120 vocabulary bytes u64    128 vocabulary count u32, 0
///     136 data offset u64             144 data bytes u64
///     152 CRC32C of bytes [16, data offset) with these four bytes as zero: header, table and
///         vocabulary, checked at every open (the CRC at 12, over everything, by `inspect --verify`)
///     156..256 zero
public struct ModelHeader: Equatable, Sendable {
    static let magic: [UInt8] = Array("EDGEBERT".utf8)
    /// The format version this build reads and writes.
    public static let version: UInt32 = 2
    static let size = 256
    static let checksumOffset = 12
    static let checkedFrom = 16
    static let metaChecksumOffset = 152

    /// The model's description.
    public var config: ModelConfig
    /// How the dense weights are stored (int8 packed, or f32 for the float reference).
    public var weightDType: DType
    var tensorCount: UInt32 = 0
    var tableOffset: UInt64 = 0
    var vocabOffset: UInt64 = 0
    var vocabBytes: UInt64 = 0
    var vocabCount: UInt32 = 0
    var dataOffset: UInt64 = 0
    var dataBytes: UInt64 = 0
    /// CRC32C of every byte after the first 16 (checked by `ModelFile.verify`).
    public var checksum: UInt32 = 0
    /// CRC32C of the header, table and vocabulary (see the layout above).
    public var metaChecksum: UInt32 = 0

    /// A header for a new file (offsets and checksums filled in by the writer).
    public init(config: ModelConfig, weightDType: DType) {
        self.config = config
        self.weightDType = weightDType
    }

    func encode() -> [UInt8] {
        var w = ByteWriter()
        w.bytes.append(contentsOf: Self.magic)
        w.u32(Self.version)
        w.u32(checksum)
        w.u32(UInt32(Self.size))
        w.u32(0)
        let c = config
        for v in [c.vocabSize, c.hidden, c.layers, c.heads, c.intermediate, c.maxPositions, c.typeVocabSize] {
            w.u32(UInt32(v))
        }
        w.f32(c.layerNormEps)
        w.u32(c.activation.rawValue)
        w.u8(c.tokenizer.lowercase ? 1 : 0)
        w.u8(c.tokenizer.stripAccents.map { $0 ? 1 : 0 } ?? 2)
        w.u8(c.tokenizer.splitChinese ? 1 : 0)
        w.u8(0)
        w.u32(c.pooling.rawValue)
        w.u32(c.normalize ? 1 : 0)
        w.u32(UInt32(c.maxSequenceLength))
        for v in [c.special.cls, c.special.sep, c.special.pad, c.special.unk, c.special.mask] { w.u32(UInt32(v)) }
        w.u32(weightDType.rawValue)
        w.u32(tensorCount)
        w.u64(tableOffset)
        w.u64(vocabOffset)
        w.u64(vocabBytes)
        w.u32(vocabCount)
        w.u32(0)
        w.u64(dataOffset)
        w.u64(dataBytes)
        w.u32(metaChecksum)
        w.zeros(Self.size - w.bytes.count)
        return w.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(EdgeBERTError) -> ModelHeader {
        guard bytes.count >= size else {
            throw .data(path, "not an EdgeBERT model: \(bytes.count) bytes is shorter than the \(size)-byte header")
        }
        guard Array(bytes[0..<8]) == magic else {
            throw .data(path, "not an EdgeBERT model (bad magic); convert a Hugging Face folder with `edgebert quantize`")
        }
        var r = ByteReader(bytes, at: 8, what: path)
        let version = try r.u32()
        guard version == Self.version else {
            throw .data(path, "model format version \(version), this edgebert reads version \(Self.version); re-run `edgebert quantize`")
        }
        let checksum = try r.u32()
        let headerSize = try r.u32()
        guard headerSize == UInt32(size) else { throw .data(path, "header size \(headerSize), expected \(size)") }
        _ = try r.u32()
        var ints: [Int] = []
        for _ in 0..<7 { ints.append(Int(try r.u32())) }
        let eps = try r.f32()
        let actRaw = try r.u32()
        guard let activation = Activation(rawValue: actRaw) else { throw .data(path, "unknown activation code \(actRaw)") }
        let lower = try r.u8(), strip = try r.u8(), cjk = try r.u8()
        _ = try r.u8()
        let poolRaw = try r.u32()
        guard let pooling = Pooling(rawValue: poolRaw) else { throw .data(path, "unknown pooling code \(poolRaw)") }
        let normalize = try r.u32() != 0
        let maxSeq = Int(try r.u32())
        var special: [Int] = []
        for _ in 0..<5 { special.append(Int(try r.u32())) }
        let dtRaw = try r.u32()
        guard let dtype = DType(rawValue: dtRaw) else { throw .data(path, "unknown weight dtype \(dtRaw)") }
        let tokenizer = TokenizerOptions(lowercase: lower != 0, stripAccents: strip == 2 ? nil : strip != 0,
                                         splitChinese: cjk != 0)
        let config = ModelConfig(
            vocabSize: ints[0], hidden: ints[1], layers: ints[2], heads: ints[3], intermediate: ints[4],
            maxPositions: ints[5], typeVocabSize: ints[6], layerNormEps: eps, activation: activation,
            tokenizer: tokenizer, pooling: pooling, normalize: normalize, maxSequenceLength: maxSeq,
            special: SpecialTokens(cls: special[0], sep: special[1], pad: special[2], unk: special[3], mask: special[4]))
        var h = ModelHeader(config: config, weightDType: dtype)
        h.checksum = checksum
        h.tensorCount = try r.u32()
        h.tableOffset = try r.u64()
        h.vocabOffset = try r.u64()
        h.vocabBytes = try r.u64()
        h.vocabCount = try r.u32()
        _ = try r.u32()
        h.dataOffset = try r.u64()
        h.dataBytes = try r.u64()
        h.metaChecksum = try r.u32()
        guard h.dataOffset >= UInt64(size), h.dataOffset <= UInt64(bytes.count) else {
            throw .data(path, "data offset \(h.dataOffset) lies outside the file (\(bytes.count) bytes): truncated or corrupt")
        }
        let meta = metaCRC(bytes, dataOffset: Int(h.dataOffset))
        guard meta == h.metaChecksum else {
            throw .data(path, "header checksum mismatch (stored \(hex(h.metaChecksum)), computed \(hex(meta))): the file is corrupt")
        }
        try config.validate(path)
        return h
    }

    /// CRC32C of bytes [16, dataOffset) with the four bytes at `metaChecksumOffset` taken as zero.
    /// `dataOffset` must lie in [size, bytes.count].
    static func metaCRC(_ bytes: UnsafeRawBufferPointer, dataOffset: Int) -> UInt32 {
        let zero: [UInt8] = [0, 0, 0, 0]
        var crc = Checksum.crc32c(UnsafeRawBufferPointer(rebasing: bytes[checkedFrom..<metaChecksumOffset]))
        crc = zero.withUnsafeBytes { Checksum.crc32c($0, continuing: crc) }
        return Checksum.crc32c(UnsafeRawBufferPointer(rebasing: bytes[(metaChecksumOffset + 4)..<dataOffset]), continuing: crc)
    }
}
