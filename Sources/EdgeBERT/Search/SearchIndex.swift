#if canImport(Glibc)
import Glibc
#endif
import CKernels

/// One search result.
public struct SearchHit: Sendable, Equatable {
    /// Cosine similarity of the query and the text's vector (from the f32 vectors when the index
    /// keeps them, else from the int8 ones).
    public let score: Float
    /// The text's 1-based line number in the input of `index` (counting on over appends).
    public let line: Int
    /// The text as indexed.
    public let text: String
    /// The vector's 0-based position in the index.
    public let position: Int
}

/// An index file opened for search: mapped read-only, never read whole. Opening checks the
/// header, the newest valid commit and every segment header (bounds and checksums); a text's
/// offsets are checked when it is read. Immutable after opening: share it between threads. An
/// `index --append` while it is open adds past what it maps: it goes on answering from the
/// vectors committed when it was opened (reopen to see the new ones).
///
/// Search is exact over the int8 vectors: the queries are quantised as the encoder quantises its
/// activations and multiplied with the index's vectors, which are stored as the GEMM's packed
/// weights, on the same kernels. The best `max(4k, k + 32)` are then re-scored with the f32
/// query, against the f32 vectors when the index keeps them (exact cosine), else against the
/// int8 ones, and the top k of those returned.
public final class SearchIndex: @unchecked Sendable {
    /// The path opened.
    public let path: String
    /// The model and vectors the index holds.
    public let identity: IndexIdentity
    /// Vectors in the index.
    public let count: Int
    /// Input lines read by every `index` run (skipped lines included).
    public let linesRead: Int
    /// The kernel path the scan runs on.
    public let kernelName: String

    struct Segment { let offset: Int; let header: SegmentHeader; let sections: IndexLayout.Sections; let first: Int }
    let file: MappedFile
    let segments: [Segment]
    /// Bytes of the file the committed index spans (an append adds past them).
    let committedEnd: Int
    private let kernel: UnsafePointer<ek_kernel>

    /// Opens and checks `path`; `kernel` forces a kernel path as `Embedder.Options.kernel` does.
    public init(path: String, kernel: String? = nil) throws(EdgeBERTError) {
        self.path = path
        file = try MappedFile(path: path)
        let bytes = file.bytes
        identity = try IndexIdentity.decode(bytes, path: path)
        guard let commit = IndexCommit.newest(bytes) else { throw .data(path, "no valid commit record: the index is corrupt") }
        guard commit.end <= UInt64(bytes.count) else {
            throw .data(path, "the index is \(bytes.count) bytes, its commit record says \(commit.end): truncated")
        }
        guard commit.end >= UInt64(IndexLayout.headerBytes) else { throw .data(path, "the commit record ends inside the header: corrupt") }
        guard commit.segments <= commit.vectors, commit.vectors <= (commit.end - UInt64(IndexLayout.headerBytes)),
              commit.lines >= commit.vectors, commit.lines < (1 << 53) else {
            throw .data(path, "the commit record is not plausible (\(commit.vectors) vectors in \(commit.segments) segments, \(commit.lines) lines): corrupt")
        }
        let limit = Int(commit.end)
        var segments: [Segment] = []
        var offset = IndexLayout.headerBytes, total = 0
        for _ in 0..<Int(commit.segments) {
            let h = try SegmentHeader.decode(bytes, at: offset, limit: limit, identity: identity, path: path)
            segments.append(Segment(offset: offset, header: h, sections: h.sections(identity), first: total))
            total += h.count
            offset += h.bytes
        }
        guard total == Int(commit.vectors), offset == limit else {
            throw .data(path, "the segments hold \(total) vectors in \(offset) bytes, the commit record says \(commit.vectors) in \(limit): corrupt")
        }
        self.segments = segments
        committedEnd = limit
        count = total
        linesRead = Int(commit.lines)
        if let name = kernel ?? getenv("EDGEBERT_KERNEL").map({ String(cString: $0) }) {
            guard let k = ek_kernel_select(name) else { throw .usage("kernel", "\"\(name)\" is unknown or not supported by this CPU") }
            self.kernel = k
        } else {
            self.kernel = ek_kernel_select(nil)!
        }
        kernelName = String(cString: self.kernel.pointee.name)
    }

    /// Recomputes every segment's data checksum (reads the whole index).
    public func verify() throws(EdgeBERTError) {
        for s in segments {
            let data = UnsafeRawBufferPointer(rebasing: file.bytes[(s.offset + IndexLayout.segmentHeaderBytes)..<(s.offset + s.header.bytes)])
            guard Checksum.crc32c(data) == s.header.dataCRC else {
                throw .data(path, "segment at offset \(s.offset): checksum mismatch: the index is corrupt")
            }
        }
        try file.checkPrefixIntact(committedEnd, what: "the index")
    }

    /// The top `k` texts for each query: queries [m][dims] floats (normalised here). k must lie
    /// in 1...count.
    public func search(_ queries: UnsafeBufferPointer<Float>, count m: Int, k: Int) throws(EdgeBERTError) -> [[SearchHit]] {
        let D = identity.dims, kp = identity.kp
        precondition(queries.count >= m * D, "queries shorter than count x dims")
        guard count > 0 else { throw .data(path, "the index is empty") }
        guard (1...count).contains(k) else { throw .usage("k", "\(k) is outside 1...\(count), the vectors in the index") }
        let pool = min(count, max(4 * k, k + 32))
        let group = 8
        var unit = [Float](repeating: 0, count: group * D)        // [group][D] normalised queries
        var qa = [Int8](repeating: 0, count: group * kp)          // [group][kp] quantised
        // Row scales and minimums of the quantised queries: at stable addresses for the kernel.
        let aScale = UnsafeMutablePointer<Float>.allocate(capacity: group), aMin = UnsafeMutablePointer<Float>.allocate(capacity: group)
        defer { aScale.deallocate(); aMin.deallocate() }
        var scores = [Float](repeating: 0, count: group * IndexLayout.block)  // [group][block]
        var heaps = (0..<group).map { _ in TopK(capacity: pool) }
        var out: [[SearchHit]] = []
        let k0 = kernel.pointee
        var first = 0
        while first < m {
            let g = min(group, m - first)
            for r in 0..<g {
                var ss: Float = 0
                for i in 0..<D { let x = queries[(first + r) * D + i]; unit[r * D + i] = x; ss += x * x }
                let inv: Float = ss > 0 ? 1 / ss.squareRoot() : 0
                for i in 0..<D { unit[r * D + i] *= inv }
                heaps[r].reset()
            }
            ek_quantize_rows_at(k0.level, unit, Int64(D), Int32(g), Int32(D), Int32(kp), nil, &qa, Int64(kp), aScale, aMin, k0.unsigned_a)
            for s in segments {
                let base = file.bytes.baseAddress! + s.offset
                let sec = s.sections
                qa.withUnsafeBufferPointer { a in
                    scores.withUnsafeMutableBufferPointer { c in
                        var p = ek_gemm_params()
                        p.a = a.baseAddress
                        p.b = (base + sec.packed).assumingMemoryBound(to: Int8.self)
                        p.a_scale = UnsafePointer(aScale)
                        p.a_min = UnsafePointer(aMin)   // allocated above: no temporary
                        p.b_scale = (base + sec.scales).assumingMemoryBound(to: Float.self)
                        p.b_colsum = (base + sec.colsums).assumingMemoryBound(to: Int32.self)
                        p.c = c.baseAddress
                        p.lda = Int64(kp)
                        p.ldc = Int64(IndexLayout.block)
                        p.m = Int32(g)
                        p.n = Int32(sec.count)
                        p.kp = Int32(kp)
                        p.panel_begin = 0
                        p.panel_end = Int32(sec.np / 16)
                        withUnsafePointer(to: &p) { k0.gemm($0) }
                    }
                }
                for r in 0..<g {
                    let row = r * IndexLayout.block
                    var bar = heaps[r].threshold
                    for i in 0..<sec.count where scores[row + i] >= bar {
                        heaps[r].offer(scores[row + i], s.first + i)
                        bar = heaps[r].threshold
                    }
                }
            }
            for r in 0..<g {
                // The candidates re-scored with the f32 query: against the f32 vectors when the
                // index keeps them (exact), else against the int8 ones (no query rounding).
                let best = heaps[r].sorted().map { (rescore(unit, row: r, position: $0.position), $0.position) }
                    .sorted { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
                var hits: [SearchHit] = []
                for (score, position) in best.prefix(k) { hits.append(try hit(position, score: score)) }
                out.append(hits)
            }
            first += g
        }
        try file.checkPrefixIntact(committedEnd, what: "the index")
        return out
    }

    /// The segment holding vector `position` and its index in it.
    private func locate(_ position: Int) -> (Segment, Int) {
        var lo = 0, hi = segments.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if segments[mid].first <= position { lo = mid } else { hi = mid - 1 }
        }
        return (segments[lo], position - segments[lo].first)
    }

    /// dot(query row r of `unit`, vector `position`): its f32 copy when the index keeps one, else
    /// its int8 values (read from the packed panel) times its scale.
    private func rescore(_ unit: [Float], row r: Int, position: Int) -> Float {
        let (s, i) = locate(position)
        let D = identity.dims, base = file.bytes.baseAddress! + s.offset
        return unit.withUnsafeBufferPointer { u in
            let q = u.baseAddress! + r * D
            if identity.keepsFloat {
                return ek_dot_f32(q, (base + s.sections.floats).assumingMemoryBound(to: Float.self) + i * D, Int32(D))
            }
            // Packed byte (panel p, group g, lane j, t) = vector p*16 + j, dimension g*4 + t.
            let panel = (base + s.sections.packed).assumingMemoryBound(to: Int8.self) + (i / 16) * (identity.kp * 16) + (i % 16) * 4
            var dot: Float = 0
            for d in 0..<D { dot += q[d] * Float(panel[(d / 4) * 64 + d % 4]) }
            return dot * (base + s.sections.scales).assumingMemoryBound(to: Float.self)[i]
        }
    }

    /// The result for vector `position`: its line and text, offsets checked.
    func hit(_ position: Int, score: Float) throws(EdgeBERTError) -> SearchHit {
        let (s, i) = locate(position)
        let raw = UnsafeRawBufferPointer(rebasing: file.bytes[s.offset..<(s.offset + s.header.bytes)])
        let line = raw.loadUnaligned(fromByteOffset: s.sections.lines + 8 * i, as: UInt64.self).littleEndian
        let from = raw.loadUnaligned(fromByteOffset: s.sections.textOffsets + 8 * i, as: UInt64.self).littleEndian
        let to = raw.loadUnaligned(fromByteOffset: s.sections.textOffsets + 8 * (i + 1), as: UInt64.self).littleEndian
        guard from <= to, to <= UInt64(s.header.textBytes), line >= 1, line <= UInt64(linesRead) else {
            throw .data(path, "vector \(position): its line or text offsets are out of range: the index is corrupt")
        }
        let text = String(decoding: raw[(s.sections.texts + Int(from))..<(s.sections.texts + Int(to))], as: UTF8.self)
        return SearchHit(score: score, line: Int(line), text: text, position: position)
    }
}
