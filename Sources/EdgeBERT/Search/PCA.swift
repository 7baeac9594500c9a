import CKernels

/// Principal component analysis of embeddings, streamed: `add` each vector (sum and second moment
/// accumulated in Double, [H] and [H][H]), then `fit(dims:)` solves the eigenvectors (cyclic
/// Jacobi: exact to rounding, a few seconds at H = 768) and keeps the `dims` axes of largest
/// variance. `edgebert pca` writes them into a model as its projection.
///
/// By default the axes are those of the uncentred second moment (an SVD of the embeddings): the
/// projection then keeps dot products, so cosine similarities survive (Spearman 0.999 of the
/// pairwise similarities at 128 of 384 dimensions on the test corpus). Centring first, as a
/// textbook PCA does, removes the direction all embeddings share and reorders the similarities
/// (0.62 there): `centred: true` is for other uses.
public struct PCA {
    /// The vectors' width.
    public let width: Int
    /// Vectors added.
    public private(set) var count = 0
    private var sum: [Double]       // [H]
    private var outer: [Double]     // [H][H], upper triangle used

    /// An empty accumulator for vectors of `width` floats.
    public init(width: Int) {
        self.width = width
        sum = [Double](repeating: 0, count: width)
        outer = [Double](repeating: 0, count: width * width)
    }

    /// Adds one vector [width].
    public mutating func add(_ v: UnsafeBufferPointer<Float>) {
        precondition(v.count == width)
        let H = width
        count += 1
        outer.withUnsafeMutableBufferPointer { o in
            for i in 0..<H {
                let x = Double(v[i])
                sum[i] += x
                let row = i * H
                for j in i..<H { o[row + j] += x * Double(v[j]) }
            }
        }
    }

    /// The fitted projection: axes [dims][width] (unit rows, by decreasing variance, each with
    /// its largest component positive), the mean [width], and each kept axis's share of the
    /// total variance.
    public struct Fit {
        /// [dims][width], unit rows.
        public let axes: [Float]
        /// [width]
        public let mean: [Float]
        /// Each axis's share of the total variance.
        public let explained: [Double]

        /// v [width] on the axes: [dims] = axes . (v - mean), what the written model's
        /// `Projection` computes after pooling.
        public func project(_ v: ArraySlice<Float>) -> [Float] {
            let H = mean.count
            let x = zip(v, mean).map { $0 - $1 }
            return axes.withUnsafeBufferPointer { w in
                x.withUnsafeBufferPointer { xv in (0..<(w.count / H)).map { ek_dot_f32(w.baseAddress! + $0 * H, xv.baseAddress!, Int32(H)) } }
            }
        }

        /// Writes a copy of `model` that carries this projection after pooling (`Projection`):
        /// every tensor, the config and the vocabulary as they were, plus the axes and the mean.
        /// The new file's checksums, and so its identity for `index`, differ from the input's.
        public func write(model: ModelFile, to path: String) throws(EdgeBERTError) {
            let H = model.config.hidden
            guard !model.has(Projection.weightName) else {
                throw .data(model.path, "already has a projection (made by `edgebert pca`): fit on the model it was made from")
            }
            guard mean.count == H, axes.count % H == 0 else {
                throw .usage("pca", "a fit of \(mean.count)-wide vectors does not fit a model of hidden size \(H)")
            }
            var tensors: [PendingTensor] = model.entries.map { e in
                PendingTensor(name: e.name, dtype: e.dtype, shape: e.shape, data: Array(model.file.bytes[e.offset..<(e.offset + e.length)]))
            }
            tensors.append(PendingTensor(name: Projection.weightName, floats: axes, shape: [axes.count / H, H]))
            tensors.append(PendingTensor(name: Projection.meanName, floats: mean, shape: [H]))
            try ModelWriter.write(path: path, config: model.config, weightDType: model.header.weightDType, vocab: model.vocab,
                                  tensors: tensors, protecting: [model.path])
        }
    }

    /// Solves for the top `dims` axes; needs at least two vectors.
    public func fit(dims: Int, centred: Bool = false) throws(EdgeBERTError) -> Fit {
        let H = width
        guard count >= 2 else { throw .data("pca", "\(count) vector\(count == 1 ? "" : "s"): a PCA needs at least two texts") }
        guard (1...H).contains(dims) else { throw .usage("dims", "\(dims) is outside 1...\(H)") }
        let n = Double(count)
        let mean = centred ? sum.map { $0 / n } : [Double](repeating: 0, count: H)
        var c = [Double](repeating: 0, count: H * H)   // covariance, symmetric
        for i in 0..<H {
            for j in i..<H {
                let v = (outer[i * H + j] - n * mean[i] * mean[j]) / (n - 1)
                c[i * H + j] = v
                c[j * H + i] = v
            }
        }
        let (values, vectors) = Self.jacobi(&c, H)
        let order = (0..<H).sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
        let total = values.reduce(0) { $0 + max($1, 0) }
        var axes = [Float](repeating: 0, count: dims * H)
        var explained: [Double] = []
        for (r, k) in order.prefix(dims).enumerated() {
            // Column k of `vectors` is the eigenvector of values[k].
            var peak = 0.0
            for i in 0..<H where abs(vectors[i * H + k]) > abs(peak) { peak = vectors[i * H + k] }
            let sign: Double = peak < 0 ? -1 : 1
            for i in 0..<H { axes[r * H + i] = Float(sign * vectors[i * H + k]) }
            explained.append(total > 0 ? max(values[k], 0) / total : 0)
        }
        return Fit(axes: axes, mean: mean.map { Float($0) }, explained: explained)
    }

    /// Eigenvalues and eigenvectors (columns of V [n][n]) of the symmetric a [n][n] (destroyed),
    /// by cyclic Jacobi rotations until the off-diagonal mass is negligible.
    static func jacobi(_ a: inout [Double], _ n: Int) -> ([Double], [Double]) {
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        var scale = 0.0
        for x in a { scale += x * x }
        a.withUnsafeMutableBufferPointer { a in
            v.withUnsafeMutableBufferPointer { v in
                for _ in 0..<100 {
                    var off = 0.0
                    for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
                    if off <= 1e-30 * scale || off == 0 { break }
                    for p in 0..<(n - 1) {
                        for q in (p + 1)..<n {
                            let apq = a[p * n + q]
                            if apq == 0 { continue }
                            let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                            let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                            let cs = 1 / (t * t + 1).squareRoot(), sn = t * cs
                            // A' = J^T A J on rows/columns p and q.
                            for k in 0..<n {
                                let akp = a[k * n + p], akq = a[k * n + q]
                                a[k * n + p] = cs * akp - sn * akq
                                a[k * n + q] = sn * akp + cs * akq
                            }
                            for k in 0..<n {
                                let apk = a[p * n + k], aqk = a[q * n + k]
                                a[p * n + k] = cs * apk - sn * aqk
                                a[q * n + k] = sn * apk + cs * aqk
                            }
                            for k in 0..<n {
                                let vkp = v[k * n + p], vkq = v[k * n + q]
                                v[k * n + p] = cs * vkp - sn * vkq
                                v[k * n + q] = sn * vkp + cs * vkq
                            }
                        }
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}

/// How faithfully reduced vectors keep the similarities of the full ones: Spearman's rank
/// correlation between the pairwise cosine similarities of `full` [n][fullDims] and `reduced`
/// [n][reducedDims] over every pair i < j (ties ranked by their average rank).
public func similarityFidelity(full: [Float], fullDims: Int, reduced: [Float], reducedDims: Int) -> Double {
    let n = full.count / fullDims
    precondition(reduced.count / reducedDims == n)
    func pairs(_ v: [Float], _ d: Int) -> [Double] {
        var norms = [Double](repeating: 0, count: n)
        for i in 0..<n { var s = 0.0; for k in 0..<d { s += Double(v[i * d + k]) * Double(v[i * d + k]) }; norms[i] = s.squareRoot() }
        var out: [Double] = []
        out.reserveCapacity(n * (n - 1) / 2)
        for i in 0..<n {
            for j in (i + 1)..<n {
                var dot = 0.0
                for k in 0..<d { dot += Double(v[i * d + k]) * Double(v[j * d + k]) }
                out.append(norms[i] > 0 && norms[j] > 0 ? dot / (norms[i] * norms[j]) : 0)
            }
        }
        return out
    }
    func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var r = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = average }
            i = j + 1
        }
        return r
    }
    let a = ranks(pairs(full, fullDims)), b = ranks(pairs(reduced, reducedDims))
    let m = Double(a.count)
    guard m > 1 else { return 1 }
    let ma = a.reduce(0, +) / m, mb = b.reduce(0, +) / m
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for i in a.indices { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb) }
    return sab / (saa * sbb).squareRoot()
}
