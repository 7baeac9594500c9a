import CKernels

/// The error a quantised matrix introduces in its own output, measured on calibration inputs:
/// ||Y_int8 - Y_f32|| / ||Y_f32|| with Y_f32 = X W^T and Y_int8 the runtime's arithmetic
/// (smoothing, 8-bit activations per row, int8 weights per channel).
enum OutputError {
    /// x: sampled input rows [rows][k]; weights: the original [n][k]; smooth: what the runtime
    /// multiplies the inputs by before rounding (the stored `.smooth`); outliers: the inputs
    /// multiplied in f32 instead (`OutlierColumns`).
    static func measure(x: [Float], weights: [Float], quantized q: QuantizedMatrix, smooth: [Float]?,
                        outliers: [Int] = [], n: Int, k: Int) -> Double {
        let rows = x.count / k
        guard rows > 0, let kernel = ek_kernel_select(nil) else { return 0 }
        let kp = roundUp(k, 4), np = roundUp(n, 16)
        var yRef = [Float](repeating: 0, count: rows * n)
        ek_sgemm_nt(x, Int64(k), weights, Int64(k), nil, nil, &yRef, Int64(n), Int32(rows), Int32(n), Int32(k), 0, Int32(n))
        var xq = [Int8](repeating: 0, count: rows * kp)
        var scales = [Float](repeating: 0, count: rows), mins = [Float](repeating: 0, count: rows)
        smooth.withOptionalPointer { sm in
            ek_quantize_rows(x, Int64(k), Int32(rows), Int32(k), Int32(kp), sm, &xq, Int64(kp), &scales, &mins,
                             kernel.pointee.unsigned_a)
        }
        var y = [Float](repeating: 0, count: rows * n)
        q.packed.withUnsafeBufferPointer { pb in
            q.scales.withUnsafeBufferPointer { sb in
                q.colsums.withUnsafeBufferPointer { cb in
                    xq.withUnsafeBufferPointer { ab in
                        scales.withUnsafeBufferPointer { asb in
                            mins.withUnsafeBufferPointer { mb in
                                y.withUnsafeMutableBufferPointer { yb in
                                    var p = ek_gemm_params()
                                    p.a = ab.baseAddress; p.b = pb.baseAddress; p.a_scale = asb.baseAddress
                                    p.a_min = mb.baseAddress; p.b_scale = sb.baseAddress; p.b_colsum = cb.baseAddress
                                    p.c = yb.baseAddress; p.lda = Int64(kp); p.ldc = Int64(n)
                                    p.m = Int32(rows); p.n = Int32(n); p.kp = Int32(kp)
                                    p.panel_begin = 0; p.panel_end = Int32(np / 16)
                                    kernel.pointee.gemm(&p)
                                }
                            }
                        }
                    }
                }
            }
        }
        for r in 0..<rows {
            for c in outliers {
                for j in 0..<n { y[r * n + j] += x[r * k + c] * weights[j * k + c] }
            }
        }
        var err = 0.0, norm = 0.0
        for i in 0..<(rows * n) {
            let d = Double(y[i]) - Double(yRef[i])
            err += d * d
            norm += Double(yRef[i]) * Double(yRef[i])
        }
        return norm > 0 ? (err / norm).squareRoot() : 0
    }
}

extension Optional where Wrapped == [Float] {
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .none: return body(nil)
        case .some(let a): return a.withUnsafeBufferPointer { body($0.baseAddress) }
        }
    }
}
