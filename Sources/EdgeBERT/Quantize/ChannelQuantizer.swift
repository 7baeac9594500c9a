import CKernels

/// A weight matrix quantised to int8 with one scale per output channel and packed for the kernels.
struct QuantizedMatrix {
    var packed: [Int8]      // [Np/16][Kp/4][16][4]
    var scales: [Float]     // [Np], zero past N
    var colsums: [Int32]    // [Np], sum over k of q[n][k]
    /// ||W - dequant(Q)|| / ||W||: the relative error the rounding introduced.
    var relativeError: Double
}

enum ChannelQuantizer {
    /// Symmetric int8 per output channel: scale = max|w| / 127, q = round(w / scale) in [-127, 127],
    /// or, given the inverse factor of the calibration inputs' H (`ErrorFeedback.inverseFactor`),
    /// rounded with error feedback. w: [n][k] row-major.
    static func quantize(_ w: [Float], n: Int, k: Int, factor: [Double]? = nil) -> QuantizedMatrix {
        let np = roundUp(n, 16), kp = roundUp(k, 4)
        var scales = [Float](repeating: 0, count: np)
        var inverses = [Float](repeating: 0, count: n)
        for row in 0..<n {
            var amax: Float = 0
            for c in 0..<k { amax = max(amax, abs(w[row * k + c])) }
            scales[row] = amax / 127
            inverses[row] = amax > 0 ? 127 / amax : 0
        }
        var q: [Int8]
        if let factor {
            q = ErrorFeedback.round(w, n: n, k: k, scales: scales, factor: factor)
        } else {
            q = [Int8](repeating: 0, count: n * k)
            for row in 0..<n {
                let inv = inverses[row]
                for c in 0..<k { q[row * k + c] = Int8(max(-127, min(127, (w[row * k + c] * inv).rounded(.toNearestOrEven)))) }
            }
        }
        var colsums = [Int32](repeating: 0, count: np)
        var errSq = 0.0, normSq = 0.0
        for row in 0..<n {
            let scale = scales[row]
            var sum: Int32 = 0
            for c in 0..<k {
                let x = w[row * k + c]
                let v = Int32(q[row * k + c])
                sum += v
                let d = Double(x) - Double(Float(v) * scale)
                errSq += d * d
                normSq += Double(x) * Double(x)
            }
            colsums[row] = sum
        }
        var packed = [Int8](repeating: 0, count: np * kp)
        q.withUnsafeBufferPointer { src in
            packed.withUnsafeMutableBufferPointer { dst in
                ek_pack_b(src.baseAddress, Int32(n), Int32(k), dst.baseAddress)
            }
        }
        return QuantizedMatrix(packed: packed, scales: scales, colsums: colsums,
                               relativeError: normSq > 0 ? (errSq / normSq).squareRoot() : 0)
    }

    /// int8 per row (embedding tables): returns q [rows][cols] and one scale per row.
    static func quantizeRows(_ w: [Float], rows: Int, cols: Int) -> (q: [Int8], scales: [Float]) {
        var q = [Int8](repeating: 0, count: rows * cols)
        var scales = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            var amax: Float = 0
            for c in 0..<cols { amax = max(amax, abs(w[r * cols + c])) }
            let inv: Float = amax > 0 ? 127 / amax : 0
            scales[r] = amax / 127
            for c in 0..<cols { q[r * cols + c] = Int8(max(-127, min(127, (w[r * cols + c] * inv).rounded(.toNearestOrEven)))) }
        }
        return (q, scales)
    }
}
