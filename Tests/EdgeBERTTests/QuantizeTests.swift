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
            XCTAssertEqual(e.dtype, r.keptByMeasurement ? .f32 : .i8Packed, r.name)
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
        XCTAssertEqual(third.layers.filter { $0.stored == .f32 }.map(\.name),
                       ["encoder.layer.0.intermediate.dense", "encoder.layer.1.intermediate.dense"])
    }

    func testSmoothingIsChosenPerInputKind() throws {
        let report = try Converter.convert(hfDir: Fixtures.tinyModels.hf, outPath: TempDir.make("alpha") + "/m.ebm", options: .init())
        XCTAssertTrue(report.smoothed)
        XCTAssertEqual(report.alphas.count, 4)
        XCTAssertTrue(report.alphas.allSatisfy { (0.3...0.8).contains($0) })
    }
}
