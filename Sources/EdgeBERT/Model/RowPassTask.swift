import CKernels

/// The passes between the matmuls that work row by row (LayerNorm, GELU, the activation
/// quantiser), each split over the pool by rows: every row's result is the same whichever thread
/// takes it. Set the fields, then `pool.run(task, over: 0..<rows)`; nothing is allocated per call.
final class RowPassTask: ParallelTask, @unchecked Sendable {
    enum Kind { case layerNorm, gelu, quantize }
    var kind = Kind.quantize
    /// Rows [m][ld] of `cols` floats, in place for LayerNorm and GELU.
    var x: UnsafeMutablePointer<Float>?
    var ld = 0
    var cols = 0
    /// Where the rows go quantised (row r at q + r * ldq), or nil for none.
    var to: ek_quantize_to?
    /// LayerNorm only.
    var gamma: UnsafePointer<Float>?
    var beta: UnsafePointer<Float>?
    var eps: Float = 0
    /// The vector level of the kernel path in use.
    var level: Int32 = 0

    override func run(_ range: Range<Int>, thread: Int) {
        guard let x else { return }
        let rows = x + range.lowerBound * ld, m = Int32(range.count)
        guard var t = to else {
            switch kind {
            case .layerNorm: ek_layernorm_quantize_at(level, rows, Int64(ld), m, Int32(cols), gamma, beta, eps, nil)
            case .gelu: ek_gelu_quantize_at(level, rows, Int64(ld), m, Int32(cols), nil)
            case .quantize: break
            }
            return
        }
        t.q = t.q! + range.lowerBound * Int(t.ldq)
        t.scales = t.scales! + range.lowerBound
        t.mins = t.mins! + range.lowerBound
        switch kind {
        case .layerNorm: ek_layernorm_quantize_at(level, rows, Int64(ld), m, Int32(cols), gamma, beta, eps, &t)
        case .gelu: ek_gelu_quantize_at(level, rows, Int64(ld), m, Int32(cols), &t)
        case .quantize:
            ek_quantize_rows_at(level, rows, Int64(ld), m, Int32(cols), t.kp, t.sm, t.q, t.ldq, t.scales, t.mins, t.unsigned_a)
        }
    }
}
