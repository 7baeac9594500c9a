/// Pooling of token vectors x [n][H] into one vector [H], as sentence-transformers' Pooling does.
enum PoolingOps {
    static func pool(_ mode: Pooling, x: UnsafePointer<Float>, n: Int, hidden H: Int, out: UnsafeMutablePointer<Float>) {
        switch mode {
        case .cls, .none:
            out.update(from: x, count: H)
        case .mean, .meanSqrtLen:
            for i in 0..<H { out[i] = 0 }
            for t in 0..<n {
                let row = x + t * H
                for i in 0..<H { out[i] += row[i] }
            }
            let div = mode == .mean ? Float(n) : Float(n).squareRoot()
            for i in 0..<H { out[i] /= div }
        case .max:
            out.update(from: x, count: H)
            for t in 1..<max(n, 1) {
                let row = x + t * H
                for i in 0..<H { out[i] = max(out[i], row[i]) }
            }
        }
    }

    /// In-place L2 normalisation (a zero vector stays zero).
    static func normalize(_ v: UnsafeMutablePointer<Float>, count: Int) {
        var ss: Float = 0
        for i in 0..<count { ss += v[i] * v[i] }
        let norm = ss.squareRoot()
        guard norm > 0 else { return }
        let inv = 1 / max(norm, 1e-12)
        for i in 0..<count { v[i] *= inv }
    }
}
