import CKernels
import XCTest
@testable import EdgeBERT

/// Int8 attention (ek_attention_head_i8): every kernel path against the ref path, against the
/// fp32 scalar twin, and hand-checked cases the 8-bit scheme must get right.
final class AttentionTests: XCTestCase {
    /// Context error allowed against fp32 attention, relative to max |v| of the head: 8-bit Q, K,
    /// V and probabilities (the C driver holds random, sharper heads to 0.05).
    static let int8Rel: Float = 0.02

    /// Runs one head on `kernel`'s GEMM with the best vector passes this CPU has (every path then
    /// shares the packing and softmax, so the GEMMs are compared bit for bit): q, k, v interleaved
    /// in rows of `ld` floats; returns [n][d].
    static func attention(_ kernel: UnsafePointer<ek_kernel>, _ x: [Float], ld: Int, n: Int, d: Int) -> [Float] {
        var scratch = [UInt8](repeating: 0, count: Int(ek_attention_i8_scratch(Int32(n), Int32(d))))
        var out = [Float](repeating: .nan, count: n * d)
        x.withUnsafeBufferPointer { xb in
            ek_attention_head_i8_at(2, kernel, xb.baseAddress, xb.baseAddress! + d, xb.baseAddress! + 2 * d, Int64(ld), Int32(n),
                                 Int32(d), 1 / Float(d).squareRoot(), &scratch, &out, Int64(d))
        }
        return out
    }

    func testEveryPathMatchesRefAndStaysNearFloat() {
        var rng = KernelTests.Rng(s: 17)
        for (n, d) in [(1, 8), (2, 4), (3, 32), (17, 12), (33, 64), (130, 32), (5, 20), (256, 32)] {
            let ld = 3 * d + 5
            let x = (0..<(n * ld)).map { _ in rng.float() / 4 }
            let ref = Self.attention(ek_kernel_named("ref")!, x, ld: ld, n: n, d: d)
            for path in KernelTests.paths {
                let got = Self.attention(path, x, ld: ld, n: n, d: d)
                XCTAssertEqual(got, ref, "\(String(cString: path.pointee.name)) n \(n) d \(d)")
            }
            var exact = [Float](repeating: 0, count: n * d), scores = [Float](repeating: 0, count: n)
            ek_attention_head_ref(x, x.withUnsafeBufferPointer { $0.baseAddress! + d }, x.withUnsafeBufferPointer { $0.baseAddress! + 2 * d },
                                  Int64(ld), Int32(n), Int32(d), 1 / Float(d).squareRoot(), nil, &scores, &exact, Int64(d))
            var vmax: Float = 0
            for j in 0..<n { for c in 0..<d { vmax = max(vmax, abs(x[j * ld + 2 * d + c])) } }
            for i in 0..<(n * d) {
                XCTAssertEqual(ref[i], exact[i], accuracy: Self.int8Rel * vmax, "n \(n) d \(d) [\(i)]")
            }
        }
    }

    /// The vector passes of each level (AVX-512 / AVX2 / scalar packing and softmax) on the same
    /// kernel: the packed bytes are the same by construction, only the softmax's float sums may
    /// add in another order, so the contexts agree to float rounding. Head widths 32 and 64 take
    /// the AVX-512 wide packers, 20 the generic bodies.
    func testVectorLevelsAgree() {
        var rng = KernelTests.Rng(s: 23)
        let kernel = ek_kernel_named("ref")!
        for (n, d) in [(1, 32), (5, 20), (16, 32), (17, 64), (33, 32), (130, 32), (256, 64)] {
            let ld = 3 * d + 3
            let x = (0..<(n * ld)).map { _ in rng.float() / 3 }
            var vmax: Float = 0
            for j in 0..<n { for c in 0..<d { vmax = max(vmax, abs(x[j * ld + 2 * d + c])) } }
            var outs: [[Float]] = []
            for level in Int32(0)...2 {
                var scratch = [UInt8](repeating: 0, count: Int(ek_attention_i8_scratch(Int32(n), Int32(d))))
                var out = [Float](repeating: .nan, count: n * d)
                x.withUnsafeBufferPointer { xb in
                    ek_attention_head_i8_at(level, kernel, xb.baseAddress, xb.baseAddress! + d, xb.baseAddress! + 2 * d,
                                            Int64(ld), Int32(n), Int32(d), 1 / Float(d).squareRoot(), &scratch, &out, Int64(d))
                }
                outs.append(out)
            }
            for level in 1...2 {
                for i in 0..<(n * d) {
                    XCTAssertEqual(outs[level][i], outs[0][i], accuracy: 1e-5 * vmax, "level \(level) n \(n) d \(d) [\(i)]")
                }
            }
        }
    }

    /// One key far ahead of 299 equal ones, each of those at e = exp(-6.5) = 0.0015 of the peak:
    /// below the 8-bit step (1/255), so every one rounds to 0, yet together they hold 31% of the
    /// mass. The offset of the quantised probabilities puts that mass back, spread evenly over all
    /// 300 tokens (so token 0 gets 1/300 of it too); true softmax gives 0.3798, rounding alone 1.
    func testProbabilitiesKeepTheMassOfAFlatTail() {
        let n = 300, d = 16, ld = 3 * d
        var x = [Float](repeating: 0, count: n * ld)
        for j in 0..<n {
            for c in 0..<d {
                x[j * ld + c] = 1                           // q: scores q.k / 4
                x[j * ld + d + c] = j == 0 ? 1.625 : 0      // k: 6.5 for token 0, 0 for the rest
                x[j * ld + 2 * d + c] = j == 0 ? 1 : -1     // v
            }
        }
        let lost = 299 * expf(-6.5), total = 1 + lost
        let expected = (1 + lost / 300) / total - 299 * (lost / 300) / total  // 0.3818
        let out = Self.attention(ek_kernel_select(nil)!, x, ld: ld, n: n, d: d)
        for i in 0..<(n * d) { XCTAssertEqual(out[i], expected, accuracy: 2e-4) }
    }

    /// Two tokens with the second's key tilted: softmax of (s, 0) by hand, V exactly representable.
    func testTwoTokensByHand() {
        let d = 4, ld = 3 * d
        // q = (1,1,1,1); k0 = (1,1,1,1), k1 = 0 -> scores 4/2 = 2 and 0; v0 = (1,0,0,0)*127/127, v1 = (0,1,0,0)
        let x: [Float] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0,
                          1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0]
        let out = Self.attention(ek_kernel_select(nil)!, x, ld: ld, n: 2, d: d)
        let p0 = 1 / (1 + expf(-2))  // 0.8808
        for i in 0..<2 {
            XCTAssertEqual(out[i * d], p0, accuracy: 2e-3)
            XCTAssertEqual(out[i * d + 1], 1 - p0, accuracy: 2e-3)
            XCTAssertEqual(out[i * d + 2], 0)
            XCTAssertEqual(out[i * d + 3], 0)
        }
    }
}
