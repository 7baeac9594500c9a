#if canImport(Glibc)
import Glibc
#endif

/// Streams vectors and their texts into an index file (layout: `IndexLayout`), a block of 4,096
/// at a time, in memory that does not grow with the input:
/// - a new index goes through a temporary file, synced and renamed at `finish()`: nothing is
///   left at the path if the process stops first;
/// - `append` writes segments past the committed end of an existing index and commits them with
///   one slot write at `finish()`: an append cut short leaves the index as it was.
public final class IndexWriter {
    /// The index path.
    public let path: String
    /// The model and vectors the index holds.
    public let identity: IndexIdentity
    /// Vectors committed before this writer plus those added.
    public var count: Int { Int(committed.vectors) + written + filled }
    /// Line numbers given to `add` are offset by this (the lines of earlier runs).
    public let lineBase: Int

    private enum Target { case fresh(OutputFile), existing(Int32) }
    private let target: Target
    private var committed: IndexCommit
    private var end: Int          // where the next segment goes
    private var written = 0       // vectors in segments written by this writer
    private var segments = 0
    private let header: [UInt8]

    // The block being filled.
    private var filled = 0
    private var floats: [Float]       // [block][dims] unit vectors
    private var lines: [UInt64]       // [block]
    private var textEnds: [UInt64]    // [block] end of each text in `texts`
    private var texts: [UInt8] = []
    private var segment: [UInt8] = [] // one segment's bytes, reused

    /// Creates `path` (replacing it at `finish`), or opens it to append (`append`: it must exist,
    /// hold this identity and not be appended to by another process).
    public init(path: String, identity: IndexIdentity, append: Bool, protecting: [String] = []) throws(EdgeBERTError) {
        self.path = path
        self.identity = identity
        header = identity.encode()
        let block = IndexLayout.block, dims = identity.dims
        floats = [Float](repeating: 0, count: block * dims)
        lines = [UInt64](repeating: 0, count: block)
        textEnds = [UInt64](repeating: 0, count: block)
        if append {
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw systemError(path, "cannot open the index to append") }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                close(fd)
                throw .data(path, "another process is appending to this index")
            }
            do throws(EdgeBERTError) {
                let (found, commit) = try Self.readHead(fd, path: path)
                guard found == identity else { throw Self.mismatch(found, identity, path: path) }
                committed = commit
            } catch {
                close(fd)
                throw error
            }
            end = Int(committed.end)
            // Bytes past the committed end are an append that was cut short: dropped.
            guard ftruncate(fd, off_t(end)) == 0 else { let e = systemError(path, "cannot truncate"); close(fd); throw e }
            target = .existing(fd)
        } else {
            let out = try OutputFile(path: path, protecting: protecting)
            guard !out.inPlace && out.isSeekable else { throw .usage(path, "an index must be a regular file") }
            try out.write([UInt8](repeating: 0, count: IndexLayout.headerBytes))
            committed = IndexCommit()
            end = IndexLayout.headerBytes
            target = .fresh(out)
        }
        lineBase = Int(committed.lines)
    }

    deinit {
        if case .existing(let fd) = target { close(fd) }
    }

    /// The header and newest commit of an existing index file.
    private static func readHead(_ fd: Int32, path: String) throws(EdgeBERTError) -> (IndexIdentity, IndexCommit) {
        var head = [UInt8](repeating: 0, count: IndexLayout.headerBytes)
        let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { throw systemError(path, "cannot read") }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw systemError(path, "cannot stat") }
        let result = head.withUnsafeBytes { (b: UnsafeRawBufferPointer) -> Result<(IndexIdentity, IndexCommit), EdgeBERTError> in
            do throws(EdgeBERTError) {
                let id = try IndexIdentity.decode(UnsafeRawBufferPointer(rebasing: b[0..<n]), path: path)
                guard let c = IndexCommit.newest(b) else { throw .data(path, "no valid commit record: the index is corrupt") }
                guard c.end <= UInt64(st.st_size) else {
                    throw .data(path, "the index is \(st.st_size) bytes, its commit record says \(c.end): truncated")
                }
                guard c.end >= UInt64(IndexLayout.headerBytes) else { throw .data(path, "the commit record ends inside the header: corrupt") }
                guard c.lines >= c.vectors, c.lines < (1 << 53) else {
                    throw .data(path, "the commit record is not plausible (\(c.vectors) vectors, \(c.lines) lines): corrupt")
                }
                return .success((id, c))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    static func mismatch(_ found: IndexIdentity, _ wanted: IndexIdentity, path: String) -> EdgeBERTError {
        if found.modelChecksum != wanted.modelChecksum || found.modelMetaChecksum != wanted.modelMetaChecksum {
            return .data(path, "the index was made by another model (\(found.modelPath)); use that model or make a new index")
        }
        if found.dims != wanted.dims { return .data(path, "the index holds \(found.dims)-dimensional vectors, these are \(wanted.dims) (--dims)") }
        return .data(path, "the index keeps \(found.keepsFloat ? "f32" : "int8") vectors, not \(wanted.keepsFloat ? "f32" : "int8") (--vectors)")
    }

    /// Adds one vector ([dims], normalised here) with its text and its 1-based line number in
    /// this run's input.
    public func add(_ vector: UnsafeBufferPointer<Float>, text: String, line: Int) throws(EdgeBERTError) {
        let D = identity.dims
        precondition(vector.count == D, "vector of \(vector.count) floats for a \(D)-dimensional index")
        var ss: Float = 0
        for x in vector { ss += x * x }
        let inv: Float = ss > 0 ? 1 / ss.squareRoot() : 0
        for i in 0..<D { floats[filled * D + i] = vector[i] * inv }
        lines[filled] = UInt64(lineBase + line)
        texts.append(contentsOf: text.utf8)
        textEnds[filled] = UInt64(texts.count)
        filled += 1
        if filled == IndexLayout.block { try flush() }
    }

    /// Writes the block being filled as one segment past the end: its vectors quantised as the
    /// converter quantises a weight matrix (symmetric int8 per row, packed for the GEMM).
    private func flush() throws(EdgeBERTError) {
        guard filled > 0 else { return }
        let id = identity, D = id.dims
        let q = ChannelQuantizer.quantize(Array(floats[0..<(filled * D)]), n: filled, k: D)
        let sec = IndexLayout.Sections(count: filled, dims: D, kp: id.kp, hasF32: id.keepsFloat, textBytes: texts.count)
        segment.removeAll(keepingCapacity: true)
        segment.append(contentsOf: repeatElement(0, count: sec.total))
        segment.withUnsafeMutableBytes { s in
            let base = s.baseAddress!
            q.packed.withUnsafeBytes { base.advanced(by: sec.packed).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            q.scales.withUnsafeBytes { base.advanced(by: sec.scales).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            q.colsums.withUnsafeBytes { base.advanced(by: sec.colsums).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            if id.keepsFloat {
                floats.withUnsafeBytes { f in s.baseAddress!.advanced(by: sec.floats).copyMemory(from: f.baseAddress!, byteCount: 4 * filled * D) }
            }
            let ln = base.advanced(by: sec.lines).assumingMemoryBound(to: UInt64.self)
            let off = base.advanced(by: sec.textOffsets).assumingMemoryBound(to: UInt64.self)
            off[0] = 0
            for v in 0..<filled {
                ln[v] = lines[v].littleEndian
                off[v + 1] = textEnds[v].littleEndian
            }
            texts.withUnsafeBytes { t in
                if t.count > 0 { s.baseAddress!.advanced(by: sec.texts).copyMemory(from: t.baseAddress!, byteCount: t.count) }
            }
            let crc = Checksum.crc32c(UnsafeRawBufferPointer(rebasing: s[IndexLayout.segmentHeaderBytes...]))
            let h = SegmentHeader(count: filled, hasF32: id.keepsFloat, textBytes: texts.count, bytes: sec.total, dataCRC: crc).encode()
            for (i, b) in h.enumerated() { s[i] = b }
        }
        try write(segment, at: end)
        end += sec.total
        written += filled
        segments += 1
        filled = 0
        texts.removeAll(keepingCapacity: true)
    }

    private func write(_ bytes: [UInt8], at offset: Int) throws(EdgeBERTError) {
        switch target {
        case .fresh(let out): try out.write(bytes, at: offset)
        case .existing(let fd):
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw systemError(path, "cannot write") }
                done += n
            }
        }
    }

    /// Writes the last block and commits: `linesRead` input lines were read in this run (the
    /// next run numbers its lines after them). A new index is synced and renamed into place; an
    /// appended one has its segments synced, then its commit slot written and synced.
    public func finish(linesRead: Int) throws(EdgeBERTError) {
        try flush()
        var c = committed
        c.sequence += 1
        c.vectors += UInt64(written)
        c.segments += UInt64(segments)
        c.end = UInt64(end)
        c.lines += UInt64(linesRead)
        let slot = c.encode(header: header)
        let slotAt = IndexLayout.slotOffsets[Int(c.sequence % 2)]
        switch target {
        case .fresh(let out):
            try out.write(header, at: 0)
            try out.write(slot, at: slotAt)
            try out.commit()
        case .existing(let fd):
            guard fsync(fd) == 0 else { throw systemError(path, "cannot sync") }
            try write(slot, at: slotAt)
            guard fsync(fd) == 0 else { throw systemError(path, "cannot sync") }
        }
        committed = c
        written = 0
        segments = 0
    }
}
