import Foundation
import XCTest
@testable import EdgeBERT

/// Long texts, search and fewer dimensions on all-MiniLM-L6-v2 (issue 15): windows against
/// transformers, the index's results against brute force over the corpus, the CLI's errors.
final class RealModelSearchTests: XCTestCase {
    let texts = Fixtures.lines("corpus.txt")

    func models() throws -> (int8: String, f32: String) {
        guard let m = RealModelTests.models else {
            throw XCTSkip("EDGEBERT_MODEL_DIR is not set: real-model test skipped (Tools/test.sh fetches the model and sets it)")
        }
        return m
    }

    struct LongCase: Decodable { let text: String; let max_length: Int; let stride: Int; let windows: Int; let tokens: Int; let embedding: [Float] }

    /// Windows of the max length sharing `stride` tokens, token-weighted: as transformers' BertModel
    /// computes them in Tools/make_golden.py (2 and 21 windows).
    func testLongTextWindowsMatchTransformers() throws {
        let m = try models()
        let cases = try JSONDecoder().decode([LongCase].self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("minilm/long.json"))))
        XCTAssertEqual(cases.map(\.windows), [2, 21])
        for (path, floor) in [(m.f32, Tolerance.f32Cosine), (m.int8, 0.998)] {
            for c in cases {
                var o = Embedder.Options()
                o.maxLength = c.max_length
                o.long = .window
                o.stride = c.stride
                let e = try Embedder(modelPath: path, options: o)
                XCTAssertEqual(Array(e.windowStarts(bodyTokens: e.fullBody(c.text).count)).count, c.windows)
                var v = [Float](repeating: 0, count: 384)
                let n = try v.withUnsafeMutableBufferPointer { try e.embed(c.text, into: $0) }
                XCTAssertEqual(n, c.tokens)
                XCTAssertGreaterThanOrEqual(cosineSimilarity(v, c.embedding), floor, "\(path) \(c.windows) windows")
                // The batch path gives the same vector, next to texts that fit.
                o.batch = 4
                let batched = try Embedder(modelPath: path, options: o).embed(["short one", c.text, "another"])
                XCTAssertEqual(batched[1], v)
            }
        }
        // A text that fits is embedded exactly as with truncation.
        var o = Embedder.Options()
        o.long = .window
        XCTAssertEqual(try Embedder(modelPath: m.int8, options: o).embed(texts[3]), try Embedder(modelPath: m.int8).embed(texts[3]))
    }

    struct SearchLine: Decodable {
        struct Hit: Decodable { let score: Float; let line: Int; let text: String }
        let query: String
        let results: [Hit]
    }

    /// `index` then `search --json` on the corpus: the f32-kept index returns exactly the brute-force
    /// f32 top 10 of the model's own embeddings (same scores to 1e-5), the int8-only one nearly.
    func testSearchOnTheCorpusEqualsBruteForce() throws {
        try CLI.requireBinary()
        let m = try models()
        let dir = TempDir.make("corpus-search")
        let e = try Embedder(modelPath: m.int8)
        let vectors = try e.embed(texts)
        let queries = stride(from: 0, to: texts.count, by: 16).map { texts[$0] } + ["a cat on the mat", "how do I reset my password"]
        let qv = try e.embed(queries)
        var recalls: [String: Double] = [:]
        for kind in ["f32", "int8"] {
            let idx = dir + "/\(kind).idx"
            let made = try CLI.run(["index", "-m", m.int8, "-i", Fixtures.path("corpus.txt"), "-o", idx, "--vectors", kind])
            XCTAssertEqual(made.status, 0, made.stderr)
            let r = try CLI.run(["search", "--index", idx, "-k", "10", "--json"] + queries)
            XCTAssertEqual(r.status, 0, r.stderr)
            let lines = r.out.split(separator: "\n").map { try! JSONDecoder().decode(SearchLine.self, from: Data($0.utf8)) }
            XCTAssertEqual(lines.map(\.query), queries)
            var found = 0
            for (qi, line) in lines.enumerated() {
                var scored: [(score: Float, line: Int)] = []
                for i in vectors.indices { scored.append((Float(cosineSimilarity(qv[qi], vectors[i])), i + 1)) }
                scored.sort { (a: (score: Float, line: Int), b: (score: Float, line: Int)) -> Bool in
                    a.score > b.score || (a.score == b.score && a.line < b.line)
                }
                let exact = Array(scored.prefix(10))
                let want = Set(exact.map { $0.line })
                found += line.results.filter { want.contains($0.line) }.count
                for hit in line.results { XCTAssertEqual(hit.text, texts[hit.line - 1]) }
                if kind == "f32" {
                    XCTAssertEqual(line.results.map { $0.line }, exact.map { $0.line }, line.query)
                    for (hit, ex) in zip(line.results, exact) { XCTAssertEqual(hit.score, ex.score, accuracy: 1e-5) }
                }
            }
            recalls[kind] = Double(found) / Double(10 * queries.count)
        }
        print("corpus recall@10: \(recalls)")
        XCTAssertEqual(recalls["f32"], 1)
        XCTAssertGreaterThanOrEqual(recalls["int8"]!, 0.97)
    }

    /// The CLI's one-line errors for indexes that do not fit the request.
    func testSearchRefusesWhatDoesNotFit() throws {
        try CLI.requireBinary()
        let m = try models()
        let dir = TempDir.make("search-errors")
        let idx = dir + "/c.idx"
        XCTAssertEqual(try CLI.run(["index", "-m", m.int8, "-o", idx], stdin: Data("one\ntwo\nthree\n".utf8)).status, 0)
        CLI.assertError(try CLI.run(["search", "--index", idx, "-m", m.f32, "x"]), status: 1, contains: "the index was made by another model")
        CLI.assertError(try CLI.run(["search", "--index", idx, "-k", "4", "x"]), status: 2, contains: "-k: 4 is outside 1...3")
        CLI.assertError(try CLI.run(["search", "--index", idx, "-k", "0", "x"]), status: 2, contains: "-k: 0 is outside 1...3")
        CLI.assertError(try CLI.run(["search", "--index", m.int8, "x"]), status: 1, contains: "not an EdgeBERT index")
        CLI.assertError(try CLI.run(["index", "-m", m.int8, "-o", idx, "--append", "--dims", "128"], stdin: Data("four\n".utf8)),
                        status: 1, contains: "holds 384-dimensional vectors, these are 128")
        CLI.assertError(try CLI.run(["index", "-m", m.f32, "-o", idx, "--append"], stdin: Data("four\n".utf8)),
                        status: 1, contains: "made by another model")
        let empty = dir + "/empty.idx"
        XCTAssertEqual(try CLI.run(["index", "-m", m.int8, "-o", empty], stdin: Data()).status, 0)
        CLI.assertError(try CLI.run(["search", "--index", empty, "x"]), status: 1, contains: "the index is empty")
        // Appending numbers lines on.
        XCTAssertEqual(try CLI.run(["index", "-m", m.int8, "-o", idx, "--append"], stdin: Data("a fourth line about cats\n".utf8)).status, 0)
        let r = try CLI.run(["search", "--index", idx, "-k", "1", "--json", "a fourth line about cats"])
        XCTAssertTrue(r.out.contains("\"line\":4,\"text\":\"a fourth line about cats\""), r.out)
    }
}

extension RealModelSearchTests {
    /// `pca --dims 64` writes a model whose embeddings are normalise(W . normalise(full)), W the
    /// fitted axes (read back from the file), with its own identity; `--dims 96` keeps the first
    /// 96 dimensions of the full vector and re-normalises.
    func testPCAModelAndDims() throws {
        try CLI.requireBinary()
        let m = try models()
        let dir = TempDir.make("pca")
        let reduced = dir + "/p64.ebm"
        let r = try CLI.run(["pca", "-m", m.int8, "-i", Fixtures.path("corpus.txt"), "--dims", "64", "-o", reduced])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.out.contains("64 dimensions from 384, fitted on 320 texts"), r.out)
        let fidelity = r.out.split(separator: "PCA ").last.flatMap { Double($0.split(separator: ",")[0]) }
        XCTAssertGreaterThanOrEqual(fidelity ?? 0, 0.985, r.out)   // 0.9899 here; keeping the first 64: 0.76
        let full = try Embedder(modelPath: m.int8)
        let small = try Embedder(modelPath: reduced)
        XCTAssertEqual(small.dimension, 64)
        XCTAssertNotEqual(small.model.header.checksum, full.model.header.checksum)
        let file = try ModelFile(path: reduced)
        let axes = try file.tensor(Projection.weightName, [.f32], [64, 384])
        for t in [texts[0], texts[77], "a cat on the mat"] {
            let x = try full.embed(t)   // unit length already
            var y = (0..<64).map { r in (0..<384).reduce(Float(0)) { $0 + axes.floats[r * 384 + $1] * x[$1] } }
            y = normalized(y)
            let got = try small.embed(t)
            for i in 0..<64 { XCTAssertEqual(got[i], y[i], accuracy: 1e-5) }
        }
        CLI.assertError(try CLI.run(["pca", "-m", reduced, "-i", Fixtures.path("corpus.txt"), "--dims", "8", "-o", dir + "/x.ebm"]),
                        status: 1, contains: "already has a projection")
        CLI.assertError(try CLI.run(["pca", "-m", m.int8, "--dims", "384", "-o", dir + "/x.ebm"], stdin: Data("a\nb\n".utf8)),
                        status: 2, contains: "384 is not fewer than the model's 384 dimensions")
        CLI.assertError(try CLI.run(["pca", "-m", m.int8, "--dims", "8", "-o", dir + "/x.ebm"], stdin: Data("only one\n".utf8)),
                        status: 1, contains: "a PCA needs at least two texts")
        // --dims: the first N of the full vector, re-normalised.
        var o = Embedder.Options()
        o.dims = 96
        let cut = try Embedder(modelPath: m.int8, options: o).embed(texts[5])
        let want = normalized(Array(try full.embed(texts[5]).prefix(96)))
        for i in 0..<96 { XCTAssertEqual(cut[i], want[i], accuracy: 1e-6) }
    }
}

extension RealModelSearchTests {
    /// `--pooling none` gives raw token vectors by default, as sentence-transformers'
    /// `output_value="token_embeddings"` (MiniLM itself normalises its sentence embeddings).
    func testTokenVectorsAreRawByDefault() throws {
        let m = try models()
        var o = Embedder.Options()
        o.pooling = Pooling.none
        let raw = try Embedder(modelPath: m.f32, options: o)
        XCTAssertTrue(try Embedder(modelPath: m.f32).normalize)
        XCTAssertFalse(raw.normalize)
        let tokens = try raw.tokenVectors("A man is eating food.")
        o.normalize = false
        XCTAssertEqual(tokens, try Embedder(modelPath: m.f32, options: o).tokenVectors("A man is eating food."))
        let norm = tokens[1].reduce(0) { $0 + $1 * $1 }.squareRoot()
        XCTAssertGreaterThan(abs(norm - 1), 0.5, "a raw MiniLM token vector is far from unit length")
        o.normalize = true
        let unit = try Embedder(modelPath: m.f32, options: o).tokenVectors("A man is eating food.")
        XCTAssertEqual(unit[1].reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
    }
}
