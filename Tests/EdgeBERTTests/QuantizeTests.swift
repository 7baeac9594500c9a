import XCTest
@testable import EdgeBERT

/// What `quantize` decides from measurement: smoothing strengths and which matrices stay float.
final class QuantizeTests: XCTestCase {
    func testMatricesAboveTheMeasuredErrorBoundStayFloat() throws {
        let hf = Fixtures.tinyModels.hf
        let dir = TempDir.make("keep")
        let first = try Converter.convert(hfDir: hf, outPath: dir + "/a.ebm", options: .init())
        let errors = first.layers.compactMap(\.outputError).sorted()
        XCTAssertEqual(errors.count, first.layers.count, "every int8 matrix is measured on calibration inputs")
        XCTAssertTrue(errors.allSatisfy { $0 > 0 && $0 < 0.2 }, "\(errors)")
        // A bound at the median keeps the worse half in float, and the file says so.
        var o = Converter.Options()
        o.maxOutputError = errors[errors.count / 2]
        let second = try Converter.convert(hfDir: hf, outPath: dir + "/b.ebm", options: o)
        let kept = second.layers.filter(\.keptByMeasurement)
        XCTAssertFalse(kept.isEmpty)
        XCTAssertLessThan(kept.count, second.layers.count)
        let m = try ModelFile(path: dir + "/b.ebm")
        for r in second.layers {
            let e = try XCTUnwrap(m.entry(r.name + ".weight"))
            XCTAssertEqual(e.dtype, r.keptByMeasurement ? .f32Packed : .i8Packed, r.name)
            if r.keptByMeasurement { XCTAssertGreaterThan(try XCTUnwrap(r.outputError), o.maxOutputError) }
        }
        // The mixed model runs and stays close to the float one.
        let f32 = try Embedder(modelPath: Fixtures.tinyModels.f32)
        let mixed = try Embedder(model: m)
        for t in ["the man was here", "he was, she is!"] {
            XCTAssertGreaterThan(cosine(try mixed.embed(t), try f32.embed(t)), Tolerance.tinyInt8Cosine)
        }
        // --keep-float overrides by name; smoothing 0 turns calibration off.
        var byName = Converter.Options()
        byName.keepFloat = ["intermediate"]
        byName.smoothing = 0
        let third = try Converter.convert(hfDir: hf, outPath: dir + "/c.ebm", options: byName)
        XCTAssertFalse(third.smoothed)
        XCTAssertEqual(third.layers.filter { $0.stored == .f32Packed }.map(\.name),
                       ["encoder.layer.0.intermediate.dense", "encoder.layer.1.intermediate.dense"])
    }

    func testSmoothingIsChosenPerInputKind() throws {
        let report = try Converter.convert(hfDir: Fixtures.tinyModels.hf, outPath: TempDir.make("alpha") + "/m.ebm", options: .init())
        XCTAssertTrue(report.smoothed)
        XCTAssertEqual(report.alphas.count, 4)
        XCTAssertTrue(report.alphas.allSatisfy { (0.3...0.8).contains($0) })
    }

    /// The f32 side product of outlier inputs is exact: with every input of every layer an
    /// outlier, the int8 products are zero and the model computes the float model's sums.
    func testOutlierInputsAreMultipliedInFloat() throws {
        let hf = Fixtures.tinyModels.hf
        let f32 = try ModelFile(path: Fixtures.tinyModels.f32)
        let c = f32.config
        var o = Converter.Options()
        o.outlierChannels = [c.hidden, c.hidden, c.hidden, c.intermediate]
        let path = TempDir.make("outliers") + "/m.ebm"
        try Converter.convert(hfDir: hf, outPath: path, options: o)
        let m = try ModelFile(path: path)
        let name = "encoder.layer.0.output.dense"
        XCTAssertEqual(m.entry(name + ".outlier_index")?.shape, [c.intermediate])
        XCTAssertEqual(m.entry(name + ".outlier_weight")?.shape, [c.intermediate, c.hidden])
        var options = Embedder.Options()
        options.int8Attention = false
        let all = try Embedder(model: m, options: options), float = try Embedder(model: f32)
        for t in ["the man was here", "he was, she is!"] {
            XCTAssertGreaterThan(cosine(try all.embed(t), try float.embed(t)), Tolerance.f32Cosine)
        }
        // The default: a few FFN-hidden inputs of every layer, with a smoothing factor of 0.
        let d = try ModelFile(path: Fixtures.tinyModels.int8)
        let index = try d.tensor(name + ".outlier_index", [.i32], [Converter.Options().outlierChannels[3]]).int32s
        let smooth = try d.tensor(name + ".smooth", [.f32], [c.intermediate]).floats
        XCTAssertEqual(smooth[Int(index[0])], 0)
    }
}
