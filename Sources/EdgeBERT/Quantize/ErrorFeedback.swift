/// GPTQ-style weight rounding (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for
/// Generative Pre-trained Transformers", without its grouping): each row of W [n][k] is rounded one
/// input column at a time, and the rounding error of column j is spread over the columns not yet
/// rounded so that X W^T, not W itself, stays close, for the inputs X the calibration texts gave
/// (through H = X^T X). The per-channel scales and the packed format do not change: only which of
/// the two neighbouring int8 values each weight takes, so the run time is the same.
enum ErrorFeedback {
    /// Dampening added to H's diagonal, as a share of its mean: keeps H invertible when the
    /// calibration rows do not span every input direction (1536 channels, ~1000 rows), and keeps
    /// the compensation from leaning on directions the calibration barely saw.
    /// 0.1: measured on MiniLM against 0.01 (GPTQ's default) and 0.3 (Benchmarks/RESULTS.md).
    static let damping = 0.1

    /// The upper-triangular U with (H + damping)^-1 = U^T U, H [k][k] symmetric. Channels the
    /// calibration never excited (zero diagonal) get a unit diagonal: their error goes nowhere.
    /// Nil when H is not positive definite even after dampening (then round to nearest).
    static func inverseFactor(_ h: [Double], k: Int, damping: Double = damping) -> [Double]? {
        var mean = 0.0
        for i in 0..<k { mean += h[i * k + i] }
        mean /= Double(k)
        guard mean > 0, mean.isFinite else { return nil }
        // A = J H J (J reverses the order): its lower Cholesky factor L gives R = J L J, upper,
        // with H = R R^T, so H^-1 = (R^-1)^T R^-1 and U = R^-1.
        var a = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            for j in 0..<k { a[i * k + j] = h[(k - 1 - i) * k + (k - 1 - j)] }
            let d = a[i * k + i]
            a[i * k + i] = (d > 0 ? d : 1) + damping * mean
        }
        // Cholesky in place, lower: A = L L^T.
        let ok: Bool = a.withUnsafeMutableBufferPointer { p in
            let l = p.baseAddress!
            for i in 0..<k {
                for j in 0...i {
                    let s = l[i * k + j] - dot(l + i * k, l + j * k, j)
                    if i == j {
                        guard s > 0 else { return false }
                        l[i * k + i] = s.squareRoot()
                    } else {
                        l[i * k + j] = s / l[j * k + j]
                    }
                }
            }
            return true
        }
        guard ok else { return nil }
        // R[i][j] = L[k-1-i][k-1-j] (upper). U = R^-1, computed by columns: Ut[j][m] = U[m][j].
        var r = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            for j in i..<k { r[i * k + j] = a[(k - 1 - i) * k + (k - 1 - j)] }
        }
        var ut = [Double](repeating: 0, count: k * k)
        r.withUnsafeBufferPointer { rp in
            ut.withUnsafeMutableBufferPointer { up in
                let r = rp.baseAddress!, u = up.baseAddress!
                for j in 0..<k {
                    let col = u + j * k  // U[.][j]
                    col[j] = 1 / r[j * k + j]
                    var i = j - 1
                    while i >= 0 {
                        let ri = r + i * k
                        col[i] = -dot(ri + i + 1, col + i + 1, j - i) / ri[i]
                        i -= 1
                    }
                }
            }
        }
        var u = [Double](repeating: 0, count: k * k)
        for j in 0..<k {
            for i in 0...j { u[i * k + j] = ut[j * k + i] }
        }
        return u
    }

    /// sum a[m] b[m] over m < n, in four interleaved partial sums (one chain of dependent adds
    /// would leave the converter waiting on each).
    @inline(__always)
    private static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var m = 0
        while m + 4 <= n {
            s0 += a[m] * b[m]; s1 += a[m + 1] * b[m + 1]; s2 += a[m + 2] * b[m + 2]; s3 += a[m + 3] * b[m + 3]
            m += 4
        }
        while m < n { s0 += a[m] * b[m]; m += 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// Rounds w [n][k] to int8 with the given per-row scales, the error fed forward through U
    /// (from `inverseFactor`). Returns q [n][k] in [-127, 127].
    static func round(_ w: [Float], n: Int, k: Int, scales: [Float], factor u: [Double]) -> [Int8] {
        let uf = u.map { Float($0) }
        var q = [Int8](repeating: 0, count: n * k)
        var row = [Float](repeating: 0, count: k)
        uf.withUnsafeBufferPointer { up in
            row.withUnsafeMutableBufferPointer { rp in
                let u = up.baseAddress!, x = rp.baseAddress!
                for r in 0..<n {
                    for c in 0..<k { x[c] = w[r * k + c] }
                    let s = scales[r]
                    guard s > 0 else { continue }
                    let inv = 1 / s
                    for j in 0..<k {
                        let v = max(-127, min(127, (x[j] * inv).rounded(.toNearestOrEven)))
                        q[r * k + j] = Int8(v)
                        let e = (x[j] - v * s) / u[j * k + j]
                        let uj = u + j * k
                        for c in (j + 1)..<k { x[c] -= e * uj[c] }
                    }
                }
            }
        }
        return q
    }
}
