import CKernels

/// Per-channel activation ranges (max |x| per input channel of every dense layer), gathered by
/// running the float model over calibration texts. Feeds SmoothQuant-style smoothing; the second
/// moments H = X^T X over every calibration row feed the error-feedback rounding of the weights.
final class ActivationStats: ActivationObserver {
    typealias Site = ActivationSite

    /// [layer][site] -> [channels] max |x|
    private(set) var maxAbs: [[[Float]]]
    /// [layer][site] -> sampled rows [rows][channels], a few per text: the inputs on which
    /// `quantize` measures each matrix's output error.
    private(set) var samples: [[[Float]]]
    static let rowsPerText = 4
    static let maxRows = 192
    /// [layer][site] -> [channels][channels] sum over rows of x^T x (f32 sums of batched products).
    private(set) var hessians: [[[Float]]]
    /// [layer][site] -> rows seen.
    private(set) var rowCounts: [[Int]]
    /// [layer][site] -> rows [rows][channels] not yet in `hessians`.
    private var pending: [[[Float]]]
    private var transposed: [Float] = []  // [cols][rows] of the batch under way
    static let batchRows = 256
    private let hidden: Int, intermediate: Int

    init(layers: Int, hidden: Int, intermediate: Int) {
        self.hidden = hidden
        self.intermediate = intermediate
        maxAbs = (0..<layers).map { _ in
            Site.allCases.map { [Float](repeating: 0, count: $0 == .ffnHidden ? intermediate : hidden) }
        }
        samples = (0..<layers).map { _ in Site.allCases.map { _ in [] } }
        hessians = (0..<layers).map { _ in
            Site.allCases.map { site in
                let k = site == .ffnHidden ? intermediate : hidden
                return [Float](repeating: 0, count: k * k)
            }
        }
        rowCounts = (0..<layers).map { _ in Site.allCases.map { _ in 0 } }
        pending = (0..<layers).map { _ in Site.allCases.map { _ in [] } }
    }

    /// Folds the rows still pending into `hessians`: call once the calibration texts have run.
    func finish() {
        for l in pending.indices {
            for site in Site.allCases { accumulate(layer: l, site: site) }
        }
    }

    /// H += X^T X over the pending rows, as (X^T)(X^T)^T on the f32 GEMM.
    private func accumulate(layer: Int, site: Site) {
        let k = site == .ffnHidden ? intermediate : hidden
        let x = pending[layer][site.rawValue]
        let rows = x.count / k
        guard rows > 0 else { return }
        if transposed.count < rows * k { transposed = [Float](repeating: 0, count: rows * k) }
        transposed.withUnsafeMutableBufferPointer { t in
            for r in 0..<rows {
                for c in 0..<k { t[c * rows + r] = x[r * k + c] }
            }
            hessians[layer][site.rawValue].withUnsafeMutableBufferPointer { h in
                ek_sgemm_nt(t.baseAddress, Int64(rows), t.baseAddress, Int64(rows), nil, h.baseAddress, h.baseAddress,
                            Int64(k), Int32(k), Int32(k), Int32(rows), 0, Int32(k))
            }
        }
        pending[layer][site.rawValue].removeAll(keepingCapacity: true)
    }

    /// Bytes the second moments take for a model of this shape (the converter checks memory first).
    static func bytes(layers: Int, hidden: Int, intermediate: Int) -> Int {
        layers * (3 * hidden * hidden + intermediate * intermediate + batchRows * (3 * hidden + intermediate))
            * MemoryLayout<Float>.size
    }

    func observe(_ x: UnsafePointer<Float>, rows: Int, cols: Int, site: Site, layer: Int) {
        maxAbs[layer][site.rawValue].withUnsafeMutableBufferPointer { m in
            for r in 0..<rows {
                let row = x + r * cols
                for c in 0..<cols { m[c] = max(m[c], abs(row[c])) }
            }
        }
        // H += X^T X, in batches of rows (the GEMM runs along the rows: short texts alone waste it).
        pending[layer][site.rawValue].append(contentsOf: UnsafeBufferPointer(start: x, count: rows * cols))
        if pending[layer][site.rawValue].count >= Self.batchRows * cols { accumulate(layer: layer, site: site) }
        rowCounts[layer][site.rawValue] += rows
        // Evenly spaced rows of this text, [CLS] included.
        let take = min(rows, Self.rowsPerText)
        for i in 0..<take where samples[layer][site.rawValue].count / cols < Self.maxRows {
            let r = take == 1 ? 0 : i * (rows - 1) / (take - 1)
            samples[layer][site.rawValue].append(contentsOf: UnsafeBufferPointer(start: x + r * cols, count: cols))
        }
    }

    func ranges(layer: Int, site: Site) -> [Float] { maxAbs[layer][site.rawValue] }
}
