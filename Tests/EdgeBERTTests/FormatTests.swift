import Foundation
import XCTest
@testable import EdgeBERT

/// The model file: round trip, validation of every offset, checksum, atomic writes.
final class FormatTests: XCTestCase {
    func testRoundTripListsEveryTensorWithItsShape() throws {
        let m = try ModelFile(path: Fixtures.tinyModels.int8)
        XCTAssertEqual(m.header.weightDType, .i8)
        // embeddings: word (+scale), position, type, LN x2; per layer 6 linears x (weight, scale,
        // colsum, bias, smooth, outlier_index, outlier_weight) and 2 LayerNorms x 2.
        XCTAssertEqual(m.entries.count, 6 + 2 * (6 * 7 + 4))
        let q = try XCTUnwrap(m.entry("encoder.layer.1.intermediate.dense.weight"))
        XCTAssertEqual(q.dtype, .i8Packed)
        XCTAssertEqual(q.shape, [100, 32])
        XCTAssertEqual(q.length, 112 * 32)
        XCTAssertEqual(try XCTUnwrap(m.entry("encoder.layer.1.intermediate.dense.scale")).shape, [112])
        for e in m.entries { XCTAssertEqual(e.offset % 64, 0, e.name) }
        XCTAssertNoThrow(try m.verify())
        XCTAssertEqual(m.vocab.count, 3000)
        XCTAssertEqual(m.vocab[101], "[CLS]")
    }

    func testPackedWeightsDequantiseToTheCheckpoint() throws {
        let hf = try HuggingFaceFolder(path: Fixtures.tinyModels.hf)
        let w = try SourceWeights(folder: hf).load("encoder.layer.0.output.dense.weight", [32, 100])
        var o = Converter.Options()
        o.smoothing = 0
        let path = TempDir.make("nosmooth") + "/m.ebm"
        try Converter.convert(hfDir: Fixtures.tinyModels.hf, outPath: path, options: o)
        let m = try ModelFile(path: path)
        let packed = try m.tensor("encoder.layer.0.output.dense.weight", [.i8Packed], [32, 100])
        let scale = try m.tensor("encoder.layer.0.output.dense.scale", [.f32], [32])
        XCTAssertFalse(m.has("encoder.layer.0.output.dense.smooth"))
        for n in 0..<32 {
            for k in 0..<100 {
                let q = packed.int8s[((n / 16) * 25 + k / 4) * 64 + (n % 16) * 4 + k % 4]
                XCTAssertEqual(Float(q) * scale.floats[n], w[n * 100 + k], accuracy: scale.floats[n] * 0.5 + 1e-7)
            }
        }
    }

    /// `--dtype f32` stores each dense layer's weights in 16-column panels ([N/16][K][16], zero
    /// past N) that hold the checkpoint's values exactly; a file of the earlier row-major layout
    /// (the same tensors, dense weights as plain f32 [N][K]) still loads and embeds bit for bit the
    /// same (the matmul sums in the same order either way).
    func testFloatPanelsHoldTheCheckpointAndRowMajorFilesStillLoad() throws {
        let hf = try HuggingFaceFolder(path: Fixtures.tinyModels.hf)
        let w = try SourceWeights(folder: hf).load("encoder.layer.0.intermediate.dense.weight", [100, 32])
        let m = try ModelFile(path: Fixtures.tinyModels.f32)
        let e = try XCTUnwrap(m.entry("encoder.layer.0.intermediate.dense.weight"))
        XCTAssertEqual(e.dtype, .f32Packed)
        XCTAssertEqual(e.shape, [100, 32])
        XCTAssertEqual(e.length, 112 * 32 * 4)
        let panels = try m.tensor("encoder.layer.0.intermediate.dense.weight", [.f32Packed], [100, 32]).floats
        for n in 0..<112 {
            for k in 0..<32 {
                XCTAssertEqual(panels[(n / 16) * 32 * 16 + k * 16 + n % 16], n < 100 ? w[n * 32 + k] : 0, "[\(n)][\(k)]")
            }
        }
        // The same model with every f32-packed tensor written back row-major, as before the panels.
        var tensors: [PendingTensor] = []
        for entry in m.entries {
            let bytes = UnsafeRawBufferPointer(start: m.file.bytes.baseAddress! + entry.offset, count: entry.length)
            guard entry.dtype == .f32Packed else {
                tensors.append(PendingTensor(name: entry.name, dtype: entry.dtype, shape: entry.shape, data: Array(bytes)))
                continue
            }
            let (rows, k) = (entry.shape[0], entry.shape[1])
            let p = bytes.bindMemory(to: Float.self)
            var rowMajor = [Float](repeating: 0, count: rows * k)
            for n in 0..<rows { for j in 0..<k { rowMajor[n * k + j] = p[(n / 16) * k * 16 + j * 16 + n % 16] } }
            tensors.append(PendingTensor(name: entry.name, floats: rowMajor, shape: entry.shape))
        }
        let old = TempDir.make("rowmajor") + "/old.ebm"
        try ModelWriter.write(path: old, config: m.config, weightDType: .f32, vocab: m.vocab, tensors: tensors)
        XCTAssertEqual(try XCTUnwrap(ModelFile(path: old).entry("encoder.layer.0.intermediate.dense.weight")).dtype, .f32)
        let texts = ["the man was here", "a cat sat on the mat with the dog", "he"]
        let packed = try Embedder(modelPath: Fixtures.tinyModels.f32), rowMajor = try Embedder(modelPath: old)
        for t in texts { XCTAssertEqual(try packed.embed(t), try rowMajor.embed(t), t) }
    }

    func testChangedByteIsCaughtByVerify() throws {
        let dir = TempDir.make("corrupt")
        let path = dir + "/m.ebm"
        try FileManager.default.copyItem(atPath: Fixtures.tinyModels.int8, toPath: path)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[data.count - 100] ^= 0x01
        try data.write(to: URL(fileURLWithPath: path))
        let m = try ModelFile(path: path)  // header and table still valid
        XCTAssertThrowsError(try m.verify()) { e in
            XCTAssertTrue((e as! EdgeBERTError).why.contains("checksum mismatch"))
        }
    }

    func testTruncatedAndForeignFilesAreRefusedWithAReason() throws {
        let dir = TempDir.make("bad")
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.tinyModels.int8))
        for cut in [0, 10, 200, 256 + 50, data.count / 2, data.count - 1] {
            let p = dir + "/cut\(cut).ebm"
            try data.prefix(cut).write(to: URL(fileURLWithPath: p))
            XCTAssertThrowsError(try ModelFile(path: p), "cut at \(cut)") { e in
                let why = (e as! EdgeBERTError).why
                XCTAssertTrue(why.contains("truncated") || why.contains("empty") || why.contains("shorter"), why)
            }
        }
        let foreign = dir + "/foreign.ebm"
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: foreign))
        XCTAssertThrowsError(try ModelFile(path: foreign)) { e in
            XCTAssertTrue((e as! EdgeBERTError).why.contains("bad magic"))
        }
        XCTAssertThrowsError(try ModelFile(path: dir + "/missing.ebm")) { e in
            XCTAssertTrue((e as! EdgeBERTError).why.contains("no such file"))
        }
        // A tensor offset pointing past the end: the header checksum catches it at open (a crafted
        // file with the checksums redone is refused naming the tensor: HostileModelTests).
        var moved = data
        let tableStart = 256
        let offsetField = tableStart + 104
        moved.replaceSubrange(offsetField..<(offsetField + 8), with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        let p = dir + "/moved.ebm"
        try moved.write(to: URL(fileURLWithPath: p))
        XCTAssertThrowsError(try ModelFile(path: p)) { e in
            XCTAssertTrue((e as! EdgeBERTError).why.contains("header checksum mismatch"))
        }
    }

    func testFailedConversionLeavesNothingBehind() throws {
        let dir = TempDir.make("atomic")
        let hf = Fixtures.huggingFaceFolder("tiny-bert")
        // Truncate the weights: conversion fails after the config was read.
        let w = hf + "/model.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: w))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: w))
        XCTAssertThrowsError(try Converter.convert(hfDir: hf, outPath: dir + "/out.ebm", options: .init()))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    func testUnsupportedArchitectureIsRefused() throws {
        let hf = Fixtures.huggingFaceFolder("tiny-bert")
        let cfg = hf + "/config.json"
        let text = try String(contentsOfFile: cfg, encoding: .utf8).replacingOccurrences(of: "\"bert\"", with: "\"roberta\"")
        try text.write(toFile: cfg, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Converter.convert(hfDir: hf, outPath: TempDir.make("x") + "/o.ebm", options: .init())) { e in
            XCTAssertTrue((e as! EdgeBERTError).why.contains("not supported"))
        }
    }

    func testHalfPrecisionConversions() {
        for v: Float in [0, 1, -2.5, 65504, 6.1035156e-05, 5.9604645e-08, 0.333251953125] {
            XCTAssertEqual(halfToFloat(floatToHalf(v)), v)
        }
        XCTAssertEqual(halfToFloat(0x3C00), 1)
        XCTAssertEqual(halfToFloat(0xC000), -2)
        XCTAssertTrue(halfToFloat(0x7C00).isInfinite)
    }
}

/// The small JSON reader used for configs and safetensors headers.
final class JSONTests: XCTestCase {
    func testValuesEscapesAndErrors() throws {
        let v = try JSON.parse(Array(#"{"a": [1, -2.5e3, true, false, null], "s": "x\"y\\z\u00e9\ud83d\ude00\n", "o": {}}"#.utf8), what: "t")
        XCTAssertEqual(v["a"], .array([.number(1), .number(-2500), .bool(true), .bool(false), .null]))
        XCTAssertEqual(v["s"]?.string, "x\"y\\zé😀\n")
        XCTAssertEqual(v["o"], .object([:]))
        XCTAssertEqual(v["a"]?.array?.first?.int, 1)
        XCTAssertEqual(v["a"]?.array?[1].int, -2500)
        for bad in ["{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "{} x", "[1 2]"] {
            XCTAssertThrowsError(try JSON.parse(Array(bad.utf8), what: "t"), bad) { e in
                XCTAssertTrue((e as! EdgeBERTError).why.hasPrefix("invalid JSON"), bad)
            }
        }
        let o = try JSONObject(try JSON.parse(Array(#"{"n": "3", "cls_token": {"content": "[CLS]"}}"#.utf8), what: "cfg"), what: "cfg")
        XCTAssertThrowsError(try o.int("n")) { e in XCTAssertEqual((e as! EdgeBERTError).why, "n: expected a whole number") }
        XCTAssertEqual(try o.string("cls_token"), "[CLS]")
        XCTAssertNil(try o.int("missing"))
    }
}

/// Corrupt files must fail with an error or run, never crash: every byte of the header, the
/// tensor table and the vocabulary flipped in turn (the data region is covered by the checksum).
final class CorruptionTests: XCTestCase {
    func testFlippedBytesNeverCrash() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Fixtures.tinyModels.int8))
        let m = try ModelFile(path: Fixtures.tinyModels.int8)
        let end = Int(m.header.vocabOffset) + 64  // header, table, the start of the vocabulary
        let dir = TempDir.make("flip")
        var opened = 0, refused = 0
        for offset in stride(from: 0, to: end, by: 3) {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var d = original
                d[offset] ^= mask
                let p = dir + "/f.ebm"
                try d.write(to: URL(fileURLWithPath: p))
                do {
                    let e = try Embedder(modelPath: p, options: { var o = Embedder.Options(); o.threads = 1; return o }())
                    _ = try e.embed("the man was here")
                    opened += 1
                } catch {
                    XCTAssertFalse(error.description.isEmpty)
                    refused += 1
                }
            }
        }
        XCTAssertGreaterThan(refused, 0)
        print("corruption: \(refused) refused, \(opened) still ran (flips in unused or tolerant fields)")
    }
}
