/// Per-channel activation ranges (max |x| per input channel of every dense layer), gathered by
/// running the float model over calibration texts. Feeds SmoothQuant-style smoothing.
final class ActivationStats: ActivationObserver {
    typealias Site = ActivationSite

    /// [layer][site] -> [channels] max |x|
    private(set) var maxAbs: [[[Float]]]
    /// [layer][site] -> sampled rows [rows][channels], a few per text: the inputs on which
    /// `quantize` measures each matrix's output error.
    private(set) var samples: [[[Float]]]
    static let rowsPerText = 4
    static let maxRows = 192

    init(layers: Int, hidden: Int, intermediate: Int) {
        maxAbs = (0..<layers).map { _ in
            Site.allCases.map { [Float](repeating: 0, count: $0 == .ffnHidden ? intermediate : hidden) }
        }
        samples = (0..<layers).map { _ in Site.allCases.map { _ in [] } }
    }

    func observe(_ x: UnsafePointer<Float>, rows: Int, cols: Int, site: Site, layer: Int) {
        maxAbs[layer][site.rawValue].withUnsafeMutableBufferPointer { m in
            for r in 0..<rows {
                let row = x + r * cols
                for c in 0..<cols { m[c] = max(m[c], abs(row[c])) }
            }
        }
        // Evenly spaced rows of this text, [CLS] included.
        let take = min(rows, Self.rowsPerText)
        for i in 0..<take where samples[layer][site.rawValue].count / cols < Self.maxRows {
            let r = take == 1 ? 0 : i * (rows - 1) / (take - 1)
            samples[layer][site.rawValue].append(contentsOf: UnsafeBufferPointer(start: x + r * cols, count: cols))
        }
    }

    func ranges(layer: Int, site: Site) -> [Float] { maxAbs[layer][site.rawValue] }
}
