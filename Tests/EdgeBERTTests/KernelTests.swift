import CKernels
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import EdgeBERT

/// Every kernel path this CPU runs against the scalar twin: bitwise-equal outputs on awkward shapes.
final class KernelTests: XCTestCase {
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s }
        mutating func int8() -> Int8 { Int8(Int(next() % 255) - 127) }
        mutating func float() -> Float { Float(Int(next() % 2001) - 1000) / 97 }
    }

    static var paths: [UnsafePointer<ek_kernel>] {
        (0..<ek_kernel_count()).compactMap { ek_kernel_at($0) }.filter { ek_kernel_supported($0) != 0 }
    }

    /// Runs one shape through `kernel` and the reference; returns the two outputs.
    func run(_ kernel: UnsafePointer<ek_kernel>, m: Int, n: Int, k: Int, extreme: Bool, residual: Bool,
             smooth: Bool, rng: inout Rng) -> ([Float], [Float]) {
        let np = (n + 15) / 16 * 16, kp = (k + 3) / 4 * 4
        let w = (0..<(n * k)).map { _ in extreme ? (rng.next() & 1 == 0 ? Int8(127) : -127) : rng.int8() }
        let x = (0..<(m * k)).map { _ in extreme ? (rng.next() & 1 == 0 ? Float(1e4) : -1e4) : rng.float() }
        let sm: [Float]? = smooth ? (0..<k).map { _ in 0.5 + Float(rng.next() % 50) / 10 } : nil
        var packed = [Int8](repeating: 0, count: np * kp)
        ek_pack_b(w, Int32(n), Int32(k), &packed)
        var colsum = [Int32](repeating: 0, count: np)
        for r in 0..<n { colsum[r] = (0..<k).reduce(0) { $0 + Int32(w[r * k + $1]) } }
        let bscale = (0..<np).map { Float($0 % 7 + 1) * 0.01 }
        let bias = (0..<np).map { Float($0 % 5) - 2 }
        let res = (0..<(m * n)).map { _ in rng.float() }
        func gemm(_ kern: UnsafePointer<ek_kernel>) -> [Float] {
            var q = [Int8](repeating: 0, count: m * kp), scales = [Float](repeating: 0, count: m)
            var mins = [Float](repeating: 0, count: m)
            ek_quantize_rows(x, Int64(k), Int32(m), Int32(k), Int32(kp), sm, &q, Int64(kp), &scales, &mins, kern.pointee.unsigned_a)
            var c = res
            c.withUnsafeMutableBufferPointer { cb in
                var p = ek_gemm_params()
                q.withUnsafeBufferPointer { qb in
                    packed.withUnsafeBufferPointer { pb in
                        p.a = qb.baseAddress; p.b = pb.baseAddress
                        scales.withUnsafeBufferPointer { sb in
                            p.a_scale = sb.baseAddress
                            p.a_min = mins.withUnsafeBufferPointer { $0.baseAddress }
                            bscale.withUnsafeBufferPointer { bs in
                                colsum.withUnsafeBufferPointer { cs in
                                    bias.withUnsafeBufferPointer { bb in
                                        p.b_scale = bs.baseAddress; p.b_colsum = cs.baseAddress; p.bias = bb.baseAddress
                                        p.c = cb.baseAddress; p.residual = residual ? UnsafePointer(cb.baseAddress) : nil
                                        p.lda = Int64(kp); p.ldc = Int64(n); p.m = Int32(m); p.n = Int32(n); p.kp = Int32(kp)
                                        p.panel_begin = 0; p.panel_end = Int32(np / 16)
                                        kern.pointee.gemm(&p)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return c
        }
        return (gemm(kernel), gemm(ek_kernel_named("ref")!))
    }

    func testEveryPathMatchesScalarTwinOnAwkwardShapes() {
        var rng = Rng(s: 0x9E37_79B9_7F4A_7C15)
        let small = [1, 2, 3, 4, 5, 7, 8, 9, 10, 15, 16, 17, 31, 33, 63, 65]
        var shapes: [(Int, Int, Int, Bool)] = []
        for m in [1, 3, 8, 9, 17] { for n in small { for k in [1, 4, 7, 33] { shapes.append((m, n, k, false)) } } }
        shapes += [(1, 384, 384, false), (128, 1152, 384, false), (7, 1536, 384, false), (9, 384, 1536, false),
                   (1, 17, 32767, false), (3, 385, 383, false), (13, 383, 385, false), (10, 48, 64, true),
                   (1, 1, 1, true), (17, 33, 1537, true), (257, 16, 12, false), (2, 129, 255, false)]
        XCTAssertTrue(Self.paths.contains { String(cString: $0.pointee.name) == "ref" })
        for kernel in Self.paths {
            let name = String(cString: kernel.pointee.name)
            for (i, (m, n, k, extreme)) in shapes.enumerated() {
                let (got, want) = run(kernel, m: m, n: n, k: k, extreme: extreme, residual: i % 3 == 0, smooth: i % 2 == 0, rng: &rng)
                if got != want {
                    let bad = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }!
                    XCTFail("\(name) m=\(m) n=\(n) k=\(k): c[\(bad.offset)] = \(bad.element.0), ref \(bad.element.1)")
                    break
                }
            }
        }
    }

    /// Every vector level of the quantiser (AVX-512, AVX2, NEON) bitwise equal to the scalar twin,
    /// with and without smoothing, signed and unsigned, on tails of every width.
    func testQuantizerLevelsMatchScalarTwin() {
        var rng = Rng(s: 23)
        for level in Int32(0)...2 {
            for k in [1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 384, 1537] {
                let m = 3, kp = (k + 3) / 4 * 4, ld = k + 3
                let x = (0..<(m * ld)).map { _ in rng.float() }
                let sm: [Float]? = k % 2 == 1 ? (0..<k).map { _ in 0.5 + Float(rng.next() % 50) / 10 } : nil
                for ua in Int32(0)...1 {
                    var q1 = [Int8](repeating: 0, count: m * kp), q2 = q1
                    var s1 = [Float](repeating: 0, count: m), s2 = s1, m1 = s1, m2 = s1
                    ek_quantize_rows_at(level, x, Int64(ld), Int32(m), Int32(k), Int32(kp), sm, &q1, Int64(kp), &s1, &m1, ua)
                    ek_quantize_rows_ref(x, Int64(ld), Int32(m), Int32(k), Int32(kp), sm, &q2, Int64(kp), &s2, &m2, ua)
                    XCTAssertEqual(q1, q2, "level \(level) k \(k) unsigned \(ua)")
                    XCTAssertEqual(s1, s2)
                    XCTAssertEqual(m1, m2)
                }
            }
        }
    }

    func testQuantizerIsAsymmetricPerRowAndExact() {
        // Hand-checked: min -2, max 3 -> scale 5/255; q = round((x + 2) * 51) - 128.
        // 1.0 -> round(153) - 128 = 25; 0.5 -> round(127.5) = 128 (even) -> 0; 0 -> 102 - 128 = -26.
        let x: [Float] = [1.0, -2.0, 0.0, 0.5, 3.0]
        var q = [Int8](repeating: 99, count: 8), s: [Float] = [0], mn: [Float] = [0]
        ek_quantize_rows_ref(x, 5, 1, 5, 8, nil, &q, 8, &s, &mn, 0)
        XCTAssertEqual(q, [25, -128, -26, 0, 127, -128, -128, -128])
        XCTAssertEqual(s[0], 5 / 255)
        XCTAssertEqual(mn[0], -2)
        ek_quantize_rows_ref(x, 5, 1, 5, 8, nil, &q, 8, &s, &mn, 1)
        XCTAssertEqual(q.map { UInt8(bitPattern: $0) }, [153, 0, 102, 128, 255, 0, 0, 0])
        // A constant row is exact: scale 0, q = -128 standing for the constant.
        ek_quantize_rows([0.25, 0.25, 0.25], 3, 1, 3, 4, nil, &q, 4, &s, &mn, 0)
        XCTAssertEqual(Array(q.prefix(4)), [-128, -128, -128, -128])
        XCTAssertEqual(s[0], 0)
        XCTAssertEqual(mn[0], 0.25)
        // Dequantised values lie within half a step of the input.
        var rng = Rng(s: 7)
        let row = (0..<300).map { _ in rng.float() }
        var q2 = [Int8](repeating: 0, count: 300)
        ek_quantize_rows(row, 300, 1, 300, 300, nil, &q2, 300, &s, &mn, 0)
        for i in 0..<300 { XCTAssertEqual(s[0] * Float(Int(q2[i]) + 128) + mn[0], row[i], accuracy: s[0] * 0.5001) }
    }

    func testPackingLayout() {
        // W[n][k] with n = 17, k = 5: byte (p, g, j, t) = W[p*16 + j][g*4 + t], zero padded.
        let n = 17, k = 5
        let w = (0..<(n * k)).map { Int8(truncatingIfNeeded: $0 + 1) }
        var dst = [Int8](repeating: -1, count: 32 * 8)
        ek_pack_b(w, Int32(n), Int32(k), &dst)
        func at(_ p: Int, _ g: Int, _ j: Int, _ t: Int) -> Int8 { dst[((p * 2 + g) * 16 + j) * 4 + t] }
        XCTAssertEqual(at(0, 0, 0, 0), w[0])
        XCTAssertEqual(at(0, 0, 3, 2), w[3 * k + 2])
        XCTAssertEqual(at(0, 1, 5, 0), w[5 * k + 4])
        XCTAssertEqual(at(0, 1, 5, 1), 0)        // K padding
        XCTAssertEqual(at(1, 0, 0, 3), w[16 * k + 3])
        XCTAssertEqual(at(1, 0, 1, 0), 0)        // N padding
    }

    func testCRC32CMatchesKnownValueOnEveryPath() {
        let check = Array("123456789".utf8)  // the standard check value of CRC-32C is 0xE3069283
        XCTAssertEqual(ek_crc32c(0, check, check.count), 0xE306_9283)
        XCTAssertEqual(ek_crc32c_ref(0, check, check.count), 0xE306_9283)
        var rng = Rng(s: 42)
        let data = (0..<100_003).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        XCTAssertEqual(ek_crc32c(0, data, data.count), ek_crc32c_ref(0, data, data.count))
        // Continuation: crc(a + b) == crc(b, starting from crc(a)).
        let a = ek_crc32c(0, data, 1000)
        XCTAssertEqual(data.withUnsafeBufferPointer { ek_crc32c(a, $0.baseAddress! + 1000, data.count - 1000) },
                       ek_crc32c(0, data, data.count))
    }

    func testForcedPathIsHonouredAndUnknownRefused() {
        XCTAssertEqual(String(cString: ek_kernel_select("ref")!.pointee.name), "ref")
        XCTAssertNil(ek_kernel_select("no-such-path"))
        XCTAssertNotNil(ek_kernel_select(nil))
        #if arch(x86_64)
        // Every x86-64 CPU with AVX2 has SSE4.1: the path a Celeron J4125 runs is forceable here.
        if ek_cpu_features() & EK_X86_AVX2 != 0 {
            XCTAssertEqual(ek_kernel_select("sse41").map { String(cString: $0.pointee.name) }, "sse41")
        }
        #endif
    }

    /// The SSE4.1 path's epilogue computes fmaf without an FMA unit (in double, rounded to odd):
    /// equal to fmaf where rounding twice would not be (x * y on a float midpoint, z a nudge).
    func testSSE41EpilogueFmaIsCorrectlyRounded() throws {
        #if arch(x86_64)
        guard let k = ek_kernel_named("sse41"), ek_kernel_supported(k) != 0 else { throw XCTSkip("no SSE4.1") }
        let h: Float = 1 + 0x1p-12  // h * h = 1 + 2^-11 + 2^-24, halfway between two floats
        for e in stride(from: -60, through: 60, by: 20) {
            for nudge: Float in [0x1p-80, -0x1p-80, 0, 0x1p-30, -0x1p-30] {
                let scale = Float(sign: .plus, exponent: e, significand: 1)
                let xs: [Float] = [h, -h, h, -h].map { $0 * scale }, y: [Float] = [h, h, -h, -h]
                let zs: [Float] = [nudge, nudge, -nudge, -nudge].map { $0 * scale }
                var got = [Float](repeating: 0, count: 4)
                ek_fmaf4_sse41(xs, y, zs, &got)
                for i in 0..<4 {
                    let want = fmaf(xs[i], y[i], zs[i])
                    XCTAssertEqual(got[i].bitPattern, want.bitPattern, "fma(\(xs[i]), \(y[i]), \(zs[i]))")
                }
            }
        }
        #else
        throw XCTSkip("x86 only")
        #endif
    }

    /// The dispatch choice as a pure function of the CPU feature bits, for CPUs this machine is not:
    /// x86 AVX-512 VNNI > AVX-VNNI > AVX2 > SSE4.1 > ref; ARM SDOT > NEON.
    func testDispatchChoiceForFeatureSets() {
        func pick(_ features: Int32) -> String { String(cString: ek_kernel_best_for(features).pointee.name) }
        #if arch(x86_64)
        let sse41 = Int32(EK_X86_SSE41), avx2 = Int32(EK_X86_AVX2)
        let avxvnni = Int32(EK_X86_AVXVNNI), avx512vnni = Int32(EK_X86_AVX512VNNI)
        XCTAssertEqual(pick(0), "ref")
        XCTAssertEqual(pick(sse41), "sse41")  // Celeron J4125 / N5105: SSE4.2, no AVX
        XCTAssertEqual(pick(sse41 | avx2), "avx2")
        XCTAssertEqual(pick(sse41 | avx2 | avxvnni), "avxvnni")
        XCTAssertEqual(pick(sse41 | avx2 | avx512vnni), "avx512vnni")
        XCTAssertEqual(pick(sse41 | avx2 | avxvnni | avx512vnni), "avx512vnni")
        #elseif arch(arm64)
        XCTAssertEqual(pick(0), "neon")
        XCTAssertEqual(pick(Int32(EK_ARM_DOTPROD)), "neondot")
        #endif
        XCTAssertEqual(pick(ek_cpu_features()), String(cString: ek_kernel_select(nil)!.pointee.name))
    }
}

/// The vectorised fp32 helpers against their scalar twins (libm erff / expf), within named bounds.
final class FloatOpsTests: XCTestCase {
    /// GELU: erf as a rational to 4e-7 (baseline, AVX2, NEON) or by table to 1.6e-6 x max(1, |x|)
    /// (AVX-512, Tools/fit_gelu_table.py); the bound covers both plus float rounding.
    static let geluAbs: Float = 2e-6
    /// Attention: exp approximated to about 1 ulp; context values agree to this relative bound.
    static let attentionRel: Float = 2e-5

    func testGeluMatchesErfForm() {
        var rng = KernelTests.Rng(s: 11)
        // random, then every 1/1024 over [-12, 12] (the table's segment edges fall on this grid)
        let x = (0..<1037).map { _ in rng.float() / 4 } + [0, -0, 10, -10, 1e-8, -1e-8, 88, -88, 4.96875, 5, -5]
            + (-12 * 1024...12 * 1024).map { Float($0) / 1024 }
        var fast = x, exact = x
        ek_gelu(&fast, Int64(x.count))
        ek_activation(&exact, Int64(x.count), 0)
        for i in 0..<x.count {
            XCTAssertEqual(fast[i], exact[i], accuracy: Self.geluAbs * max(1, abs(x[i])), "x = \(x[i])")
        }
    }

    /// The float matmul at every vector level against its scalar twin on awkward shapes: bias,
    /// residual, column tails of the 16-wide panels, row tails of every tile height (1...13 rows),
    /// K past one 256-deep block, a column range, and the residual being the output itself (as the
    /// encoder calls it: x += dense(h)).
    func testFloatMatmulMatchesScalarTwin() {
        var rng = KernelTests.Rng(s: 3)
        let shapes = [(1, 1, 1), (3, 5, 17), (2, 4, 16), (7, 33, 100), (16, 384, 384), (5, 9, 1537), (13, 47, 257),
                      (128, 40, 600), (11, 16, 0)]
        for (m, n, k) in shapes {
            let a = (0..<(m * k)).map { _ in rng.float() / 10 }, w = (0..<(n * k)).map { _ in rng.float() / 10 }
            let bias = (0..<n).map { _ in rng.float() }, res = (0..<(m * n)).map { _ in rng.float() }
            for (c0, c1) in [(0, n), (n / 3, n - n / 5)] {
                var exact = res
                ek_sgemm_nt_ref(a, Int64(k), w, Int64(k), bias, res, &exact, Int64(n), Int32(m), Int32(n), Int32(k),
                                Int32(c0), Int32(c1))
                for level: Int32 in [0, 1, 2] {
                    var fast = res  // residual and output the same memory
                    fast.withUnsafeMutableBufferPointer { c in
                        ek_sgemm_nt_at(level, a, Int64(k), w, Int64(k), bias, c.baseAddress, c.baseAddress, Int64(n),
                                       Int32(m), Int32(n), Int32(k), Int32(c0), Int32(c1))
                    }
                    for i in 0..<(m * n) {
                        XCTAssertEqual(fast[i], exact[i], accuracy: 1e-4 * max(1, abs(exact[i])),
                                       "level \(level) m \(m) n \(n) k \(k) columns \(c0)..<\(c1) [\(i)]")
                    }
                }
            }
            // Packed weights (the model file's f32 layout): bit for bit the row-major results, on
            // column ranges that start on a panel.
            var panels = [Float](repeating: .nan, count: (n + 15) / 16 * 16 * k)
            ek_pack_f32_panels(w, Int32(n), Int32(k), &panels)
            for (c0, c1) in [(0, n), (min(16, n), n)] {
                for level: Int32 in [0, 1, 2] {
                    var rowMajor = res, packed = res
                    ek_sgemm_nt_at(level, a, Int64(k), w, Int64(k), bias, res, &rowMajor, Int64(n), Int32(m), Int32(n),
                                   Int32(k), Int32(c0), Int32(c1))
                    packed.withUnsafeMutableBufferPointer { c in
                        ek_sgemm_packed_at(level, a, Int64(k), panels, bias, c.baseAddress, c.baseAddress, Int64(n),
                                           Int32(m), Int32(n), Int32(k), Int32(c0), Int32(c1))
                    }
                    XCTAssertEqual(packed, rowMajor, "packed, level \(level) m \(m) n \(n) k \(k) columns \(c0)..<\(c1)")
                }
            }
        }
    }

    /// The outlier inputs' f32 side product at every vector level, bit for bit against its scalar
    /// twin (products rounded, then added in order), on awkward shapes and column ranges.
    func testOutliersAddMatchesScalarTwinBitwise() {
        var rng = KernelTests.Rng(s: 41)
        for (m, n, k, count) in [(1, 1, 1, 1), (3, 17, 40, 2), (7, 384, 384, 4), (2, 33, 1536, 7), (5, 1536, 384, 16)] {
            let x = (0..<(m * k)).map { _ in rng.float() * 8 }, w = (0..<(count * n)).map { _ in rng.float() / 10 }
            let index = (0..<count).map { Int32($0 * (k / count)) }
            let y0 = (0..<(m * n)).map { _ in rng.float() }
            for (c0, c1) in [(0, n), (n / 3, n - n / 5)] {
                var exact = y0
                ek_outliers_add_ref(x, Int64(k), index, w, Int64(n), Int32(count), &exact, Int64(n), Int32(m), Int32(c0), Int32(c1))
                for level: Int32 in [0, 1, 2] {
                    var fast = y0
                    ek_outliers_add_at(level, x, Int64(k), index, w, Int64(n), Int32(count), &fast, Int64(n), Int32(m),
                                       Int32(c0), Int32(c1))
                    XCTAssertEqual(fast, exact, "level \(level) m \(m) n \(n) count \(count) columns \(c0)..<\(c1)")
                }
            }
        }
    }

    /// LayerNorm, vectorised (sums reassociated; AVX-512 takes rows sixteen at a time), against its
    /// scalar twin.
    func testLayerNormMatchesScalarTwin() {
        var rng = KernelTests.Rng(s: 29)
        for n in [1, 7, 16, 33, 384, 768, 1001] { for m in [3, 19] {
            let x = (0..<(m * n)).map { _ in rng.float() + 3 }  // an offset mean, as real rows have
            let gamma = (0..<n).map { _ in 1 + rng.float() / 20 }, beta = (0..<n).map { _ in rng.float() / 20 }
            var fast = x, exact = x
            ek_layernorm(&fast, Int64(n), Int32(m), Int32(n), gamma, beta, 1e-12)
            ek_layernorm_ref(&exact, Int64(n), Int32(m), Int32(n), gamma, beta, 1e-12)
            for i in 0..<(m * n) { XCTAssertEqual(fast[i], exact[i], accuracy: 1e-5 * max(1, abs(exact[i])), "n \(n) m \(m) [\(i)]") }
        } }
    }

    /// The fused passes (LayerNorm or GELU, then quantise row by row) give exactly what the two
    /// separate passes give.
    func testFusedPassesEqualTheSeparateOnes() {
        var rng = KernelTests.Rng(s: 31)
        let m = 21, n = 37, kp = 40, ld = 41  // more than one block of sixteen rows
        let x = (0..<(m * ld)).map { _ in rng.float() }
        let gamma = (0..<n).map { _ in 1 + rng.float() / 20 }, beta = (0..<n).map { _ in rng.float() / 20 }
        let sm = (0..<n).map { _ in 0.5 + Float(rng.next() % 50) / 10 }
        for gelu in [false, true] {
            var fused = x, separate = x
            var q1 = [Int8](repeating: 0, count: m * kp), q2 = q1
            var s1 = [Float](repeating: 0, count: m), s2 = s1, m1 = s1, m2 = s1
            q1.withUnsafeMutableBufferPointer { qb in s1.withUnsafeMutableBufferPointer { sb in m1.withUnsafeMutableBufferPointer { mb in
                sm.withUnsafeBufferPointer { smb in
                    var to = ek_quantize_to(q: qb.baseAddress, scales: sb.baseAddress, mins: mb.baseAddress, sm: smb.baseAddress,
                                            ldq: Int64(kp), kp: Int32(kp), unsigned_a: 1)
                    if gelu {
                        ek_gelu_quantize(&fused, Int64(ld), Int32(m), Int32(n), &to)
                    } else {
                        ek_layernorm_quantize(&fused, Int64(ld), Int32(m), Int32(n), gamma, beta, 1e-12, &to)
                    }
                }
            } } }
            for r in 0..<m {
                separate.withUnsafeMutableBufferPointer { b in
                    if gelu { ek_gelu(b.baseAddress! + r * ld, Int64(n)) } else {
                        ek_layernorm(b.baseAddress! + r * ld, Int64(ld), 1, Int32(n), gamma, beta, 1e-12)
                    }
                }
            }
            ek_quantize_rows(separate, Int64(ld), Int32(m), Int32(n), Int32(kp), sm, &q2, Int64(kp), &s2, &m2, 1)
            XCTAssertEqual(fused, separate, "gelu \(gelu)")
            XCTAssertEqual(q1, q2)
            XCTAssertEqual(s1, s2)
            XCTAssertEqual(m1, m2)
        }
    }

    func testExpApproximation() {
        for x in stride(from: Float(-80), through: 80, by: 0.37) {
            XCTAssertEqual(ek_exp_approx(x), expf(x), accuracy: expf(x) * 3e-7, "x = \(x)")
        }
    }

    func testAttentionHeadMatchesScalarTwin() {
        var rng = KernelTests.Rng(s: 5)
        for (n, d) in [(1, 8), (3, 32), (17, 12), (33, 64), (130, 32), (5, 7)] {
            let ld = d * 3 + 5  // heads interleaved in a wider row, as in the encoder
            let q = (0..<(n * ld)).map { _ in rng.float() / 10 }
            let k = (0..<(n * ld)).map { _ in rng.float() / 10 }
            let v = (0..<(n * ld)).map { _ in rng.float() / 10 }
            let n16 = (n + 15) / 16 * 16
            var kt = [Float](repeating: 0, count: d * n16), scores = [Float](repeating: 0, count: 4 * n16)
            var fast = [Float](repeating: 0, count: n * d), exact = fast
            let scale = 1 / Float(d).squareRoot()
            ek_attention_head(q, k, v, Int64(ld), Int32(n), Int32(d), scale, nil, &kt, &scores, &fast, Int64(d))
            var s2 = [Float](repeating: 0, count: n)
            ek_attention_head_ref(q, k, v, Int64(ld), Int32(n), Int32(d), scale, nil, &s2, &exact, Int64(d))
            for i in 0..<(n * d) {
                XCTAssertEqual(fast[i], exact[i], accuracy: Self.attentionRel * max(1, abs(exact[i])), "n \(n) d \(d) [\(i)]")
            }
        }
    }
}
