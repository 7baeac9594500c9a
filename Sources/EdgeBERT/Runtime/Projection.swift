import CKernels

/// A linear map a model may carry after pooling, written by `edgebert pca`:
/// y[P] = W[P][H] . (x[H] - mean[H]). Tensors `projection.weight` (f32 [P, H], the principal
/// axes as rows) and `projection.mean` (f32 [H]).
struct Projection {
    static let weightName = "projection.weight"
    static let meanName = "projection.mean"

    let weight: UnsafePointer<Float>   // [rows][cols]
    let mean: UnsafePointer<Float>     // [cols]
    let rows: Int
    let cols: Int

    /// The model's projection, nil when it has none; an error when only half of it is there or
    /// its shapes do not fit the model.
    init?(_ model: ModelFile) throws(EdgeBERTError) {
        let has = (model.has(Self.weightName), model.has(Self.meanName))
        if has == (false, false) { return nil }
        guard has == (true, true) else { throw .data(model.path, "the projection is incomplete (needs \(Self.weightName) and \(Self.meanName))") }
        let H = model.config.hidden
        guard let e = model.entry(Self.weightName), e.shape.count == 2, (1...H).contains(e.shape[0]) else {
            throw .data(model.path, "tensor \(Self.weightName) must be [P, \(H)] with P in 1...\(H)")
        }
        rows = e.shape[0]
        cols = H
        weight = try model.tensor(Self.weightName, [.f32], [rows, H]).floats
        mean = try model.tensor(Self.meanName, [.f32], [H]).floats
    }

    /// y[rows] = W . (x - mean); x [cols] is centred in place.
    func apply(_ x: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        for i in 0..<cols { x[i] -= mean[i] }
        for r in 0..<rows { y[r] = ek_dot_f32(weight + r * cols, x, Int32(cols)) }
    }
}
