/// The inputs of a layer's dense matrices the encoder reports to an observer.
enum ActivationSite: Int, CaseIterable {
    case attentionInput = 0  // input of query / key / value   [H]
    case context = 1         // input of attention.output.dense [H]
    case ffnInput = 2        // input of intermediate.dense      [H]
    case ffnHidden = 3       // input of output.dense            [I]
}

/// Watches the encoder's activations as a forward pass computes them: the converter's
/// calibration implements it (`ActivationStats`), so the Model layer never knows Quantize.
/// Called on the calling thread between the passes, with rows [rows][cols] valid for the call.
protocol ActivationObserver: AnyObject {
    func observe(_ x: UnsafePointer<Float>, rows: Int, cols: Int, site: ActivationSite, layer: Int)
}
