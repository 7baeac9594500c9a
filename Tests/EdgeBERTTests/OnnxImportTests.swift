import Foundation
import XCTest
@testable import EdgeBERT

/// Protobuf's wire format, written the simple way, for crafting ONNX files in tests.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func tag(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    mutating func int(_ field: Int, _ v: Int64) { tag(field, 0); varint(UInt64(bitPattern: v)) }
    mutating func raw(_ field: Int, _ b: [UInt8]) { tag(field, 2); varint(UInt64(b.count)); bytes += b }
    mutating func string(_ field: Int, _ s: String) { raw(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ m: ProtoWriter) { raw(field, m.bytes) }
    mutating func float(_ field: Int, _ f: Float) {
        tag(field, 5)
        withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 }
    }

    /// A TensorProto: dims packed, raw_data of float32 `values` (or `raw` as given).
    static func tensor(_ name: String, dims: [Int64], type: Int64 = 1, values: [Float] = [], raw: [UInt8]? = nil,
                       external: [(String, String)]? = nil) -> ProtoWriter {
        var t = ProtoWriter()
        var packed = ProtoWriter()
        for d in dims { packed.varint(UInt64(bitPattern: d)) }
        t.raw(1, packed.bytes)
        t.int(2, type)
        t.string(8, name)
        if let external {
            for (k, v) in external {
                var e = ProtoWriter()
                e.string(1, k)
                e.string(2, v)
                t.message(13, e)
            }
            t.int(14, 1)
        } else {
            t.raw(9, raw ?? values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
        }
        return t
    }

    /// A NodeProto.
    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "") -> ProtoWriter {
        var n = ProtoWriter()
        for i in inputs { n.string(1, i) }
        for o in outputs { n.string(2, o) }
        n.string(3, name.isEmpty ? op + "_" + (outputs.first ?? "") : name)
        n.string(4, op)
        return n
    }

    /// A ModelProto holding one graph.
    static func model(nodes: [ProtoWriter], initializers: [ProtoWriter], inputs: [String], outputs: [String]) -> [UInt8] {
        var g = ProtoWriter()
        for n in nodes { g.message(1, n) }
        g.string(2, "g")
        for t in initializers { g.message(5, t) }
        for (field, names) in [(11, inputs), (12, outputs)] {
            for name in names {
                var v = ProtoWriter()
                v.string(1, name)
                g.message(field, v)
            }
        }
        var m = ProtoWriter()
        m.int(1, 8)
        m.string(2, "edgebert-test")
        var opset = ProtoWriter()
        opset.string(1, "")
        opset.int(2, 17)
        m.message(8, opset)
        m.message(7, g)
        return m.bytes
    }
}

/// The ONNX import path: the protobuf reader, the ONNX reader's checks on hostile files, and the
/// mapping of real exporter output (transformers 5 + torch.onnx at opsets 14 and 17, the tiny
/// random-weight model) to exactly the tensors the safetensors path gives.
final class OnnxImportTests: XCTestCase {
    /// A temporary folder holding `bytes` as m.onnx, and tiny-bert's vocabulary beside it.
    func write(_ bytes: [UInt8], name: String = "m.onnx", in dir: String? = nil) -> String {
        let dir = dir ?? TempDir.make("onnx")
        let path = dir + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        if !FileManager.default.fileExists(atPath: dir + "/vocab.txt") {
            try! FileManager.default.copyItem(atPath: Fixtures.path("tiny-bert/vocab.txt"), toPath: dir + "/vocab.txt")
        }
        return path
    }

    /// The error quantize's converter gives for `path`: one line, naming the file.
    func refusal(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            try Converter.convert(hfDir: path, outPath: path + ".ebm", options: .init())
            XCTFail("\(path) was accepted", file: file, line: line)
            return ""
        } catch {
            let text = error.description
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
            XCTAssertTrue(error.what.hasPrefix(path), text, file: file, line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".ebm"), file: file, line: line)
            return text
        }
    }

    func assertRefused(_ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let text = refusal(write(bytes), file: file, line: line)
        XCTAssertTrue(text.contains(expected), "expected \"\(expected)\" in: \(text)", file: file, line: line)
    }

    /// The tiny model's export, copied to a temp folder as model.onnx with its vocabulary.
    func tinyExport(opset: Int) -> String {
        let bytes = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny-bert-onnx/opset\(opset).onnx.tiny")))
        return write(Array(bytes), name: "model.onnx")
    }

    // MARK: Real exporter output

    /// Both opsets (decomposed LayerNorm at 14, LayerNormalization at 17) give, tensor for tensor,
    /// the bytes the safetensors checkpoint gives: names, shapes, transposition, values.
    func testTinyExportsGiveTheSafetensorsTensors() throws {
        var o = Converter.Options()
        o.dtype = .f32
        let reference = try ModelFile(path: Fixtures.tinyModels.f32)
        for opset in [14, 17] {
            let onnx = tinyExport(opset: opset)
            try Converter.convert(hfDir: onnx, outPath: onnx + ".ebm", options: o)
            let m = try ModelFile(path: onnx + ".ebm")
            XCTAssertEqual(m.entries.map(\.name), reference.entries.map(\.name), "opset \(opset)")
            for (a, b) in zip(m.entries, reference.entries) {
                XCTAssertEqual(a.shape, b.shape, "opset \(opset): \(a.name)")
                XCTAssertEqual(m.file.bytes[a.offset..<(a.offset + a.length)].elementsEqual(
                    reference.file.bytes[b.offset..<(b.offset + b.length)]), true, "opset \(opset): \(a.name) differs")
            }
            var expected = reference.config
            expected.normalize = false  // the graph mean-pools and does not normalise
            XCTAssertEqual(m.config, expected, "opset \(opset)")
            XCTAssertEqual(m.config.layerNormEps, 1e-12)
            XCTAssertEqual(m.config.heads, 4)
            XCTAssertEqual(m.config.layers, 2)
            XCTAssertEqual(m.config.intermediate, 100)
            XCTAssertEqual(m.config.maxSequenceLength, 64)  // min(128, 64 positions)
            XCTAssertEqual(m.config.pooling, .mean)
        }
    }

    /// The MatMul weights are stored [in, out] under anonymous names; the mapping hands them on
    /// [out, in] under BERT's names, query, key and value told apart by the graph.
    func testAnonymousTransposedWeightsAreMapped() throws {
        let bert = try OnnxBert(model: try OnnxModel(path: tinyExport(opset: 17)))
        let hf = try SafetensorsFile(path: Fixtures.tinyModels.hf + "/model.safetensors")
        XCTAssertEqual(bert.floatTensorShapes.count, 5 + 2 * 16)
        for name in ["encoder.layer.1.attention.self.query.weight", "encoder.layer.1.attention.self.key.weight",
                     "encoder.layer.1.attention.self.value.weight", "encoder.layer.0.intermediate.dense.weight",
                     "encoder.layer.0.output.dense.weight"] {
            let (shape, values) = try bert.floats(name)
            let (hfShape, hfValues) = try hf.floats(name)
            XCTAssertEqual(shape, hfShape, name)
            XCTAssertEqual(values, hfValues, name)
        }
        XCTAssertEqual(try bert.floats("encoder.layer.0.intermediate.dense.weight").shape, [100, 32])
        XCTAssertEqual(bert.model.opset, 17)
        XCTAssertTrue(bert.model.producer.hasPrefix("pytorch"), bert.model.producer)
    }

    func testVocabularyFromFlagOrBesideTheFile() throws {
        let dir = TempDir.make("onnx-vocab")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny-bert-onnx/opset17.onnx.tiny")))
        _ = FileManager.default.createFile(atPath: dir + "/model.onnx", contents: bytes)
        let text = refusal(dir + "/model.onnx")
        XCTAssertTrue(text.contains("the export has no vocabulary: pass --vocab FILE"), text)
        var o = Converter.Options()
        o.vocabPath = Fixtures.path("tiny-bert/vocab.txt")
        o.dtype = .f32
        try Converter.convert(hfDir: dir + "/model.onnx", outPath: dir + "/out.ebm", options: o)
        XCTAssertEqual(try ModelFile(path: dir + "/out.ebm").config.vocabSize, 3000)
        // A vocabulary of another size is not this model's.
        o.vocabPath = Fixtures.path("tokenizer/vocab-uncased.txt")
        XCTAssertThrowsError(try Converter.convert(hfDir: dir + "/model.onnx", outPath: dir + "/out2.ebm", options: o)) {
            XCTAssertTrue("\($0)".contains("the model's word table has 3000 rows: not this model's vocabulary"), "\($0)")
        }
        // The output may not replace the model it converts.
        o.vocabPath = Fixtures.path("tiny-bert/vocab.txt")
        XCTAssertThrowsError(try Converter.convert(hfDir: dir + "/model.onnx", outPath: dir + "/model.onnx", options: o)) {
            XCTAssertTrue("\($0)".contains("is a file of the checkpoint being converted"), "\($0)")
        }
    }

    func testCommandLineQuantizesAnExportAndRefusesByName() throws {
        try CLI.requireBinary()
        let onnx = tinyExport(opset: 14)
        let ok = try CLI.run(["quantize", onnx, "-o", onnx + ".ebm", "--vocab", Fixtures.path("tiny-bert/vocab.txt"), "-q",
                              "--max-seq-length", "32"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(try ModelFile(path: onnx + ".ebm").config.maxSequenceLength, 32)
        let bad = write(ProtoWriter.model(nodes: [.node("Relu", ["input_ids"], ["y"])], initializers: [], inputs: ["input_ids"], outputs: ["y"]))
        let r = try CLI.run(["quantize", bad, "-o", bad + ".ebm"])
        CLI.assertError(r, status: 1, contains: "\(bad): unsupported graph: no Gather of a float table by input_ids")
    }

    // MARK: The protobuf reader

    func testProtobufReaderReadsEveryWireTypeAndRefusesTheRest() throws {
        var w = ProtoWriter()
        w.int(1, -1)                   // a 10-byte varint
        w.string(2, "héllo")
        w.float(3, 1.5)
        w.tag(4, 1); w.bytes += [1, 0, 0, 0, 0, 0, 0, 0]
        try w.bytes.withUnsafeBytes { b in
            var r = try ProtoReader(b, what: "t")
            var fields: [Int] = []
            while let (n, v) = try r.next() {
                fields.append(n)
                switch n {
                case 1: XCTAssertEqual(try ProtoReader.int64(v, what: "t"), -1)
                case 2: XCTAssertEqual(try ProtoReader.string(v, what: "t"), "héllo")
                case 3: XCTAssertEqual(try ProtoReader.float(v, what: "t"), 1.5)
                default: if case .fixed64(let u) = v { XCTAssertEqual(u, 1) } else { XCTFail("fixed64") }
                }
            }
            XCTAssertEqual(fields, [1, 2, 3, 4])
        }
        let hostile: [([UInt8], String)] = [
            ([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02], "does not fit 64 bits"),
            ([0x08, 0x80], "runs past the end"),
            ([0x12, 0x05, 0x41], "claims 5 bytes, 1 are left"),
            ([0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "claims 18446744073709551615 bytes"),
            ([0x1B], "wire type 3"),
            ([0x00, 0x00], "field number 0"),
            ([0x1D, 0x00, 0x00], "runs past the end of the message"),
        ]
        for (bytes, expected) in hostile {
            bytes.withUnsafeBytes { b in
                do {
                    var r = try ProtoReader(b, what: "t")
                    while try r.next() != nil {}
                    XCTFail("accepted \(bytes)")
                } catch {
                    XCTAssertTrue("\(error)".contains(expected), "\(bytes): \(error)")
                }
            }
        }
        // Nesting stops at the limit.
        try [UInt8]().withUnsafeBytes { b in
            _ = try ProtoReader(b, what: "t", depth: ProtoReader.maxDepth)
            XCTAssertThrowsError(try ProtoReader(b, what: "t", depth: ProtoReader.maxDepth + 1))
        }
    }

    // MARK: Hostile files

    /// Cut anywhere, the tiny export is refused with one line (never a trap).
    func testTruncatedExportsAreRefused() throws {
        let full = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny-bert-onnx/opset17.onnx.tiny")))
        for cut in [1, 2, 7, 64, 1000, full.count / 3, full.count / 2, full.count - 100, full.count - 1] {
            _ = refusal(write(Array(full.prefix(cut))))
        }
        XCTAssertTrue(refusal(write(Array(full.prefix(full.count / 2)))).contains("truncated?"))
    }

    func testWrongTypesAreRefused() {
        let table = ProtoWriter.tensor("w", dims: [4, 2], values: [Float](repeating: 0.5, count: 8))
        // The word table as INT64 of the right byte size: not a float table.
        let ints = ProtoWriter.tensor("w", dims: [4, 1], type: 7, raw: [UInt8](repeating: 0, count: 32))
        assertRefused(ProtoWriter.model(nodes: [.node("Gather", ["w", "input_ids"], ["e"])], initializers: [ints],
                                        inputs: ["input_ids"], outputs: ["e"]), "no Gather of a float table by input_ids")
        // Bytes that do not match dims x the type's width.
        let short = ProtoWriter.tensor("w", dims: [4, 2], values: [Float](repeating: 0.5, count: 7))
        assertRefused(ProtoWriter.model(nodes: [.node("Gather", ["w", "input_ids"], ["e"])], initializers: [short],
                                        inputs: ["input_ids"], outputs: ["e"]), "28 bytes of data for dims [4, 2] of data type 1")
        // A data type EdgeBERT does not know.
        let odd = ProtoWriter.tensor("w", dims: [2], type: 99, raw: [1, 2])
        assertRefused(ProtoWriter.model(nodes: [], initializers: [odd], inputs: [], outputs: []), "data type 99 is not one EdgeBERT reads")
        // dims written as a float (wire type 5) instead of integers.
        var t = ProtoWriter()
        t.float(1, 4)
        t.string(8, "w")
        assertRefused(ProtoWriter.model(nodes: [], initializers: [t], inputs: [], outputs: []), "expected integers")
        // An embedding sum that is not a table lookup.
        assertRefused(ProtoWriter.model(nodes: [.node("Gather", ["w", "input_ids"], ["e"]), .node("Add", ["e", "x"], ["s"])],
                                        initializers: [table], inputs: ["input_ids", "x"], outputs: ["s"]),
                      "unsupported graph: x, not a table lookup, is added to the word embeddings")
        let r = ProtoWriter.tensor("r", dims: [2], values: [1, 2])
        assertRefused(ProtoWriter.model(nodes: [.node("Gather", ["w", "input_ids"], ["e"]), .node("Relu", ["r"], ["x"], name: "act"),
                                                .node("Add", ["e", "x"], ["s"])],
                                        initializers: [table, r], inputs: ["input_ids"], outputs: ["s"]),
                      "expected an embedding-table Gather in the embeddings' sum (node act of type Relu)")
    }

    func testCycleIsRefused() {
        let nodes: [ProtoWriter] = [.node("Relu", ["b"], ["a"], name: "first"), .node("Relu", ["a"], ["b"], name: "second"),
                                    .node("Add", ["input_ids", "a"], ["y"])]
        assertRefused(ProtoWriter.model(nodes: nodes, initializers: [], inputs: ["input_ids"], outputs: ["y"]),
                      "the graph has a cycle: node")
        // A node reading its own output.
        assertRefused(ProtoWriter.model(nodes: [.node("Add", ["input_ids", "y"], ["y"], name: "self")], initializers: [],
                                        inputs: ["input_ids"], outputs: ["y"]),
                      "the graph has a cycle: node self of type Add depends on its own output")
        // Two producers of one value.
        assertRefused(ProtoWriter.model(nodes: [.node("Relu", ["input_ids"], ["y"]), .node("Relu", ["input_ids"], ["y"], name: "again")],
                                        initializers: [], inputs: ["input_ids"], outputs: ["y"]),
                      "value y is written twice (node again of type Relu writes it again)")
    }

    func testHugeDimsAreRefused() {
        for (dims, expected) in [([Int64(1) << 40], "dims [1099511627776] are negative or too large"),
                                 ([-1, 4], "dims [-1, 4] are negative or too large"),
                                 ([2147483647, 2147483647, 2147483647], "hold more elements than memory can"),
                                 ([65536, 65536], "0 bytes of data for dims [65536, 65536]"),
                                 ([Int64](repeating: 1, count: 9), "9 dimensions")] {
            let t = ProtoWriter.tensor("w", dims: dims, raw: [])
            assertRefused(ProtoWriter.model(nodes: [], initializers: [t], inputs: [], outputs: []), expected)
        }
    }

    func testMissingInitializerIsRefused() {
        let nodes: [ProtoWriter] = [.node("Gather", ["model.word_embeddings", "input_ids"], ["e"], name: "lookup")]
        assertRefused(ProtoWriter.model(nodes: nodes, initializers: [], inputs: ["input_ids"], outputs: ["e"]),
                      "node lookup of type Gather reads model.word_embeddings, which no node, initializer or graph input provides (a missing initializer?)")
        assertRefused(ProtoWriter.model(nodes: [], initializers: [], inputs: ["input_ids"], outputs: ["nothing"]),
                      "graph output nothing is produced by no node")
    }

    func testExternalDataIsConfinedToTheModelFolder() throws {
        let dir = TempDir.make("onnx-external")
        let values = (0..<8).map { Float($0) }
        let data = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        _ = FileManager.default.createFile(atPath: dir + "/weights.bin", contents: Data([0, 0, 0, 0] + data))
        let outside = TempDir.make("onnx-outside")
        _ = FileManager.default.createFile(atPath: outside + "/secret.bin", contents: Data(data))
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.bin", withDestinationPath: outside + "/secret.bin")
        func model(_ entries: [(String, String)]) -> [UInt8] {
            let t = ProtoWriter.tensor("w", dims: [4, 2], external: entries)
            return ProtoWriter.model(nodes: [.node("Gather", ["w", "input_ids"], ["e"])], initializers: [t],
                                     inputs: ["input_ids"], outputs: ["e"])
        }
        // Inside the folder, at an offset: read (the graph is then refused as not BERT).
        let ok = try OnnxModel(path: write(model([("location", "weights.bin"), ("offset", "4"), ("length", "32")]), in: dir))
        XCTAssertEqual(try ok.floats(ok.initializers["w"]!), values)
        for (entries, expected) in [
            ([("location", "../onnx-outside/secret.bin")], "leaves the model's folder (absolute or with ..): refused"),
            ([("location", outside + "/secret.bin")], "leaves the model's folder (absolute or with ..): refused"),
            ([("location", "link.bin")], "leads outside the model's folder (through a symlink): refused"),
            ([("location", "missing.bin")], "does not exist"),
            ([("location", "weights.bin"), ("offset", "40")], "external data offset 40 is past the end"),
            ([("location", "weights.bin"), ("offset", "4"), ("length", "9999")], "external data of 9999 bytes at offset 4 runs past the end"),
            ([("location", "weights.bin"), ("offset", "-4")], "external data offset \"-4\" is not a decimal byte count"),
            ([("location", "weights.bin"), ("offset", "99999999999999999999")], "is not a decimal byte count"),
            ([("location", "weights.bin"), ("length", "8")], "8 bytes of data for dims [4, 2]"),
            ([("offset", "0")], "external data without a location"),
        ] as [([(String, String)], String)] {
            let text = refusal(write(model(entries), name: "x.onnx", in: dir))
            XCTAssertTrue(text.contains(expected), "expected \"\(expected)\" in: \(text)")
        }
    }

    func testUnsupportedGraphsAreRefusedByName() throws {
        // A word table but no position table.
        let w = ProtoWriter.tensor("w", dims: [4, 2], values: [Float](repeating: 0.5, count: 8))
        assertRefused(ProtoWriter.model(nodes: [.node("Gather", ["w", "input_ids"], ["e"])], initializers: [w],
                                        inputs: ["input_ids"], outputs: ["e"]),
                      "unsupported graph: the embeddings have no position table")
        // A subgraph operator where the embeddings' LayerNorm should be.
        let p = ProtoWriter.tensor("p", dims: [8, 2], values: [Float](repeating: 0.1, count: 16))
        let ids = ProtoWriter.tensor("pos", dims: [1, 3], type: 7, raw: [0, 1, 2].flatMap { (v: Int64) in withUnsafeBytes(of: v) { Array($0) } })
        let nodes: [ProtoWriter] = [.node("Gather", ["w", "input_ids"], ["e"]), .node("Gather", ["p", "pos"], ["pe"]),
                                    .node("Add", ["e", "pe"], ["s"]), .node("If", ["s"], ["y"], name: "branch")]
        assertRefused(ProtoWriter.model(nodes: nodes, initializers: [w, p, ids], inputs: ["input_ids"], outputs: ["y"]),
                      "unsupported graph: expected embeddings.LayerNorm (LayerNormalization) (node branch of type If)")
    }
}
