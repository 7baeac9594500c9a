import XCTest
@testable import EdgeBERT

/// Architecture variants saved by transformers (Tools/make_variants.py): gelu_new with `bert.`-
/// prefixed keys (a BertForMaskedLM checkpoint), relu with a cased vocabulary and 512 positions,
/// gelu_pytorch_tanh with a single 32-wide head. The f32 path must reproduce transformers' last
/// hidden states; the int8 path must stay close.
final class VariantTests: XCTestCase {
    func check(_ name: String, activation: Activation, lowercase: Bool, heads: Int) throws {
        let hf = Fixtures.huggingFaceFolder("variants/" + name)
        let dir = TempDir.make("variant")
        var o = Converter.Options()
        o.dtype = .f32
        try Converter.convert(hfDir: hf, outPath: dir + "/f32.ebm", options: o)
        try Converter.convert(hfDir: hf, outPath: dir + "/int8.ebm", options: .init())
        let f32 = try ModelFile(path: dir + "/f32.ebm")
        XCTAssertEqual(f32.config.activation, activation)
        XCTAssertEqual(f32.config.tokenizer.lowercase, lowercase)
        XCTAssertEqual(f32.config.heads, heads)
        let texts = Fixtures.lines("variants/\(name)/texts.txt")
        let ids = Fixtures.ids("variants/\(name)/ids.jsonl")
        let golden = Fixtures.floats("variants/\(name)/last_hidden.f32")
        let H = f32.config.hidden
        var plain = Embedder.Options()
        plain.normalize = false
        let e = try Embedder(model: f32, options: plain)
        let q = try Embedder(modelPath: dir + "/int8.ebm")
        var offset = 0
        for (i, t) in texts.enumerated() {
            XCTAssertEqual(e.tokenize(t), ids[i], "\(name) text \(i + 1)")
            let (n, states) = try e.hiddenStates(t)
            let want = Array(golden[offset..<(offset + n * H)])
            let err = zip(states, want).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(err, Tolerance.f32HiddenAbs, "\(name) text \(i + 1)")
            let mean = (0..<H).map { c in (0..<n).reduce(Float(0)) { $0 + want[$1 * H + c] } / Float(n) }
            XCTAssertGreaterThan(cosine(try e.embed(t), mean), Tolerance.f32Cosine, "\(name) text \(i + 1)")
            XCTAssertGreaterThan(cosine(try q.embed(t), mean), Tolerance.tinyInt8Cosine, "\(name) int8 text \(i + 1)")
            offset += n * H
        }
        XCTAssertEqual(offset, golden.count)
    }

    func testGeluNewWithBertPrefixedKeys() throws { try check("gelu-new-prefixed", activation: .geluTanh, lowercase: true, heads: 6) }
    func testReluCasedWith512Positions() throws { try check("relu-cased-512", activation: .relu, lowercase: false, heads: 2) }
    func testGeluPytorchTanhOneHead() throws { try check("tanh-one-head", activation: .geluTanh, lowercase: true, heads: 1) }
}
