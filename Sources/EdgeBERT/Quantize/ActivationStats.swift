/// Per-channel activation ranges (max |x| per input channel of every dense layer), gathered by
/// running the float model over calibration texts. Feeds SmoothQuant-style smoothing.
final class ActivationStats {
    enum Site: Int, CaseIterable {
        case attentionInput = 0  // input of query / key / value   [H]
        case context = 1         // input of attention.output.dense [H]
        case ffnInput = 2        // input of intermediate.dense      [H]
        case ffnHidden = 3       // input of output.dense            [I]
    }

    /// [layer][site] -> [channels] max |x|
    private(set) var maxAbs: [[[Float]]]

    init(layers: Int, hidden: Int, intermediate: Int) {
        maxAbs = (0..<layers).map { _ in
            Site.allCases.map { [Float](repeating: 0, count: $0 == .ffnHidden ? intermediate : hidden) }
        }
    }

    func observe(_ x: UnsafePointer<Float>, rows: Int, cols: Int, site: Site, layer: Int) {
        maxAbs[layer][site.rawValue].withUnsafeMutableBufferPointer { m in
            for r in 0..<rows {
                let row = x + r * cols
                for c in 0..<cols { m[c] = max(m[c], abs(row[c])) }
            }
        }
    }

    func ranges(layer: Int, site: Site) -> [Float] { maxAbs[layer][site.rawValue] }
}
