// Kernel microbenchmark: GOPS (2 x multiply-adds per second) of every int8 GEMM path this CPU
// runs, on the encoder's real shapes, one thread, beside the core's int8 peak and, on x86, beside
// the measured exact-AVX2 peak (a register-only vpmovsxbw + vpmaddwd + vpaddd loop); then one head
// of attention, fp32 against int8, and the f32 matmul of `--dtype f32` models at every vector level.
//   swift run -c release KernelBench [--runs N] [--path NAME]
import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// This thread's CPU time in seconds: time the thread spent descheduled (other processes on a
/// shared machine) does not count, so one call is not timed at half speed because it lost the core.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Clock in GHz from a chain of dependent adds (one per cycle).
func clockGHz() -> Double {
    let n: Int64 = 400_000_000
    ek_dependent_adds(n / 10)
    var best = Double.infinity
    for _ in 0..<3 {
        let t0 = now()
        ek_dependent_adds(n)
        best = min(best, now() - t0)
    }
    return Double(n) / best / 1e9
}

let args = CommandLine.arguments
let runs = args.firstIndex(of: "--runs").flatMap { Int(args[$0 + 1]) } ?? 20
/// Only this kernel path (and the peak), when given.
let onlyPath = args.firstIndex(of: "--path").map { args[$0 + 1] }
// (name, M tokens, N outputs, K inputs): MiniLM at 128 and 16 tokens, bert-base FFN.
let shapes: [(String, Int, Int, Int)] = [
    ("ffn up 128x1536x384", 128, 1536, 384), ("ffn down 128x384x1536", 128, 384, 1536),
    ("qkv 128x384x384", 128, 384, 384), ("ffn up 16x1536x384", 16, 1536, 384),
    ("ffn down 16x384x1536", 16, 384, 1536), ("qkv 16x384x384", 16, 384, 384),
    ("bert-base ffn 128x3072x768", 128, 3072, 768),
]
let ghz = clockGHz()
// int8 multiply-adds per cycle per core at the instruction's peak throughput (the VNNI paths' are
// measured instead, below).
let peakMACs: [String: Double] = ["avx2": 32, "sse41": 16, "neondot": 32, "neon": 16, "ref": 1]
print("clock \(format1(ghz, 2)) GHz (dependent-add chain), one thread, median of \(runs) runs")

/// GOPS of a register-only loop of `path`'s multiply-add instruction (`loop(iterations)` returns
/// the multiply-adds done), the best of `runs` (a peak: what the core does when nothing else
/// contends for it; the % of it below is then a lower bound), or nil when this CPU lacks the path.
func measuredPeak(_ path: String, _ loop: (Int64) -> Int64) -> Double? {
    guard let k = ek_kernel_named(path), ek_kernel_supported(k) != 0 else { return nil }
    let iterations: Int64 = 2_000_000
    _ = loop(iterations / 10)
    var rates: [Double] = []
    for _ in 0..<runs {
        let t0 = now()
        let macs = loop(iterations)
        rates.append(2 * Double(macs) / (now() - t0) / 1e9)
    }
    return rates.max()
}
/// The avx512vnni peak as measured: vpdpbusd's throughput differs between cores (Zen 4 retires
/// one 512-bit vpdpbusd a cycle, Intel's server cores two), so no table holds it.
let vnni512Peak = measuredPeak("avx512vnni", ek_avx512vnni_peak)
let vnni256Peak = measuredPeak("avxvnni", ek_avxvnni_peak)
/// The exact-AVX2 peak: vpmovsxbw + vpmaddwd + vpaddd, what any exact AVX2 GEMM must issue.
let avx2Peak = measuredPeak("avx2", ek_avx2_exact_peak)
if let peak = vnni512Peak { print("avx512vnni peak (12 vpdpbusd zmm chains, registers only, best of \(runs)): \(format1(peak, 1)) GOPS") }
if let peak = vnni256Peak { print("avxvnni peak (12 vpdpbusd ymm chains, registers only, best of \(runs)): \(format1(peak, 1)) GOPS") }
if let peak = avx2Peak { print("exact AVX2 peak (vpmovsxbw + 12 x (vpmaddwd + vpaddd) chains, registers only, best of \(runs)): \(format1(peak, 1)) GOPS") }
// The exact SSE4.1 peak is half the AVX2 one on the same core (the same ports, half the width).
print("path        shape                         GOPS   % of int8 peak" + (avx2Peak == nil ? "" : "   % of exact peak (sse41: AVX2's / 2)"))
for i in 0..<ek_kernel_count() {
    guard let k = ek_kernel_at(i), ek_kernel_supported(k) != 0 else { continue }
    let name = String(cString: k.pointee.name)
    if let only = onlyPath, only != name { continue }
    for (label, m, n, kk) in shapes {
        if name == "ref" && m > 16 { continue }
        let np = (n + 15) / 16 * 16, kp = (kk + 3) / 4 * 4
        var w = [Int8](repeating: 0, count: n * kk)
        for j in 0..<w.count { w[j] = Int8(truncatingIfNeeded: (j * 7919) % 255 - 127) }
        var packed = [Int8](repeating: 0, count: np * kp)
        ek_pack_b(w, Int32(n), Int32(kk), &packed)
        let a = [Int8](repeating: 3, count: m * kp)
        let sa = [Float](repeating: 0.01, count: m), mins = [Float](repeating: -1, count: m)
        let sb = [Float](repeating: 0.02, count: np), bias = [Float](repeating: 0, count: np)
        let cs = [Int32](repeating: 5, count: np)
        var c = [Float](repeating: 0, count: m * n)
        var times: [Double] = []
        a.withUnsafeBufferPointer { ab in packed.withUnsafeBufferPointer { pb in
            sa.withUnsafeBufferPointer { sab in mins.withUnsafeBufferPointer { mb in
                sb.withUnsafeBufferPointer { sbb in bias.withUnsafeBufferPointer { bb in
                    cs.withUnsafeBufferPointer { csb in c.withUnsafeMutableBufferPointer { cb in
                        var p = ek_gemm_params()
                        p.a = ab.baseAddress; p.b = pb.baseAddress; p.a_scale = sab.baseAddress; p.a_min = mb.baseAddress
                        p.b_scale = sbb.baseAddress; p.b_colsum = csb.baseAddress; p.bias = bb.baseAddress
                        p.c = cb.baseAddress; p.lda = Int64(kp); p.ldc = Int64(n)
                        p.m = Int32(m); p.n = Int32(n); p.kp = Int32(kp); p.panel_begin = 0; p.panel_end = Int32(np / 16)
                        for _ in 0..<3 { k.pointee.gemm(&p) }
                        for _ in 0..<runs {
                            let t0 = now()
                            k.pointee.gemm(&p)
                            times.append(now() - t0)
                        }
                    } }
                } }
            } }
        } }
        times.sort()
        let gops = 2.0 * Double(m * n * kk) / times[times.count / 2] / 1e9
        let peak = name == "avx512vnni" ? (vnni512Peak ?? 0) : name == "avxvnni" ? (vnni256Peak ?? 0)
            : 2 * (peakMACs[name] ?? 1) * ghz
        let left: String = name.rightPadded(12) + label.rightPadded(28)
        let right: String = format1(gops, 1).leftPadded(7) + format1(100 * gops / peak, 1).leftPadded(9) + "%"
        let width: Double? = name == "avx2" ? 1 : name == "sse41" ? 0.5 : nil
        let exact = width.flatMap { w in avx2Peak.map { format1(100 * gops / ($0 * w), 1).leftPadded(12) + "%" } }
        print(left + right + (exact ?? ""))
    }
}

func format1(_ v: Double, _ d: Int) -> String {
    var p = 1.0
    for _ in 0..<d { p *= 10 }
    let r = (v * p).rounded() / p
    var s = "\(r)"
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < d { s += String(repeating: "0", count: d - decimals) }
    }
    return s
}

extension String {
    func leftPadded(_ w: Int) -> String { count >= w ? self : String(repeating: " ", count: w - count) + self }
    func rightPadded(_ w: Int) -> String { count >= w ? self : self + String(repeating: " ", count: w - count) }
}

// Attention of one head (MiniLM's d = 32, bert-base's 64): fp32 against int8 on the best path.
if onlyPath == nil, let best = ek_kernel_select(nil) {
    print("\nattention, one head, microseconds (median of \(runs * 10)), int8 on \(String(cString: best.pointee.name))")
    print("n     d     fp32      int8")
    for (n, d) in [(16, 32), (128, 32), (256, 32), (128, 64)] {
        let ld = d * 12, n16 = (n + 15) / 16 * 16
        var qkv = [Float](repeating: 0, count: n * ld)
        var seed: UInt32 = 12345
        for i in 0..<qkv.count {
            seed = seed &* 1664525 &+ 1013904223
            qkv[i] = Float(Int(seed >> 8) % 2001 - 1000) / 250
        }
        var out = [Float](repeating: 0, count: n * ld)
        var scratch = [Float](repeating: 0, count: max((d + 4) * n16, Int(ek_attention_i8_scratch(Int32(n), Int32(d))) / 4 + 16))
        var kt = [Float](repeating: 0, count: d * n16)
        func median(_ body: () -> Void) -> Double {
            for _ in 0..<5 { body() }
            var t: [Double] = []
            for _ in 0..<(runs * 10) {
                let t0 = now()
                body()
                t.append(now() - t0)
            }
            t.sort()
            return t[t.count / 2] * 1e6
        }
        let scale = 1 / Float(d).squareRoot()
        let f32 = qkv.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { o in
            kt.withUnsafeMutableBufferPointer { ktb in scratch.withUnsafeMutableBufferPointer { s in
                median { ek_attention_head(x.baseAddress, x.baseAddress! + d, x.baseAddress! + 2 * d, Int64(ld), Int32(n), Int32(d),
                                           scale, nil, ktb.baseAddress, s.baseAddress, o.baseAddress, Int64(ld)) }
            } }
        } }
        let i8 = qkv.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { o in
            scratch.withUnsafeMutableBufferPointer { s in
                median { ek_attention_head_i8(best, x.baseAddress, x.baseAddress! + d, x.baseAddress! + 2 * d, Int64(ld), Int32(n),
                                              Int32(d), scale, s.baseAddress, o.baseAddress, Int64(ld)) }
            }
        } }
        print("\(n)".rightPadded(6) + "\(d)".rightPadded(6) + format1(f32, 2).leftPadded(8) + format1(i8, 2).leftPadded(10))
    }
}

// The float matmul (the f32 model's dense layers: weights in the file's 16-column panels) at
// every vector level this CPU runs, on the same shapes: G multiply-adds per second.
if onlyPath == nil {
    func has(_ path: String) -> Bool { ek_kernel_named(path).map { ek_kernel_supported($0) != 0 } ?? false }
    #if arch(x86_64)
    let levels = [0] + (has("avx2") ? [1] : []) + (has("avx512vnni") ? [2] : [])  // the vector levels of those paths
    #else
    let levels = [0]
    #endif
    let names = ["baseline (SSE2/NEON)", "AVX2+FMA", "AVX-512"]
    print("\nf32 matmul, packed weights (quantize --dtype f32), G multiply-adds/s, median of \(runs) runs")
    print("shape                         " + levels.map { names[$0].leftPadded(22) }.joined())
    for (name, m, n, k) in shapes {
        var seed: UInt32 = 777
        func next() -> Float { seed = seed &* 1664525 &+ 1013904223; return Float(Int(seed >> 8) % 2001 - 1000) / 1000 }
        let a = (0..<(m * k)).map { _ in next() }, w = (0..<(n * k)).map { _ in next() / Float(k) }
        var panels = [Float](repeating: 0, count: (n + 15) / 16 * 16 * k)
        ek_pack_f32_panels(w, Int32(n), Int32(k), &panels)
        var c = [Float](repeating: 0, count: m * n)
        var row = name.rightPadded(30)
        for level in levels {
            var t: [Double] = []
            for r in 0..<(runs + 2) {
                let t0 = now()
                ek_sgemm_packed_at(Int32(level), a, Int64(k), panels, nil, nil, &c, Int64(n), Int32(m), Int32(n), Int32(k), 0, Int32(n))
                if r >= 2 { t.append(now() - t0) }
            }
            t.sort()
            row += format1(Double(m * n * k) / t[t.count / 2] / 1e9, 1).leftPadded(22)
        }
        print(row)
    }
}
