import CKernels

/// Runs one dense layer on rows of activations with the chosen kernel path.
/// Shapes: x [m][ldx] f32 (and its 8-bit form xq [m][ldq], scales xs [m], minimums xmin [m], for
/// int8 layers) -> y [m][ldy].
struct LinearRunner {
    let kernel: UnsafePointer<ek_kernel>

    /// y = x W^T + b (+ residual, which may alias y), over output panels [p0, p1) (16 columns each).
    func run(_ layer: Linear, m: Int, x: UnsafePointer<Float>, ldx: Int,
             xq: UnsafePointer<Int8>, ldq: Int, xs: UnsafePointer<Float>, xmin: UnsafePointer<Float>,
             y: UnsafeMutablePointer<Float>, ldy: Int, residual: UnsafePointer<Float>?,
             panels: Range<Int>) {
        switch layer.storage {
        case let .int8(packed, scale, colsum):
            var p = ek_gemm_params()
            p.a = xq
            p.b = packed
            p.a_scale = xs
            p.a_min = xmin
            p.b_scale = scale
            p.b_colsum = colsum
            p.bias = layer.bias
            p.residual = residual
            p.c = y
            p.lda = Int64(ldq)
            p.ldc = Int64(ldy)
            p.m = Int32(m)
            p.n = Int32(layer.n)
            p.kp = Int32(layer.kp)
            p.panel_begin = Int32(panels.lowerBound)
            p.panel_end = Int32(panels.upperBound)
            kernel.pointee.gemm(&p)
            if let o = layer.outliers {
                o.add(level: kernel.pointee.level, m: m, x: x, ldx: ldx, y: y, ldy: ldy,
                      columns: min(panels.lowerBound * 16, layer.n)..<min(panels.upperBound * 16, layer.n), n: layer.n)
            }
        case let .f32(weight, packed):
            let n0 = min(panels.lowerBound * 16, layer.n), n1 = min(panels.upperBound * 16, layer.n)
            if packed {
                ek_sgemm_packed_at(kernel.pointee.level, x, Int64(ldx), weight, layer.bias, residual, y, Int64(ldy),
                                   Int32(m), Int32(layer.n), Int32(layer.k), Int32(n0), Int32(n1))
            } else {
                ek_sgemm_nt_at(kernel.pointee.level, x, Int64(ldx), weight, Int64(layer.k), layer.bias, residual, y,
                               Int64(ldy), Int32(m), Int32(layer.n), Int32(layer.k), Int32(n0), Int32(n1))
            }
        }
    }
}

extension OutlierColumns {
    /// y[r][c] += sum_j x[r][index[j]] * weight[j][c] for c in `columns`, after the int8 product
    /// (its bias and residual included): the same float operations on every kernel path.
    func add(level: Int32, m: Int, x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
             columns: Range<Int>, n: Int) {
        guard !columns.isEmpty else { return }
        ek_outliers_add_at(level, x, Int64(ldx), index, weight, Int64(n), Int32(count), y, Int64(ldy), Int32(m),
                           Int32(columns.lowerBound), Int32(columns.upperBound))
    }
}
