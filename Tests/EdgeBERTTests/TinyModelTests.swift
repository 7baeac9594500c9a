import CKernels
import XCTest
@testable import EdgeBERT

/// The random-weight tiny BERT (2 layers, hidden 32, intermediate 100) saved by transformers, with
/// its hidden states: the encoder checked layer by layer without any download.
final class TinyModelTests: XCTestCase {
    let texts = Array(Fixtures.lines("corpus.txt").prefix(60))
    let golden = Fixtures.floats("tiny-bert/hidden_states.f32")
    let goldenIds = Fixtures.ids("tiny-bert/ids.jsonl")

    /// Golden hidden states of text i: [layers+1][tokens][hidden], from the concatenated file.
    func goldenStates(_ i: Int, layers: Int, hidden: Int) -> [Float] {
        var offset = 0
        for j in 0..<i { offset += (layers + 1) * goldenIds[j].count * hidden }
        return Array(golden[offset..<(offset + (layers + 1) * goldenIds[i].count * hidden)])
    }

    func testConfigIsReadFromTheFolder() throws {
        let m = try ModelFile(path: Fixtures.tinyModels.f32)
        let c = m.config
        XCTAssertEqual([c.vocabSize, c.hidden, c.layers, c.heads, c.intermediate, c.maxPositions], [3000, 32, 2, 4, 100, 64])
        XCTAssertEqual(c.activation, .gelu)
        XCTAssertTrue(c.tokenizer.lowercase)
        XCTAssertEqual(c.maxSequenceLength, 64)
        XCTAssertEqual(c.pooling, .mean)  // no sentence-transformers files: mean + normalise
        XCTAssertTrue(c.normalize)
    }

    func testTokenIdsMatchTransformers() throws {
        let e = try Embedder(modelPath: Fixtures.tinyModels.f32)
        for (i, t) in texts.enumerated() {
            XCTAssertEqual(e.tokenize(t), goldenIds[i], "text \(i): \(t)")
        }
    }

    func testFloatPathMatchesTransformersLayerByLayer() throws {
        let model = try ModelFile(path: Fixtures.tinyModels.f32)
        let L = model.config.layers, H = model.config.hidden
        for layer in 0...L {
            var o = Embedder.Options()
            o.layer = layer
            let e = try Embedder(model: model, options: o)
            for (i, t) in texts.enumerated() {
                let (n, states) = try e.hiddenStates(t)
                XCTAssertEqual(n, goldenIds[i].count)
                let g = goldenStates(i, layers: L, hidden: H)
                let want = g[(layer * n * H)..<((layer + 1) * n * H)]
                let err = zip(states, want).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(err, Tolerance.f32HiddenAbs, "layer \(layer), text \(i)")
            }
        }
    }

    func testInt8PathStaysCloseToTransformers() throws {
        let model = try ModelFile(path: Fixtures.tinyModels.int8)
        let L = model.config.layers, H = model.config.hidden
        let e = try Embedder(model: model)
        for (i, t) in texts.enumerated() {
            let v = try e.embed(t)
            let g = goldenStates(i, layers: L, hidden: H)
            let n = goldenIds[i].count
            var mean = [Float](repeating: 0, count: H)
            for r in 0..<n { for c in 0..<H { mean[c] += g[(L * n + r) * H + c] / Float(n) } }
            XCTAssertGreaterThan(cosine(v, mean), Tolerance.tinyInt8Cosine, "text \(i): \(t)")
        }
    }

    /// Every kernel path gives the very same embeddings: int8 results are exact integers, and the
    /// epilogues run the same float operations in the same order.
    /// A forced path forces every pass: paths with the same vector level give identical
    /// embeddings (their GEMMs are bitwise equal), paths of other levels differ only by the float
    /// rounding of their LayerNorm, GELU and softmax approximations.
    func testEveryKernelPathGivesTheSameEmbeddings() throws {
        let model = try ModelFile(path: Fixtures.tinyModels.int8)
        var byLevel: [Int32: [[Float]]] = [:]
        var reference: [[Float]] = []
        for kernel in KernelTests.paths {
            var o = Embedder.Options()
            o.kernel = String(cString: kernel.pointee.name)
            o.threads = 2
            let e = try Embedder(model: model, options: o)
            let out = try e.embed(Array(texts.prefix(20)))
            if let same = byLevel[kernel.pointee.level] { XCTAssertEqual(out, same, "path \(o.kernel!)") }
            byLevel[kernel.pointee.level] = out
            if reference.isEmpty { reference = out }
            for (a, b) in zip(out, reference) {
                XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()!, Tolerance.levelEmbeddingAbs, "path \(o.kernel!)")
            }
        }
    }

    /// Texts packed into one forward pass give bit-identical embeddings to one at a time.
    func testBatchesGiveIdenticalResults() throws {
        let model = try ModelFile(path: Fixtures.tinyModels.int8)
        let some = Array(texts.prefix(23))
        let single = try some.map { try Embedder(model: model).embed($0) }
        for batch in [2, 5, 23, 64] {
            var o = Embedder.Options()
            o.batch = batch
            o.threads = 2
            XCTAssertEqual(try Embedder(model: model, options: o).embed(some), single, "batch \(batch)")
        }
        var o = Embedder.Options()
        o.batch = 4
        o.truncate = false
        o.maxLength = 8
        XCTAssertThrowsError(try Embedder(model: model, options: o).embed(["ok", String(repeating: "the ", count: 20), "ok"])) { e in
            XCTAssertEqual((e as! EdgeBERTError).what, "text 2")
        }
    }

    func testThreadsDoNotChangeResults() throws {
        let model = try ModelFile(path: Fixtures.tinyModels.int8)
        var o = Embedder.Options()
        o.threads = 1
        let one = try Embedder(model: model, options: o).embed(Array(texts.prefix(20)))
        o.threads = 3
        let three = try Embedder(model: model, options: o).embed(Array(texts.prefix(20)))
        XCTAssertEqual(one, three)
    }

    func testPoolingModesLayersAndNormalisation() throws {
        let model = try ModelFile(path: Fixtures.tinyModels.f32)
        let H = model.config.hidden
        var o = Embedder.Options()
        o.normalize = false
        o.pooling = Pooling.none
        let tokens = try Embedder(model: model, options: o).tokenVectors("the man was here")
        XCTAssertEqual(tokens.count, 6)  // [CLS] the man was here [SEP]
        let n = Float(tokens.count)
        func pooled(_ p: Pooling) throws -> [Float] {
            var o = Embedder.Options(); o.pooling = p; o.normalize = false
            return try Embedder(model: model, options: o).embed("the man was here")
        }
        let mean = (0..<H).map { c in tokens.reduce(0) { $0 + $1[c] } / n }
        for (a, b) in zip(try pooled(.mean), mean) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(try pooled(.cls), tokens[0])
        XCTAssertEqual(try pooled(.max), (0..<H).map { c in tokens.map { $0[c] }.max()! })
        let sqrtLen = (0..<H).map { c in tokens.reduce(0) { $0 + $1[c] } / n.squareRoot() }
        for (a, b) in zip(try pooled(.meanSqrtLen), sqrtLen) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        var on = Embedder.Options()
        on.pooling = .mean
        let unit = try Embedder(model: model, options: on).embed("the man was here")
        XCTAssertEqual(unit.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
        // --layer: -1 is the last layer, 0 the embeddings output.
        var last = Embedder.Options(); last.layer = -1
        XCTAssertEqual(try Embedder(model: model, options: last).layer, 2)
        var bad = Embedder.Options(); bad.layer = 3
        XCTAssertThrowsError(try Embedder(model: model, options: bad))
    }

    func testTruncationKeepsSepAndCountsTokens() throws {
        var o = Embedder.Options()
        o.maxLength = 8
        let e = try Embedder(modelPath: Fixtures.tinyModels.f32, options: o)
        let ids = e.tokenize(String(repeating: "the ", count: 50))
        XCTAssertEqual(ids.count, 8)
        XCTAssertEqual(ids.first, Int32(e.config.special.cls))
        XCTAssertEqual(ids.last, Int32(e.config.special.sep))
        o.truncate = false
        let strict = try Embedder(modelPath: Fixtures.tinyModels.f32, options: o)
        XCTAssertThrowsError(try strict.embed(String(repeating: "the ", count: 50)))
        XCTAssertNoThrow(try strict.embed("the the the"))
        XCTAssertEqual(try e.embed("").count, e.dimension)  // "" is [CLS] [SEP], as in Hugging Face
    }
}
