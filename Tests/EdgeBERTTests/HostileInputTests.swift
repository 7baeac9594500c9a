import Foundation
import XCTest
@testable import EdgeBERT

/// Crafted and damaged model files, checkpoints and configs: each must end in a one-line error
/// (an `EdgeBERTError` naming the problem), never a trap, a signal or a huge allocation.
final class HostileModelTests: XCTestCase {
    /// The tiny int8 model with `patch` applied, both checksums recomputed (as an attacker would),
    /// written to a fresh file.
    func crafted(_ patch: (inout [UInt8]) -> Void) throws -> String {
        var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.tinyModels.int8)))
        patch(&b)
        ModelBytes.rechecksum(&b)
        let p = TempDir.make("crafted") + "/m.ebm"
        try Data(b).write(to: URL(fileURLWithPath: p))
        return p
    }

    func assertRefused(_ path: String, contains: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Embedder(modelPath: path), file: file, line: line) { e in
            let why = (e as! EdgeBERTError).why
            XCTAssertTrue(why.contains(contains), why, file: file, line: line)
        }
    }

    /// Outlier inputs (`OutlierColumns`): an index past the input, out of order, or a channel the
    /// int8 product also counts (smoothing factor not 0) is refused by name.
    func testOutlierIndicesAreChecked() throws {
        let m = try ModelFile(path: Fixtures.tinyModels.int8)
        let name = "encoder.layer.0.output.dense"
        let index = try XCTUnwrap(m.entry(name + ".outlier_index")), smooth = try XCTUnwrap(m.entry(name + ".smooth"))
        XCTAssertGreaterThan(index.shape[0], 1)
        let k = m.config.intermediate
        func put<T>(_ value: T, at offset: Int, in b: inout [UInt8]) {
            withUnsafeBytes(of: value) { for (i, byte) in $0.enumerated() { b[offset + i] = byte } }
        }
        let first = try m.tensor(name + ".outlier_index", [.i32], index.shape).int32s[0]
        assertRefused(try crafted { put(Int32(k), at: index.offset, in: &$0) }, contains: "outlier_index holds \(k) at 0")
        assertRefused(try crafted { put(Int32(-1), at: index.offset + 4, in: &$0) }, contains: "indices must increase")
        assertRefused(try crafted { put(Float(1), at: smooth.offset + 4 * Int(first), in: &$0) },
                      contains: "\(name).smooth is 1.0 at outlier channel \(first), expected 0")
    }

    func testHeaderOffsetsNearTwoToTheSixtyFour() throws {
        // 104 table offset, 112 vocabulary offset, 120 vocabulary bytes, 136 data offset, 144 data bytes.
        for field in [104, 112, 120, 136, 144] {
            for v: UInt64 in [.max, .max - 63, 1 << 63, (1 << 63) - 64, 0x7fff_ffff_ffff_ffc0] {
                let p = try crafted { ModelBytes.writeU64(&$0, field, v) }
                XCTAssertThrowsError(try ModelFile(path: p), "field \(field) = \(v)") { e in
                    XCTAssertFalse((e as! EdgeBERTError).why.isEmpty)
                }
            }
        }
    }

    func testTensorOffsetNearIntMax() throws {
        let m = try ModelFile(path: Fixtures.tinyModels.int8)
        let entry = Int(m.header.tableOffset) + 3 * TensorEntry.size
        for v: UInt64 in [0x7fff_ffff_ffff_ffc0, UInt64(Int.max) - 63, .max - 63] {
            let p = try crafted { ModelBytes.writeU64(&$0, entry + 104, v) }
            assertRefused(p, contains: "tensor \(m.entries[3].name)")
        }
        // A length that would run past the end from a valid offset.
        let p = try crafted { ModelBytes.writeU64(&$0, entry + 112, 0x7fff_ffff_ffff_ff00) }
        assertRefused(p, contains: "bytes")
    }

    func testVocabularyCountIsCheckedBeforeAnyReservation() throws {
        let p = try crafted { ModelBytes.writeU32(&$0, 128, .max) }
        assertRefused(p, contains: "vocabulary count 4294967295")
    }

    func testHeaderCorruptionIsCaughtAtOpen() throws {
        var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.tinyModels.int8)))
        b[300] ^= 0x20   // inside the tensor table: a name changes, nothing else would notice
        let p = TempDir.make("meta") + "/m.ebm"
        try Data(b).write(to: URL(fileURLWithPath: p))
        assertRefused(p, contains: "header checksum mismatch")
    }

    /// hidden 4, intermediate 65536, 65536 positions: a small file whose activations for one
    /// 65536-token text would need ~17 GB. Refused before allocating, naming the flag.
    func testArenaBoundedBeforeAllocation() throws {
        let H = 4, I = 65536, P = 65536, V = 8
        let config = ModelConfig(vocabSize: V, hidden: H, layers: 1, heads: 1, intermediate: I, maxPositions: P,
                                 typeVocabSize: 2, layerNormEps: 1e-12, activation: .gelu,
                                 tokenizer: TokenizerOptions(lowercase: true, stripAccents: nil, splitChinese: true),
                                 pooling: .mean, normalize: true, maxSequenceLength: P,
                                 special: SpecialTokens(cls: 0, sep: 1, pad: 2, unk: 3, mask: 4))
        func t(_ name: String, _ shape: [Int]) -> PendingTensor {
            PendingTensor(name: name, floats: [Float](repeating: 0.01, count: shape.reduce(1, *)), shape: shape)
        }
        var tensors = [t("embeddings.word_embeddings.weight", [V, H]), t("embeddings.position_embeddings.weight", [P, H]),
                       t("embeddings.token_type_embeddings.weight", [2, H]), t("embeddings.LayerNorm.weight", [H]),
                       t("embeddings.LayerNorm.bias", [H])]
        for (name, shape) in zip(Converter.linearNames(layer: 0), [[H, H], [H, H], [H, H], [H, H], [I, H], [H, I]]) {
            tensors += [t(name + ".weight", shape), t(name + ".bias", [shape[0]])]
        }
        for ln in ["attention.output.LayerNorm", "output.LayerNorm"] {
            tensors += [t("encoder.layer.0.\(ln).weight", [H]), t("encoder.layer.0.\(ln).bias", [H])]
        }
        let p = TempDir.make("arena") + "/big.ebm"
        try ModelWriter.write(path: p, config: config, weightDType: .f32, vocab: ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", "a", "b", "c"],
                              tensors: tensors)
        if Embedder.arenaLimit() < 17 << 30 {
            XCTAssertThrowsError(try Embedder(modelPath: p)) { e in
                let err = e as! EdgeBERTError
                XCTAssertEqual(err.what, "maxLength")
                XCTAssertTrue(err.why.contains("MiB arena"), err.why)
            }
        }
        // A max length that fits runs.
        var o = Embedder.Options()
        o.maxLength = 64
        o.threads = 1
        let e = try Embedder(modelPath: p, options: o)
        XCTAssertEqual(try e.embed("a b c").count, H)
    }

    /// --batch 4096 on one word: the arena holds the token budget, not batch x max length.
    func testBatchArenaIsATokenBudget() throws {
        var o = Embedder.Options()
        o.threads = 1
        o.batch = 4096
        let big = try Embedder(modelPath: Fixtures.tinyModels.int8, options: o)
        o.batch = 1
        o.batchTokens = Embedder.defaultBatchTokens
        let budget = try Embedder(modelPath: Fixtures.tinyModels.int8, options: o)
        XCTAssertEqual(big.batchTokens, Embedder.defaultBatchTokens)
        XCTAssertEqual(big.arenaBytes, budget.arenaBytes + 2 * (4096 * 4 - 64))  // only seqStart/seqLength [batch] grow
        // Batches cut by the budget still give the one-at-a-time results, bit for bit.
        let texts = (0..<40).map { "the man was here number \($0) " + String(repeating: "he was ", count: $0 % 7) }
        o.batchTokens = 40
        o.batch = 16
        let small = try Embedder(modelPath: Fixtures.tinyModels.int8, options: o)
        let one = try Embedder(modelPath: Fixtures.tinyModels.int8, options: { var x = Embedder.Options(); x.threads = 1; return x }())
        XCTAssertEqual(try small.embed(texts), try texts.map { try one.embed($0) })
    }

    func testEmptyAndBlankTextsEmbedAsClsSep() throws {
        let e = try Embedder(modelPath: Fixtures.tinyModels.int8)
        XCTAssertEqual(e.tokenize(""), [Int32(e.config.special.cls), Int32(e.config.special.sep)])
        XCTAssertEqual(e.tokenize(" \t "), e.tokenize(""))
        let v = try e.embed("")
        XCTAssertEqual(v, try e.embed("   "))
        XCTAssertEqual(v.count, e.dimension)
        XCTAssertTrue(v.allSatisfy { $0.isFinite })
    }
}

/// Hostile checkpoints for `quantize`.
final class HostileCheckpointTests: XCTestCase {
    /// The tiny checkpoint with the float at element `index` of its data region set to `value`.
    func checkpoint(setting value: Float, at index: Int = 5) throws -> String {
        let dir = Fixtures.huggingFaceFolder("tiny-bert")
        let p = dir + "/model.safetensors"
        var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
        let headerLength = (0..<8).reduce(0) { $0 | Int(b[$1]) << (8 * $1) }
        let at = 8 + headerLength + 4 * index
        withUnsafeBytes(of: value.bitPattern.littleEndian) { for i in 0..<4 { b[at + i] = $0[i] } }
        try Data(b).write(to: URL(fileURLWithPath: p))
        return dir
    }

    func testNonFiniteAndAbsurdWeightsAreRefusedBeforeWriting() throws {
        for v: Float in [.infinity, -.infinity, .nan, 3e38, -1e6] {
            let hf = try checkpoint(setting: v)
            let out = TempDir.make("inf") + "/out.ebm"
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: out))
            XCTAssertThrowsError(try Converter.convert(hfDir: hf, outPath: out, options: Converter.Options()), "\(v)") { e in
                let why = (e as! EdgeBERTError).why
                XCTAssertTrue(why.contains("must be finite and within"), why)
                XCTAssertTrue(why.hasPrefix("tensor "), why)
            }
            XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "keep me", "an existing output must survive")
            let dir = (out as NSString).deletingLastPathComponent
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.ebm"], "no scratch left")
        }
    }

    func testOutputInsideTheCheckpointIsRefused() throws {
        let hf = Fixtures.huggingFaceFolder("tiny-bert")
        let weights = hf + "/model.safetensors"
        let before = try Data(contentsOf: URL(fileURLWithPath: weights))
        XCTAssertThrowsError(try Converter.convert(hfDir: hf, outPath: weights, options: Converter.Options())) { e in
            XCTAssertTrue((e as! EdgeBERTError).why.contains("refusing to overwrite"))
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: weights)), before)
        // A new file in the folder is fine.
        var o = Converter.Options()
        o.dtype = .f32
        XCTAssertNoThrow(try Converter.convert(hfDir: hf, outPath: hf + "/model.ebm", options: o))
    }

    func testModulePathsStayInsideTheFolder() throws {
        for path in ["../elsewhere", "/etc", "1_Pooling/../../x"] {
            let hf = Fixtures.huggingFaceFolder("tiny-bert")
            try Data(#"[{"idx": 0, "name": "1", "path": "\#(path)", "type": "sentence_transformers.models.Pooling"}]"#.utf8)
                .write(to: URL(fileURLWithPath: hf + "/modules.json"))
            XCTAssertThrowsError(try HuggingFaceFolder(path: hf), path) { e in
                XCTAssertTrue((e as! EdgeBERTError).why.contains("leaves the model folder"), (e as! EdgeBERTError).why)
            }
        }
        // A folder name inside that is a symlink to a folder outside.
        let hf = Fixtures.huggingFaceFolder("tiny-bert")
        let outside = TempDir.make("outside")
        try Data(#"{"pooling_mode_cls_token": true}"#.utf8).write(to: URL(fileURLWithPath: outside + "/config.json"))
        try FileManager.default.createSymbolicLink(atPath: hf + "/1_Pooling", withDestinationPath: outside)
        try Data(#"[{"idx": 0, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]"#.utf8)
            .write(to: URL(fileURLWithPath: hf + "/modules.json"))
        XCTAssertThrowsError(try HuggingFaceFolder(path: hf)) { e in
            XCTAssertTrue((e as! EdgeBERTError).why.contains("through a symlink"), (e as! EdgeBERTError).why)
        }
    }
}

/// The line reader: bounded memory, exact bytes, every edge of its buffer.
final class LineReaderTests: XCTestCase {
    func lines(_ input: [UInt8], max: Int = 1 << 20, buffer: Int = 1 << 16) throws -> [Line] {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let writeEnd = fds[1]
        let writer = Thread {
            input.withUnsafeBytes { b in
                var off = 0
                while off < b.count { let n = write(writeEnd, b.baseAddress! + off, min(7, b.count - off)); if n <= 0 { break }; off += n }
            }
            close(writeEnd)
        }
        writer.start()
        var r = LineReader(fd: fds[0], what: "test", maxLineBytes: max, bufferBytes: buffer)
        var out: [Line] = []
        while let l = try r.next() { out.append(l) }
        close(fds[0])
        XCTAssertEqual(r.bytesConsumed, input.count)
        return out
    }

    func testSplitsOnNewlineOnlyAndDropsOneCR() throws {
        let ls = try lines(Array("a\r\nb\rc\n\n\r\nlast".utf8), buffer: 3)
        XCTAssertEqual(ls.map { String(decoding: $0.bytes, as: UTF8.self) }, ["a", "b\rc", "", "", "last"])
        XCTAssertEqual(ls.map(\.number), [1, 2, 3, 4, 5])
        XCTAssertEqual(try lines(Array("x\n".utf8)).count, 1)
        XCTAssertEqual(try lines([]).count, 0)
        XCTAssertEqual(try lines([0x0A]).map(\.bytes), [[]])
    }

    func testLongLinesAreCutInBoundedMemory() throws {
        let long = [UInt8](repeating: 0x61, count: 100) + [0x0A] + Array("ok\n".utf8)
        for buffer in [1, 2, 7, 64, 1000] {
            let ls = try lines(long, max: 10, buffer: buffer)
            XCTAssertEqual(ls.count, 2)
            XCTAssertEqual(ls[0].bytes, [UInt8](repeating: 0x61, count: 10))
            XCTAssertTrue(ls[0].truncated)
            XCTAssertEqual(ls[1].bytes, Array("ok".utf8))
            XCTAssertFalse(ls[1].truncated)
        }
        let exact = try lines(Array("0123456789\n".utf8), max: 10, buffer: 4)
        XCTAssertFalse(exact[0].truncated)
        // Exactly the limit, then "\r\n" (the "\r" alone past the limit, in this read or the next).
        for buffer in [1, 3, 11, 64] {
            let crlf = try lines(Array("0123456789\r\nx\r".utf8), max: 10, buffer: buffer)
            XCTAssertEqual(crlf.map(\.truncated), [false, false], "buffer \(buffer)")
            XCTAssertEqual(crlf[0].bytes, Array("0123456789".utf8))
            XCTAssertEqual(crlf[1].bytes, Array("x".utf8))  // the last line's trailing "\r" goes too
        }
    }

    /// Random inputs and buffer sizes: joining the lines gives back the input (no "\r", no cuts).
    func testRoundTripOverRandomBuffers() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let n = Int.random(in: 0...300, using: &rng)
            let input = (0..<n).map { _ in [0x0A, 0x61, 0x62, 0xFF][Int.random(in: 0...3, using: &rng)] as UInt8 }
            let ls = try lines(input, buffer: Int.random(in: 1...17, using: &rng))
            var joined = ls.map(\.bytes).joined(separator: [0x0A]).map { $0 }
            if input.last == 0x0A { joined.append(0x0A) }
            XCTAssertEqual(joined, input)
        }
    }
}

/// Little-endian patching of a model file's bytes, with both checksums redone.
enum ModelBytes {
    static func rechecksum(_ b: inout [UInt8]) {
        if let dataOffset = Int(exactly: readU64(b, 136)), dataOffset >= ModelHeader.size && dataOffset <= b.count {
            let meta = b.withUnsafeBytes { ModelHeader.metaCRC($0, dataOffset: dataOffset) }
            writeU32(&b, ModelHeader.metaChecksumOffset, meta)
        }
        let full = b.withUnsafeBytes { Checksum.crc32c(UnsafeRawBufferPointer(rebasing: $0[16...])) }
        writeU32(&b, 12, full)
    }

    static func readU64(_ b: [UInt8], _ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * $1) } }
    static func writeU64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) { for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
    static func writeU32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) { for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }

}

/// System errors keep their errno as a value.
final class SystemErrorTests: XCTestCase {
    func testErrnoIsKept() throws {
        XCTAssertThrowsError(try ModelFile(path: "/nonexistent/model.ebm")) { e in
            XCTAssertEqual((e as! EdgeBERTError).errno, ENOENT)
        }
        let out = try OutputFile(path: "/dev/full")
        XCTAssertThrowsError(try out.write([1, 2, 3])) { e in
            let err = e as! EdgeBERTError
            XCTAssertEqual(err.errno, ENOSPC)
            XCTAssertEqual(err.description, "/dev/full: cannot write: no space left on device")
        }
        XCTAssertNil(EdgeBERTError.data("x", "y").errno)
    }
}

/// Inputs libFuzzer found crashing the model reader before its arithmetic was checked
/// (Tests/Fuzz/crashers/model, found against 3481263): with both checksums redone, as the
/// harness does, each must now be refused with an error.
final class FuzzCrasherTests: XCTestCase {
    func testModelCrashersAreRefused() throws {
        let dir = Fixtures.root.deletingLastPathComponent().appendingPathComponent("Fuzz/crashers/model").path
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".v2") }.sorted()
        XCTAssertEqual(files.count, 4, "the four crashers: \(files)")
        for f in files {
            var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + f)))
            ModelBytes.rechecksum(&b)
            let p = TempDir.make("crasher") + "/m.ebm"
            try Data(b).write(to: URL(fileURLWithPath: p))
            XCTAssertThrowsError(try ModelFile(path: p), f) { e in XCTAssertFalse((e as! EdgeBERTError).why.isEmpty) }
        }
    }
}
