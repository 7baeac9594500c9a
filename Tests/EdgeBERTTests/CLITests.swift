import Foundation
import XCTest
@testable import EdgeBERT

/// The command line as users and scripts see it: outputs, exit codes, one-line errors.
final class CLITests: XCTestCase {
    typealias Result = CLI.Result
    static var binary: String { CLI.binary }

    func run(_ args: [String], stdin: Data? = nil) throws -> Result { try CLI.run(args, stdin: stdin) }

    override func setUpWithError() throws { try CLI.requireBinary() }

    func assertError(_ r: Result, status: Int32, contains: String, file: StaticString = #filePath, line: UInt = #line) {
        CLI.assertError(r, status: status, contains: contains, file: file, line: line)
    }

    func testEmbedJSONLMatchesTheLibrary() throws {
        let m = Fixtures.tinyModels.int8
        let r = try run(["embed", "-m", m, "the man was here", "He was, she is!"])
        XCTAssertEqual(r.status, 0, r.stderr)
        struct Line: Decodable { let embedding: [Float]; let n_tokens: Int }
        let lines = r.out.split(separator: "\n").map { try! JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
        XCTAssertEqual(lines.count, 2)
        let e = try Embedder(modelPath: m)
        XCTAssertEqual(lines[0].embedding, try e.embed("the man was here"))
        XCTAssertEqual(lines[0].n_tokens, 6)
        XCTAssertEqual(lines[1].embedding.count, 32)
    }

    func testStdinLinesKeepBytesAndDropCR() throws {
        let r = try run(["tokenize", "-m", Fixtures.tinyModels.int8], stdin: Data("he was\r\nthe one\n".utf8))
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].contains("\"tokens\":[\"[CLS]\",\"he\",\"was\",\"[SEP]\"]"), String(lines[0]))
    }

    func testNpyAndRawOutputs() throws {
        let dir = TempDir.make("cli")
        let r = try run(["embed", "-m", Fixtures.tinyModels.int8, "--format", "npy", "-o", dir + "/e.npy", "one", "two", "three"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let npy = try Data(contentsOf: URL(fileURLWithPath: dir + "/e.npy"))
        XCTAssertEqual(Array(npy.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLen = Int(npy[8]) | Int(npy[9]) << 8
        XCTAssertEqual((10 + headerLen) % 64, 0)
        XCTAssertTrue(String(decoding: npy[10..<(10 + headerLen)], as: UTF8.self).contains("'shape': (3, 32)"))
        XCTAssertEqual(npy.count, 10 + headerLen + 3 * 32 * 4)
        let raw = try run(["embed", "-m", Fixtures.tinyModels.int8, "--format", "f32", "one"])
        XCTAssertEqual(raw.stdout.count, 32 * 4)
        XCTAssertEqual(npy.suffix(3 * 32 * 4).prefix(32 * 4), raw.stdout)
        let none = try run(["embed", "-m", Fixtures.tinyModels.int8, "--pooling", "none", "the man"])
        XCTAssertTrue(none.out.hasPrefix("{\"embedding\":[["), none.out)
        XCTAssertTrue(none.out.contains("\"n_tokens\":4"))
    }

    func testBadInputGetsOneLineAndTheRightStatus() throws {
        let m = Fixtures.tinyModels.int8
        let dir = TempDir.make("cli-bad")
        assertError(try run(["embed", "-m", dir + "/nope.ebm", "x"]), status: 1, contains: "no such file")
        assertError(try run(["embed", "-m", m], stdin: Data([0x66, 0xFF, 0x0A])), status: 1, contains: "line 1: invalid UTF-8")
        assertError(try run(["embed", "-m", m, "--threads", "0", "x"]), status: 2, contains: "--threads")
        assertError(try run(["embed", "-m", m, "--max-length", "100000", "x"]), status: 2, contains: "--max-length")
        assertError(try run(["embed", "-m", m, "--layer", "9", "x"]), status: 2, contains: "--layer")
        assertError(try run(["embed", "-m", m, "--pooling", "avg", "x"]), status: 2, contains: "--pooling")
        assertError(try run(["embed", "--bogus"]), status: 2, contains: "unknown option")
        assertError(try run(["frobnicate"]), status: 2, contains: "unknown command")
        assertError(try run(["embed", "-m", m, "--no-truncate", "--max-length", "4", "one two three four"]),
                    status: 1, contains: "past the max length")
        let truncated = dir + "/t.ebm"
        let data = try Data(contentsOf: URL(fileURLWithPath: m))
        try data.prefix(data.count - 1000).write(to: URL(fileURLWithPath: truncated))
        assertError(try run(["embed", "-m", truncated, "x"]), status: 1, contains: "truncated")
        // A failure after some texts: no half-written output file.
        let out = dir + "/out.jsonl"
        assertError(try run(["embed", "-m", m, "-o", out, "--no-truncate", "--max-length", "4", "ok", "one two three four"]),
                    status: 1, contains: "text 2")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["t.ebm"])
    }

    func testInspectVerifyHelpAndVersion() throws {
        let r = try run(["inspect", Fixtures.tinyModels.int8, "--verify"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.out.contains("encoder.layer.1.output.dense.weight"))
        XCTAssertTrue(r.out.contains("verify      OK"))
        for cmd in ["quantize", "embed", "tokenize", "compare", "bench", "inspect"] {
            let h = try run([cmd, "--help"])
            XCTAssertEqual(h.status, 0)
            XCTAssertTrue(h.out.contains("Usage: edgebert \(cmd)"), cmd)
        }
        XCTAssertTrue(try run(["--version"]).out.hasPrefix("edgebert "))
    }

    func testCompareReportsAndGates() throws {
        let r = try run(["compare", "-m", Fixtures.tinyModels.int8, "--reference", Fixtures.tinyModels.hf, "--json", "the man was here", "he was"])
        XCTAssertEqual(r.status, 0, r.stderr)
        struct C: Decodable { let cosine_mean: Double; let cosine_min: Double; let layer_cosine: [Double] }
        let c = try JSONDecoder().decode(C.self, from: r.stdout)
        XCTAssertGreaterThan(c.cosine_mean, 0.98)
        XCTAssertEqual(c.layer_cosine.count, 3)
        XCTAssertEqual(c.layer_cosine[0], 1, accuracy: 1e-3)  // embeddings: only the int8 word table differs
        assertError(try run(["compare", "-m", Fixtures.tinyModels.int8, "--reference", Fixtures.tinyModels.f32,
                             "--min-cosine", "1", "the man was here"]), status: 1, contains: "below --min-cosine")
    }

    func testBenchJSONHasTheContractKeys() throws {
        let r = try run(["bench", "-m", Fixtures.tinyModels.int8, "--seq", "16", "--runs", "3", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try JSONSerialization.jsonObject(with: r.stdout) as! [String: Any]
        for k in ["median_ms", "p90_ms", "tokens_per_s", "peak_rss_bytes", "anon_rss_bytes", "arena_bytes", "kernel"] {
            XCTAssertNotNil(obj[k], k)
        }
        XCTAssertGreaterThan(obj["peak_rss_bytes"] as! Int, 0)
    }
}

extension CLITests {
    /// compare ends with a verdict; with no texts on a terminal-less run it reads stdin, and
    /// --json carries the verdict and the neighbour agreement.
    func testCompareEndsWithAVerdict() throws {
        let r = try run(["compare", "-m", Fixtures.tinyModels.int8, "--reference", Fixtures.tinyModels.f32, "the man was here", "he was", "a cat", "the dog"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let last = r.out.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasPrefix("verdict: int8 is "), last)
        XCTAssertTrue(last.contains("mean cosine"), last)
        let j = try run(["compare", "-m", Fixtures.tinyModels.int8, "--reference", Fixtures.tinyModels.f32, "--json", "the man", "he was", "a cat"])
        XCTAssertTrue(j.out.contains("\"neighbour_agreement\":"), j.out)
        XCTAssertTrue(j.out.contains("\"verdict\":\"verdict: int8 is"), j.out)
    }
}
