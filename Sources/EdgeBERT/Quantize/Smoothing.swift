#if canImport(Glibc)
import Glibc
#endif

/// SmoothQuant (Xiao et al. 2022): move the activation outliers of an input channel into the
/// weights. For input channel c, s_c = max|X_c|^alpha / max|W_c|^(1 - alpha); the weights'
/// column c is multiplied by s_c and the activations divided by it (at quantisation time), which
/// leaves X W^T unchanged in exact arithmetic while flattening the activation range.
enum Smoothing {
    static let minFactor: Float = 1e-3
    static let maxFactor: Float = 1e3

    /// Factors s [k] for the weights [n][k] that read one input.
    static func factors(activationMax: [Float], weights: [[Float]], k: Int, alpha: Float) -> [Float] {
        var wmax = [Float](repeating: 0, count: k)
        for w in weights {
            let n = w.count / k
            for r in 0..<n {
                for c in 0..<k { wmax[c] = max(wmax[c], abs(w[r * k + c])) }
            }
        }
        return (0..<k).map { c in
            let a = activationMax[c], b = wmax[c]
            guard a > 0, b > 0 else { return 1 }
            let s = powf(a, alpha) / powf(b, 1 - alpha)
            return min(max(s, minFactor), maxFactor)
        }
    }

    /// w[r][c] *= s[c]
    static func scaleColumns(_ w: inout [Float], n: Int, k: Int, by s: [Float]) {
        for r in 0..<n {
            for c in 0..<k { w[r * k + c] *= s[c] }
        }
    }
}

