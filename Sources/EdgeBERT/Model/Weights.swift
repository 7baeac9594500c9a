import CKernels

/// The few input channels of an int8 layer computed in f32 beside the int8 product (their int8
/// weight columns are zero and their smoothing factor 0, so they take no part in the 8-bit
/// rounding): y[., c] += sum_j x[., index[j]] * weight[j][c]. Chosen by `quantize` as the inputs
/// with the widest calibration range, which would otherwise set the 8-bit step of every row.
struct OutlierColumns: @unchecked Sendable {
    let index: UnsafePointer<Int32>   // [count], strictly increasing, < k
    let weight: UnsafePointer<Float>  // [count][n]
    let count: Int
}

/// A dense layer y = x W^T + b as stored: int8 packed with per-channel scales and column sums, or
/// f32 (the float reference, or a layer kept in float) in 16-column panels or, as files written
/// before the panels were, row-major.
struct Linear: @unchecked Sendable {
    enum Storage {
        /// [Np/16][Kp/4][16][4] int8, scale [Np], colsum [Np], bias [Np]
        case int8(packed: UnsafePointer<Int8>, scale: UnsafePointer<Float>, colsum: UnsafePointer<Int32>)
        /// [Np/16][K][16] f32 when `packed`, else [N][K]; bias [N]
        case f32(weight: UnsafePointer<Float>, packed: Bool)
    }
    let name: String
    let n: Int  // output channels
    let k: Int  // input features
    let storage: Storage
    let bias: UnsafePointer<Float>
    /// SmoothQuant: [k] per-channel factors the activations are multiplied by before quantising
    /// (the stored weights were divided by the same factors). nil: none.
    let smooth: UnsafePointer<Float>?
    /// Input channels computed in f32 (int8 layers only). nil: none.
    let outliers: OutlierColumns?

    var kp: Int { roundUp(k, 4) }
    var panels: Int { roundUp(n, 16) / 16 }
    var isInt8: Bool { if case .int8 = storage { true } else { false } }

    init(_ file: ModelFile, _ name: String, n: Int, k: Int) throws(EdgeBERTError) {
        self.name = name
        self.n = n
        self.k = k
        let np = roundUp(n, 16)
        let w = try file.tensor(name + ".weight", [.i8Packed, .f32Packed, .f32], [n, k])
        if w.dtype == .i8Packed {
            storage = .int8(packed: w.int8s, scale: try file.tensor(name + ".scale", [.f32], [np]).floats,
                            colsum: try file.tensor(name + ".colsum", [.i32], [np]).int32s)
            bias = try file.tensor(name + ".bias", [.f32], [np]).floats
            smooth = file.has(name + ".smooth") ? try file.tensor(name + ".smooth", [.f32], [k]).floats : nil
            outliers = try Self.outliers(file, name, n: n, k: k, smooth: smooth)
        } else {
            storage = .f32(weight: w.floats, packed: w.dtype == .f32Packed)
            bias = try file.tensor(name + ".bias", [.f32], [n]).floats
            smooth = nil
            outliers = nil
        }
    }

    /// `name.outlier_index` (i32 [m]) and `name.outlier_weight` (f32 [m, n]), checked: every
    /// index inside the input, increasing, and its smoothing factor 0 (else the channel would be
    /// counted twice).
    static func outliers(_ file: ModelFile, _ name: String, n: Int, k: Int, smooth: UnsafePointer<Float>?)
        throws(EdgeBERTError) -> OutlierColumns? {
        guard let e = file.entry(name + ".outlier_index") else { return nil }
        guard e.shape.count == 1, (1...k).contains(e.shape[0]) else {
            throw .data(file.path, "tensor \(name).outlier_index has shape \(e.shape), expected [1...\(k)]")
        }
        let m = e.shape[0]
        let index = try file.tensor(name + ".outlier_index", [.i32], [m]).int32s
        let weight = try file.tensor(name + ".outlier_weight", [.f32], [m, n]).floats
        guard let smooth else { throw .data(file.path, "tensor \(name).outlier_index needs \(name).smooth") }
        for j in 0..<m {
            let c = Int(index[j])
            guard c >= 0, c < k, j == 0 || c > Int(index[j - 1]) else {
                throw .data(file.path, "tensor \(name).outlier_index holds \(c) at \(j): indices must increase and lie in 0..<\(k)")
            }
            guard smooth[c] == 0 else {
                throw .data(file.path, "tensor \(name).smooth is \(smooth[c]) at outlier channel \(c), expected 0")
            }
        }
        return OutlierColumns(index: index, weight: weight, count: m)
    }
}

/// LayerNorm parameters: gamma and beta, [hidden] each.
struct LayerNormWeights: @unchecked Sendable {
    let gamma: UnsafePointer<Float>
    let beta: UnsafePointer<Float>

    init(_ file: ModelFile, _ name: String, _ hidden: Int) throws(EdgeBERTError) {
        gamma = try file.tensor(name + ".weight", [.f32], [hidden]).floats
        beta = try file.tensor(name + ".bias", [.f32], [hidden]).floats
    }
}

/// One encoder layer's weights (names as in transformers' modeling_bert.py BertLayer).
struct LayerWeights: @unchecked Sendable {
    let query: Linear, key: Linear, value: Linear  // [H, H] each
    let attentionOutput: Linear                     // [H, H]
    let attentionNorm: LayerNormWeights             // [H]
    let intermediate: Linear                        // [I, H]
    let output: Linear                              // [H, I]
    let outputNorm: LayerNormWeights                // [H]
}

/// Every weight of the model, as views into the mapped file. Resolved and shape-checked once.
struct Weights: @unchecked Sendable {
    /// [vocab, H] int8 with a scale per row, or f32.
    let wordEmbeddings: UnsafeRawPointer
    let wordScales: UnsafePointer<Float>?  // [vocab], nil when f32
    /// Keeps the word-embedding rows texts touched off the resident set past a budget.
    let wordRows: ResidentRows
    let positionEmbeddings: UnsafePointer<Float>   // [maxPositions, H]
    let tokenTypeEmbeddings: UnsafePointer<Float>  // [typeVocab, H]
    let embeddingNorm: LayerNormWeights
    let layers: [LayerWeights]

    init(_ file: ModelFile) throws(EdgeBERTError) {
        let c = file.config
        let H = c.hidden, I = c.intermediate
        let word = try file.tensor("embeddings.word_embeddings.weight", [.i8, .f32], [c.vocabSize, H])
        wordEmbeddings = word.base
        // A text touches a handful of rows of the largest table: keep the others off the RSS.
        file.file.adviseRandomAccess(offset: word.entry.offset, count: word.entry.length)
        wordRows = ResidentRows(file: file.file, offset: word.entry.offset, length: word.entry.length,
                                rowBytes: word.entry.length / c.vocabSize)
        wordScales = word.dtype == .i8 ? try file.tensor("embeddings.word_embeddings.scale", [.f32], [c.vocabSize]).floats : nil
        positionEmbeddings = try file.tensor("embeddings.position_embeddings.weight", [.f32], [c.maxPositions, H]).floats
        tokenTypeEmbeddings = try file.tensor("embeddings.token_type_embeddings.weight", [.f32], [c.typeVocabSize, H]).floats
        embeddingNorm = try LayerNormWeights(file, "embeddings.LayerNorm", H)
        var layers: [LayerWeights] = []
        for l in 0..<c.layers {
            let p = "encoder.layer.\(l)."
            let lw = LayerWeights(
                query: try Linear(file, p + "attention.self.query", n: H, k: H),
                key: try Linear(file, p + "attention.self.key", n: H, k: H),
                value: try Linear(file, p + "attention.self.value", n: H, k: H),
                attentionOutput: try Linear(file, p + "attention.output.dense", n: H, k: H),
                attentionNorm: try LayerNormWeights(file, p + "attention.output.LayerNorm", H),
                intermediate: try Linear(file, p + "intermediate.dense", n: I, k: H),
                output: try Linear(file, p + "output.dense", n: H, k: I),
                outputNorm: try LayerNormWeights(file, p + "output.LayerNorm", H))
            // Query, key and value read one quantised input: int8 ones must share one smoothing.
            let qkv = [lw.query, lw.key, lw.value].filter(\.isInt8)
            for other in qkv.dropFirst() where !sameSmoothing(qkv[0], other, H) {
                throw .data(file.path, "\(other.name).smooth differs from \(qkv[0].name).smooth: they share one input")
            }
            layers.append(lw)
        }
        self.layers = layers
    }
}

private func sameSmoothing(_ a: Linear, _ b: Linear, _ k: Int) -> Bool {
    switch (a.smooth, b.smooth) {
    case (nil, nil): return true
    case let (x?, y?): return (0..<k).allSatisfy { x[$0] == y[$0] }
    default: return false
    }
}
