import Foundation
import XCTest
@testable import EdgeBERT

/// Hugging Face BertTokenizer's ids (transformers 5), line for line, on a 2,800-line corpus of
/// every script and trap we could think of, for three vocabularies; and Chinese end to end.
final class TokenizerConformanceTests: XCTestCase {
    let corpus = Fixtures.lines("tokenizer/corpus.txt")

    func check(vocab: String, ids: String, lowercase: Bool) {
        var v = Fixtures.lines("tokenizer/" + vocab)
        while v.last == "" { v.removeLast() }
        let index = Dictionary(v.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let special = SpecialTokens(cls: index["[CLS]"]!, sep: index["[SEP]"]!, pad: index["[PAD]"]!,
                                    unk: index["[UNK]"]!, mask: index["[MASK]"] ?? 0)
        let t = WordPieceTokenizer(vocab: v, options: TokenizerOptions(lowercase: lowercase, stripAccents: nil, splitChinese: true),
                                   special: special)
        let golden = Fixtures.ids("tokenizer/" + ids)
        XCTAssertGreaterThanOrEqual(corpus.count, 2000)
        XCTAssertEqual(golden.count, corpus.count)
        var failures = 0
        for (i, text) in corpus.enumerated() {
            let got = t.encode(text, maxTokens: 512)
            if got != golden[i] {
                failures += 1
                if failures <= 5 {
                    let firstDiff = (0..<min(got.count, golden[i].count)).first { got[$0] != golden[i][$0] } ?? min(got.count, golden[i].count)
                    XCTFail("\(vocab) line \(i + 1) \(text.unicodeScalars.prefix(60).map { String(format: "%04X", $0.value) }.joined(separator: " ")): first difference at token \(firstDiff): got \(got.dropFirst(max(0, firstDiff - 2)).prefix(5)), want \(golden[i].dropFirst(max(0, firstDiff - 2)).prefix(5))")
                }
            }
        }
        XCTAssertEqual(failures, 0, "\(failures) of \(corpus.count) lines differ for \(vocab)")
    }

    func testUncasedVocabulary() { check(vocab: "vocab-uncased.txt", ids: "ids-uncased.jsonl", lowercase: true) }
    func testCasedVocabulary() { check(vocab: "vocab-cased.txt", ids: "ids-cased.jsonl", lowercase: false) }
    func testCJKVocabulary() { check(vocab: "vocab-cjk.txt", ids: "ids-cjk.jsonl", lowercase: true) }

    /// The random-weight Chinese model: `quantize` keeps the tokenizer switches, and the f32 path
    /// reproduces transformers' ids and hidden states.
    func testChineseModelEndToEnd() throws {
        let hf = Fixtures.huggingFaceFolder("tiny-cjk")
        let path = TempDir.make("cjk") + "/cjk-f32.ebm"
        var o = Converter.Options()
        o.dtype = .f32
        try Converter.convert(hfDir: hf, outPath: path, options: o)
        let model = try ModelFile(path: path)
        XCTAssertTrue(model.config.tokenizer.splitChinese)
        let texts = Fixtures.lines("tiny-cjk/texts.txt")
        let ids = Fixtures.ids("tiny-cjk/ids.jsonl")
        let golden = Fixtures.floats("tiny-cjk/hidden_states.f32")
        let L = model.config.layers, H = model.config.hidden
        let e = try Embedder(model: model, options: { var x = Embedder.Options(); x.normalize = false; return x }())
        var offset = 0
        for (i, t) in texts.enumerated() {
            XCTAssertEqual(e.tokenize(t), ids[i], "text \(i + 1): \(t)")
            let (n, states) = try e.hiddenStates(t)
            let last = golden[(offset + L * n * H)..<(offset + (L + 1) * n * H)]
            let err = zip(states, last).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(err, Tolerance.f32HiddenAbs, "text \(i + 1)")
            offset += (L + 1) * n * H
        }
        XCTAssertEqual(offset, golden.count)
        // int8 of the same model embeds Chinese close to the float path.
        let int8 = TempDir.make("cjk8") + "/cjk.ebm"
        try Converter.convert(hfDir: hf, outPath: int8, options: .init())
        let q = try Embedder(modelPath: int8)
        let f = try Embedder(model: model)
        for t in texts.prefix(10) { XCTAssertGreaterThan(cosine(try q.embed(t), try f.embed(t)), Tolerance.tinyInt8Cosine, t) }
    }
}
