import Foundation
import XCTest
@testable import EdgeBERT
import CKernels

private extension Error {
    var why: String { (self as? EdgeBERTError)?.why ?? "\(self)" }
}

/// The index file and the int8 search on synthetic vectors: recall against exact f32 cosine,
/// kernel paths against each other, append and its crash safety, hostile files.
final class SearchTests: XCTestCase {
    /// Deterministic normal numbers (SplitMix64 + Box-Muller).
    struct Normal {
        var state: UInt64
        mutating func uniform() -> Double {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return (Double((z ^ (z >> 31)) >> 11) + 0.5) / Double(1 << 53)
        }
        mutating func next() -> Float {
            Float((-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()))
        }
    }

    /// n vectors [n][dims] and `queries` more from the same distribution: `clusters` centres
    /// plus noise of the same size, as sentence embeddings bunch by topic (clusters 0: isotropic
    /// noise, the hardest case for a quantised scan).
    static func vectors(_ n: Int, queries: Int, dims: Int, clusters: Int, seed: UInt64) -> (data: [Float], queries: [Float]) {
        var g = Normal(state: seed)
        let centres = (0..<(clusters * dims)).map { _ in g.next() }
        func sample(_ count: Int) -> [Float] {
            var v = [Float](repeating: 0, count: count * dims)
            for i in 0..<count {
                let c = clusters > 0 ? Int(g.uniform() * Double(clusters)) : 0
                for d in 0..<dims { v[i * dims + d] = (clusters > 0 ? centres[c * dims + d] : 0) + g.next() }
            }
            return v
        }
        return (sample(n), sample(queries))
    }

    static func identity(dims: Int, keepsFloat: Bool, model: UInt32 = 0x1234) -> IndexIdentity {
        IndexIdentity(dims: dims, keepsFloat: keepsFloat, modelChecksum: model, modelMetaChecksum: 0x5678, modelHidden: dims, modelPath: "/models/synthetic.ebm")
    }

    static func write(_ path: String, _ v: [Float], dims: Int, keepsFloat: Bool, append: Bool = false, lineBase: Int = 0) throws {
        let w = try IndexWriter(path: path, identity: identity(dims: dims, keepsFloat: keepsFloat), append: append)
        let n = v.count / dims
        try v.withUnsafeBufferPointer { (b: UnsafeBufferPointer<Float>) throws in
            for i in 0..<n { try w.add(UnsafeBufferPointer(rebasing: b[(i * dims)..<((i + 1) * dims)]), text: "text \(lineBase + i + 1)", line: i + 1) }
        }
        try w.finish(linesRead: n)
    }

    /// Exact top k by f32 cosine (Double accumulation), ties to the lower position.
    static func exactTop(_ v: [Float], dims: Int, query q: ArraySlice<Float>, k: Int) -> [Int] {
        let n = v.count / dims
        let qn = q.map { Double($0) }
        let qq = qn.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var scores = [(Double, Int)]()
        scores.reserveCapacity(n)
        for i in 0..<n {
            var dot = 0.0, vv = 0.0
            for d in 0..<dims { let x = Double(v[i * dims + d]); dot += x * qn[d]; vv += x * x }
            scores.append((dot / (vv.squareRoot() * qq), i))
        }
        return scores.sorted { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }.prefix(k).map(\.1)
    }

    /// Recall@10 of the index's search against exact f32 cosine.
    func recall(n: Int, clusters: Int, keepsFloat: Bool, queries: Int = 50) throws -> Double {
        let dims = 384
        let (v, qs) = Self.vectors(n, queries: queries, dims: dims, clusters: clusters, seed: 7)
        let path = TempDir.make("recall") + "/i.idx"
        try Self.write(path, v, dims: dims, keepsFloat: keepsFloat)
        let index = try SearchIndex(path: path)
        let hits = try qs.withUnsafeBufferPointer { try index.search($0, count: queries, k: 10) }
        var found = 0
        for i in 0..<queries {
            let exact = Set(Self.exactTop(v, dims: dims, query: qs[(i * dims)..<((i + 1) * dims)], k: 10))
            found += hits[i].filter { exact.contains($0.position) }.count
        }
        return Double(found) / Double(queries * 10)
    }

    func testRecallAt10Over100kVectors() throws {
        let int8 = try recall(n: 100_000, clusters: 64, keepsFloat: false)
        let f32 = try recall(n: 100_000, clusters: 64, keepsFloat: true)
        let noise = try recall(n: 100_000, clusters: 0, keepsFloat: false, queries: 20)
        print("recall@10 over 100,000 vectors: int8 \(int8), int8 + f32 re-scoring \(f32), isotropic int8 \(noise)")
        // The scan is int8 either way; the f32 copy (the default, `--vectors f32`) makes the
        // re-scored top 10 exact. Without it the vectors' own rounding costs a little recall
        // (deterministic here: 0.978 and 0.99).
        XCTAssertGreaterThanOrEqual(f32, 0.999)
        XCTAssertGreaterThanOrEqual(int8, 0.975)
        XCTAssertGreaterThanOrEqual(noise, 0.985)
    }

    /// Every kernel path this CPU runs returns the same hits with the same scores as the scalar
    /// twin, over several segments and a last partial panel.
    func testEveryKernelPathGivesTheSameResults() throws {
        let dims = 100   // not a multiple of 16 or 64
        let (v, qs) = Self.vectors(9_001, queries: 11, dims: dims, clusters: 8, seed: 3)
        let path = TempDir.make("paths") + "/i.idx"
        try Self.write(path, v, dims: dims, keepsFloat: false)
        let ref = try qs.withUnsafeBufferPointer { try SearchIndex(path: path, kernel: "ref").search($0, count: 11, k: 7) }
        var checked = 0
        for i in 0..<ek_kernel_count() {
            let k = ek_kernel_at(i)!
            guard ek_kernel_supported(k) != 0 else { continue }
            let name = String(cString: k.pointee.name)
            let got = try qs.withUnsafeBufferPointer { try SearchIndex(path: path, kernel: name).search($0, count: 11, k: 7) }
            XCTAssertEqual(got, ref, name)
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 2)
        // Against exact cosine: the top hit of a query equal to a stored vector is that vector.
        let probe = Array(v[(4_321 * dims)..<(4_322 * dims)])
        let top = try probe.withUnsafeBufferPointer { try SearchIndex(path: path).search($0, count: 1, k: 1)[0][0] }
        XCTAssertEqual(top.position, 4_321)
        XCTAssertEqual(top.line, 4_322)
        XCTAssertEqual(top.text, "text 4322")
        XCTAssertEqual(top.score, 1, accuracy: 2e-3)
    }

    /// --append adds segments after the committed ones and numbers lines on; an append cut short
    /// (bytes past the commit, no new commit record) leaves the index as it was, and the next
    /// append overwrites those bytes.
    func testAppendCommitsAtTheEndAndSurvivesACutShortAppend() throws {
        let dims = 32
        let (a, _) = Self.vectors(5_000, queries: 0, dims: dims, clusters: 4, seed: 11)
        let (b, _) = Self.vectors(300, queries: 0, dims: dims, clusters: 4, seed: 12)
        let path = TempDir.make("append") + "/i.idx"
        try Self.write(path, a, dims: dims, keepsFloat: true)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        // A cut-short append: half a segment's worth of bytes past the end, never committed.
        let h = FileHandle(forWritingAtPath: path)!
        h.seekToEndOfFile()
        h.write(Data(repeating: 0xAB, count: 70_000))
        h.closeFile()
        var index = try SearchIndex(path: path)
        XCTAssertEqual(index.count, 5_000)
        let open = index
        try Self.write(path, b, dims: dims, keepsFloat: true, append: true, lineBase: 5_000)
        // An index open during the append goes on answering from what it mapped.
        let old = try Array(a[(77 * dims)..<(78 * dims)]).withUnsafeBufferPointer { try open.search($0, count: 1, k: 1)[0][0] }
        XCTAssertEqual(old.position, 77)
        index = try SearchIndex(path: path)
        XCTAssertEqual(index.count, 5_300)
        XCTAssertEqual(index.linesRead, 5_300)
        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(after.prefix(1088), before.prefix(1088), "the fixed header is never rewritten")
        XCTAssertEqual(after[4096..<before.count], before[4096..<before.count], "committed segments are never rewritten")
        let probe = Array(b[(123 * dims)..<(124 * dims)])
        let top = try probe.withUnsafeBufferPointer { try index.search($0, count: 1, k: 1)[0][0] }
        XCTAssertEqual(top.position, 5_123)
        XCTAssertEqual(top.line, 5_124)
        XCTAssertEqual(top.text, "text 5124")
        XCTAssertThrowsError(try IndexWriter(path: path, identity: Self.identity(dims: dims, keepsFloat: true, model: 9), append: true)) {
            XCTAssertTrue(($0 as! EdgeBERTError).why.contains("made by another model"), "\($0)")
        }
        XCTAssertThrowsError(try IndexWriter(path: path, identity: Self.identity(dims: dims, keepsFloat: false), append: true)) {
            XCTAssertTrue(($0 as! EdgeBERTError).why.contains("keeps f32 vectors, not int8"), "\($0)")
        }
    }

    /// Hostile and broken files: one error each, naming the problem, never a crash.
    func testBrokenIndexesAreRefusedWithOneLineErrors() throws {
        let dims = 48
        let (v, qs) = Self.vectors(5_000, queries: 1, dims: dims, clusters: 4, seed: 5)
        let dir = TempDir.make("broken")
        let good = dir + "/good.idx"
        try Self.write(good, v, dims: dims, keepsFloat: false)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        func open(_ data: Data) -> String {
            let p = dir + "/x.idx"
            try! data.write(to: URL(fileURLWithPath: p))
            do { _ = try SearchIndex(path: p); return "opened" } catch { return error.why }
        }
        XCTAssertEqual(open(bytes), "opened")
        XCTAssertTrue(open(bytes.prefix(100)).contains("shorter than the 4096-byte header"))
        XCTAssertTrue(open(bytes.prefix(bytes.count - 1000)).contains("truncated"), open(bytes.prefix(bytes.count - 1000)))
        XCTAssertTrue(open(Data("EDGEBERT".utf8) + bytes.dropFirst(8)).contains("not an EdgeBERT index"))
        var flipped = bytes
        flipped[20] ^= 0x40   // kp: the header's fixed part is under the commit CRC
        XCTAssertTrue(open(flipped).contains("corrupt"), open(flipped))
        flipped = bytes
        flipped[4096 + 9] ^= 0x01  // a segment's count
        XCTAssertTrue(open(flipped).contains("header checksum mismatch"), open(flipped))
        flipped = bytes
        flipped[4096 + 64 + 7] ^= 0x10  // vector data: found by verify
        let p = dir + "/flip.idx"
        try flipped.write(to: URL(fileURLWithPath: p))
        XCTAssertThrowsError(try SearchIndex(path: p).verify()) { XCTAssertTrue($0.why.contains("checksum mismatch"), $0.why) }
        XCTAssertNoThrow(try SearchIndex(path: good).verify())
        // A commit record (valid CRC) whose end lies inside the header (found by the index fuzzer:
        // an arithmetic overflow), for search and for --append, which must not truncate the file.
        var early = bytes
        let slot = IndexCommit.newest(bytes.withUnsafeBytes { $0 })!
        var bad = slot
        bad.end = 100
        let at = IndexLayout.slotOffsets[Int(slot.sequence % 2)]
        early.replaceSubrange(at..<(at + 64), with: bad.encode(header: Array(bytes.prefix(IndexLayout.staticBytes))))
        XCTAssertEqual(open(early), "the commit record ends inside the header: corrupt")
        let cut = dir + "/early.idx"
        try early.write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try IndexWriter(path: cut, identity: Self.identity(dims: dims, keepsFloat: false), append: true)) {
            XCTAssertEqual($0.why, "the commit record ends inside the header: corrupt")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: cut)), early, "a refused append leaves the file as it was")
        // A line count past Int (the fuzzer's second finding: a trap converting it).
        bad = slot
        bad.lines = UInt64.max
        var many = bytes
        many.replaceSubrange(at..<(at + 64), with: bad.encode(header: Array(bytes.prefix(IndexLayout.staticBytes))))
        XCTAssertTrue(open(many).contains("not plausible"), open(many))
        try many.write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try IndexWriter(path: cut, identity: Self.identity(dims: dims, keepsFloat: false), append: true)) {
            XCTAssertTrue($0.why.contains("not plausible"), $0.why)
        }
        // k outside 1...count, and an empty index.
        let index = try SearchIndex(path: good)
        for k in [0, 5_001] {
            XCTAssertThrowsError(try qs.withUnsafeBufferPointer { try index.search($0, count: 1, k: k) }) {
                XCTAssertEqual($0.why, "\(k) is outside 1...5000, the vectors in the index")
            }
        }
        let empty = dir + "/empty.idx"
        try Self.write(empty, [], dims: dims, keepsFloat: false)
        XCTAssertThrowsError(try qs.withUnsafeBufferPointer { try SearchIndex(path: empty).search($0, count: 1, k: 1) }) {
            XCTAssertTrue($0.why.contains("the index is empty"), $0.why)
        }
    }
}
