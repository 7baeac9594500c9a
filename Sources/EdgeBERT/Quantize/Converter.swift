#if canImport(Glibc)
import Glibc
#endif

/// `edgebert quantize`: a Hugging Face BERT folder in, one EdgeBERT model file out.
/// Tensor names follow the checkpoint's keys with any `bert.` prefix resolved here, once.
public struct Converter {
    /// How to convert: storage type, layers kept float, smoothing, calibration, error bound.
    public struct Options: Sendable {
        /// int8 (the default) or f32 (the float reference, same format).
        public var dtype: DType = .i8
        /// Linear layers whose name contains one of these stay float (f32).
        public var keepFloat: [String] = []
        /// SmoothQuant migration strength alpha for every input; nil: chosen per input kind by
        /// measurement on the calibration texts. 0 turns smoothing off.
        public var smoothing: Float? = nil
        /// Alpha per input kind (attention input, context, FFN input, FFN hidden), set by convert.
        var alphas: [Float] = [0.5, 0.5, 0.5, 0.5]
        /// Weights rounded with error feedback on the calibration inputs (`ErrorFeedback`); false:
        /// to nearest. The smoothing search scores candidates rounded to nearest (faster).
        var errorFeedback = true
        /// How many input channels of each kind (attention input, context, FFN input, FFN hidden)
        /// skip the 8-bit rounding and are multiplied in f32 beside the int8 product: those with
        /// the widest calibration range (`OutlierColumns`).
        /// Measured on MiniLM (Benchmarks/RESULTS.md, "Accuracy levers"): one widest input per kind
        /// catches BERT's outlier dimensions, four for the FFN hidden input.
        var outlierChannels: [Int] = [1, 1, 1, 4]
        /// Calibration texts; nil: the built-in set.
        public var calibrationTexts: [String]? = nil
        /// A matrix whose int8 output error on the calibration inputs is above this stays f32
        /// (0: never).
        public var maxOutputError: Double = 0.05
        /// The WordPiece vocabulary of an ONNX export (nil: vocab.txt beside the .onnx file).
        public var vocabPath: String? = nil
        /// The longest input in tokens the model file records (nil: the checkpoint's own; an
        /// ONNX export, which does not record one, gets 128).
        public var maxSequenceLength: Int? = nil
        /// Called as the conversion moves on: the share done (0...1) and the current step.
        public var progress: (@Sendable (Double, String) -> Void)? = nil
        /// The defaults.
        public init() {}
    }

    /// One line of the quantisation report.
    public struct LayerReport: Sendable {
        /// The dense layer, e.g. `encoder.layer.0.attention.self.query`.
        public var name: String
        /// [N, K].
        public var shape: [Int]
        /// How it was stored: packed int8, or f32 panels when kept float.
        public var stored: DType
        /// ||W - dequant(Q)|| / ||W||.
        public var relativeError: Double
        /// ||Y_int8 - Y_f32|| / ||Y_f32|| of this matrix's output on calibration inputs (nil when
        /// not measured: no calibration, or stored float).
        public var outputError: Double?
        /// Kept float because `outputError` passed `maxOutputError`.
        public var keptByMeasurement = false
    }

    static func linearNames(layer l: Int) -> [String] {
        let p = "encoder.layer.\(l)."
        return [p + "attention.self.query", p + "attention.self.key", p + "attention.self.value",
                p + "attention.output.dense", p + "intermediate.dense", p + "output.dense"]
    }

    /// What the conversion did: the error of every matrix and the smoothing chosen.
    public struct Report: Sendable {
        /// One line per dense layer, in file order.
        public var layers: [LayerReport]
        /// SmoothQuant alpha per input kind: attention input, context, FFN input, FFN hidden.
        public var alphas: [Float]
        /// True when SmoothQuant factors were applied.
        public var smoothed: Bool
    }

    /// Converts `hfDir` (a Hugging Face folder, or a float ONNX export of BERT: a `.onnx` file, see
    /// `Options.vocabPath`) and writes `outPath` atomically. Refuses an output that would replace a
    /// file of the checkpoint; checks every weight (finite, plausible) and the memory the
    /// conversion needs before anything is written; scratch files live beside the output only
    /// while it runs and are removed on every exit path (signals included, see `SignalCleanup`).
    @discardableResult
    public static func convert(hfDir: String, outPath: String, options: Options) throws(EdgeBERTError) -> Report {
        let folder = try Checkpoint.open(hfDir, vocabPath: options.vocabPath, maxSequenceLength: options.maxSequenceLength)
        try folder.refuseOverwriting(outPath)
        let source = try SourceWeights(folder: folder)
        let c = folder.config
        try source.checkMemory(calibration: options.dtype == .i8 && options.smoothing != 0
            ? ActivationStats.bytes(layers: c.layers, hidden: c.hidden, intermediate: c.intermediate) : 0)
        try source.checkValues()
        var stats: ActivationStats? = nil
        var options = options
        let scratch = TemporaryFile(path: outPath + ".calibration-\(getpid())")
        if options.dtype == .i8 && options.smoothing != 0 {
            let texts = (options.calibrationTexts ?? CalibrationTexts.builtIn).filter { !$0.isEmpty }
            options.progress?(0, "calibrating on \(texts.count) texts")
            let (s, reference) = try calibrate(folder, source, texts: texts, scratchPath: scratch.path)
            stats = s
            if let alpha = options.smoothing {
                options.alphas = [alpha, alpha, alpha, alpha]
            } else {
                options.alphas = try searchAlphas(folder, source, options: options, stats: s, texts: texts,
                                                  reference: reference, scratchPath: scratch.path)
            }
        }
        options.progress?(0.95, "quantizing and writing")
        let (tensors, report) = try build(folder.config, source, options: options, stats: stats, measure: true)
        try ModelWriter.write(path: outPath, config: folder.config, weightDType: options.dtype, vocab: folder.vocab,
                              tensors: tensors)
        options.progress?(1, "done")
        return Report(layers: report, alphas: options.alphas, smoothed: stats != nil)
    }

    /// Runs the float model over the calibration texts: per-channel activation ranges, and the
    /// float embeddings the quantised candidates are measured against.
    static func calibrate(_ folder: Checkpoint, _ source: SourceWeights, texts: [String],
                          scratchPath: String) throws(EdgeBERTError) -> (ActivationStats, [[Float]]) {
        var f32 = Options()
        f32.dtype = .f32
        let (tensors, _) = try build(folder.config, source, options: f32, stats: nil)
        try ModelWriter.write(path: scratchPath, config: folder.config, weightDType: .f32, vocab: folder.vocab, tensors: tensors)
        defer { unlink(scratchPath) }
        let c = folder.config
        var one = Embedder.Options()
        one.threads = 1
        let embedder = try Embedder(modelPath: scratchPath, options: one)
        let stats = ActivationStats(layers: c.layers, hidden: c.hidden, intermediate: c.intermediate)
        embedder.observer = stats
        let reference = try embedder.embed(texts)
        embedder.observer = nil
        stats.finish()
        return (stats, reference)
    }

    /// Chooses the smoothing strength of each input kind by measurement: coordinate search over a
    /// few alphas, scoring each candidate model by the mean plus the min cosine of its calibration
    /// embeddings against the float model's.
    static func searchAlphas(_ folder: Checkpoint, _ source: SourceWeights, options: Options,
                             stats: ActivationStats, texts: [String], reference: [[Float]],
                             scratchPath: String) throws(EdgeBERTError) -> [Float] {
        var trial = options
        trial.errorFeedback = false
        func score(_ alphas: [Float]) throws(EdgeBERTError) -> Double {
            trial.alphas = alphas
            let (tensors, _) = try build(folder.config, source, options: trial, stats: stats)
            try ModelWriter.write(path: scratchPath, config: folder.config, weightDType: .i8, vocab: folder.vocab, tensors: tensors)
            defer { unlink(scratchPath) }
            var one = Embedder.Options()
            one.threads = 1
            let e = try Embedder(modelPath: scratchPath, options: one)
            var sum = 0.0, worst = 1.0
            for (t, r) in zip(texts, reference) {
                let c = cosineSimilarity(try e.embed(t), r)
                sum += c
                worst = min(worst, c)
            }
            return sum / Double(texts.count) + worst
        }
        var best: [Float] = [0.5, 0.5, 0.5, 0.5]
        var bestScore = try score(best)
        let candidates: [Float] = [0.3, 0.4, 0.6, 0.7, 0.8]
        for site in 0..<4 {
            for (j, a) in candidates.enumerated() {
                let step = site * candidates.count + j + 1, steps = 4 * candidates.count
                options.progress?(0.05 + 0.9 * Double(step) / Double(steps), "choosing smoothing: trial \(step) of \(steps)")
                var candidate = best
                candidate[site] = a
                let s = try score(candidate)
                if s > bestScore { bestScore = s; best = candidate }
            }
        }
        return best
    }

    /// The tensors of the model file, quantised as `options` say.
    static func build(_ c: ModelConfig, _ source: SourceWeights, options: Options, stats: ActivationStats?,
                      measure: Bool = false)
        throws(EdgeBERTError) -> ([PendingTensor], [LayerReport]) {
        var tensors: [PendingTensor] = []
        var report: [LayerReport] = []
        let H = c.hidden, I = c.intermediate

        // Embeddings. [vocab, H] int8 per row (f32 with --dtype f32); positions and types f32.
        let word = try source.load("embeddings.word_embeddings.weight", [c.vocabSize, H])
        if options.dtype == .i8 && !options.keepFloat.contains(where: { "embeddings.word_embeddings".contains($0) }) {
            let (q, scales) = ChannelQuantizer.quantizeRows(word, rows: c.vocabSize, cols: H)
            tensors.append(PendingTensor(name: "embeddings.word_embeddings.weight", dtype: .i8, shape: [c.vocabSize, H],
                                         data: q.withUnsafeBytes { Array($0) }))
            tensors.append(PendingTensor(name: "embeddings.word_embeddings.scale", floats: scales, shape: [c.vocabSize]))
        } else {
            tensors.append(PendingTensor(name: "embeddings.word_embeddings.weight", floats: word, shape: [c.vocabSize, H]))
        }
        for (name, rows) in [("embeddings.position_embeddings.weight", c.maxPositions),
                             ("embeddings.token_type_embeddings.weight", c.typeVocabSize)] {
            tensors.append(PendingTensor(name: name, floats: try source.load(name, [rows, H]), shape: [rows, H]))
        }
        for p in ["weight", "bias"] {
            tensors.append(PendingTensor(name: "embeddings.LayerNorm.\(p)", floats: try source.load("embeddings.LayerNorm.\(p)", [H]), shape: [H]))
        }

        for l in 0..<c.layers {
            let names = linearNames(layer: l)
            let shapes = [[H, H], [H, H], [H, H], [H, H], [I, H], [H, I]]
            let sites: [ActivationStats.Site] = [.attentionInput, .attentionInput, .attentionInput, .context, .ffnInput, .ffnHidden]
            var weights: [[Float]] = []
            for (name, shape) in zip(names, shapes) { weights.append(try source.load(name + ".weight", shape)) }
            let keep = names.map { name in options.dtype == .f32 || options.keepFloat.contains { name.contains($0) } }
            // Smoothing per input: query, key and value share theirs (one quantised input).
            var smooth: [[Float]?] = Array(repeating: nil, count: 6)
            if let stats {
                let groups = [[0, 1, 2], [3], [4], [5]]
                for (gi, g) in groups.enumerated() {
                    let alpha = options.alphas[gi]
                    guard alpha > 0 else { continue }
                    let members = g.filter { !keep[$0] }
                    guard !members.isEmpty else { continue }
                    let k = shapes[g[0]][1]
                    let s = Smoothing.factors(activationMax: stats.ranges(layer: l, site: sites[g[0]]),
                                              weights: members.map { weights[$0] }, k: k, alpha: alpha)
                    for m in members { smooth[m] = s }
                }
            }
            // The inputs with the widest calibration range, per input kind, computed in f32.
            var outlierChannels: [[Int]] = Array(repeating: [], count: 6)
            if let stats {
                for i in 0..<6 where !keep[i] {
                    let count = options.outlierChannels[sites[i].rawValue]
                    guard count > 0 else { continue }
                    let r = stats.ranges(layer: l, site: sites[i])
                    outlierChannels[i] = Array((0..<r.count).sorted { (r[$0], $1) > (r[$1], $0) }.prefix(count)).sorted()
                }
            }
            // The inverse factor of each input's H, in the smoothed coordinates (x / s): H_ij / (s_i s_j),
            // the outlier channels left out (their int8 weights are zero).
            var factors: [ActivationStats.Site: [Double]] = [:]
            func factor(_ i: Int) -> [Double]? {
                guard options.errorFeedback, let stats, stats.rowCounts[l][sites[i].rawValue] > 0 else { return nil }
                if let f = factors[sites[i]] { return f }
                let k = shapes[i][1], s = smooth[i]
                let h = stats.hessians[l][sites[i].rawValue]
                var hd = [Double](repeating: 0, count: k * k)
                for r in 0..<k {
                    let sr = Double(s?[r] ?? 1)
                    for c in 0..<k { hd[r * k + c] = Double(h[r * k + c]) / (sr * Double(s?[c] ?? 1)) }
                }
                for o in outlierChannels[i] {
                    for c in 0..<k { hd[o * k + c] = 0; hd[c * k + o] = 0 }
                }
                let f = ErrorFeedback.inverseFactor(hd, k: k)
                factors[sites[i]] = f
                return f
            }
            for (i, (name, shape)) in zip(names, shapes).enumerated() {
                let b = try source.load(name + ".bias", [shape[0]])
                if keep[i] {
                    tensors.append(PendingTensor(name: name + ".weight", panelsOf: weights[i], n: shape[0], k: shape[1]))
                    tensors.append(PendingTensor(name: name + ".bias", floats: b, shape: [shape[0]]))
                    report.append(LayerReport(name: name, shape: shape, stored: .f32Packed, relativeError: 0))
                    continue
                }
                var w = weights[i]
                if let s = smooth[i] { Smoothing.scaleColumns(&w, n: shape[0], k: shape[1], by: s) }
                // Outlier inputs: zero here (int8 product), exact in the f32 side product.
                let outliers = outlierChannels[i]
                for c in outliers { for row in 0..<shape[0] { w[row * shape[1] + c] = 0 } }
                let q = ChannelQuantizer.quantize(w, n: shape[0], k: shape[1], factor: factor(i))
                let np = roundUp(shape[0], 16)
                // What the runtime multiplies each input by before rounding: 1/s, 0 for outliers.
                var runtimeSmooth = smooth[i].map { $0.map { 1 / $0 } }
                if !outliers.isEmpty {
                    if runtimeSmooth == nil { runtimeSmooth = [Float](repeating: 1, count: shape[1]) }
                    for c in outliers { runtimeSmooth![c] = 0 }
                }
                var outputError: Double? = nil
                if measure, let stats {
                    let x = stats.samples[l][sites[i].rawValue]
                    let err = OutputError.measure(x: x, weights: weights[i], quantized: q, smooth: runtimeSmooth,
                                                  outliers: outliers, n: shape[0], k: shape[1])
                    outputError = err
                    if options.maxOutputError > 0 && err > options.maxOutputError {
                        tensors.append(PendingTensor(name: name + ".weight", panelsOf: weights[i], n: shape[0], k: shape[1]))
                        tensors.append(PendingTensor(name: name + ".bias", floats: b, shape: [shape[0]]))
                        report.append(LayerReport(name: name, shape: shape, stored: .f32Packed, relativeError: q.relativeError,
                                                  outputError: err, keptByMeasurement: true))
                        continue
                    }
                }
                tensors.append(PendingTensor(name: name + ".weight", dtype: .i8Packed, shape: shape,
                                             data: q.packed.withUnsafeBytes { Array($0) }))
                tensors.append(PendingTensor(name: name + ".scale", floats: q.scales, shape: [np]))
                tensors.append(PendingTensor(name: name + ".colsum", dtype: .i32, shape: [np],
                                             data: q.colsums.withUnsafeBytes { Array($0) }))
                tensors.append(PendingTensor(name: name + ".bias", floats: b + [Float](repeating: 0, count: np - b.count), shape: [np]))
                if let s = runtimeSmooth {
                    tensors.append(PendingTensor(name: name + ".smooth", floats: s, shape: [shape[1]]))
                }
                if !outliers.isEmpty {
                    let n = shape[0], k = shape[1]
                    var side = [Float](repeating: 0, count: outliers.count * n)  // [m][n]
                    for (j, c) in outliers.enumerated() {
                        for r in 0..<n { side[j * n + r] = weights[i][r * k + c] }
                    }
                    tensors.append(PendingTensor(name: name + ".outlier_index", dtype: .i32, shape: [outliers.count],
                                                 data: outliers.map { Int32($0) }.withUnsafeBytes { Array($0) }))
                    tensors.append(PendingTensor(name: name + ".outlier_weight", floats: side, shape: [outliers.count, n]))
                }
                report.append(LayerReport(name: name, shape: shape, stored: .i8Packed, relativeError: q.relativeError,
                                          outputError: outputError))
            }
            let p = "encoder.layer.\(l)."
            for ln in ["attention.output.LayerNorm", "output.LayerNorm"] {
                for part in ["weight", "bias"] {
                    tensors.append(PendingTensor(name: p + ln + "." + part, floats: try source.load(p + ln + "." + part, [H]), shape: [H]))
                }
            }
        }
        return (tensors, report)
    }
}

/// The checkpoint's tensors by their names without any `bert.` prefix (resolved once, here).
struct SourceWeights {
    let file: any CheckpointTensors
    let prefix: String

    init(folder: Checkpoint) throws(EdgeBERTError) {
        file = try folder.openTensors()
        prefix = file.has("bert.embeddings.word_embeddings.weight") ? "bert." : ""
        guard file.has(prefix + "embeddings.word_embeddings.weight") else {
            throw .data(file.path, "no embeddings.word_embeddings.weight (nor bert.…): not a BERT checkpoint")
        }
    }

    /// The largest magnitude a weight may have: past float16's range, which no trained BERT
    /// reaches (their weights are below 100); larger values are corruption, and would overflow
    /// the float sums of LayerNorm and the matmuls.
    static let maxMagnitude: Float = 65504

    /// Every float tensor finite and within `maxMagnitude`, or an error naming the tensor,
    /// before anything is computed or written.
    func checkValues() throws(EdgeBERTError) {
        for (name, _) in file.floatTensorShapes {
            if let (i, v) = try file.firstImplausibleValue(name, limit: Self.maxMagnitude) {
                throw .data(file.path, "tensor \(name) holds \(v) at index \(i): weights must be finite and within ±\(Int(Self.maxMagnitude)) (a corrupt checkpoint?)")
            }
        }
    }

    /// The converter holds the float weights about three times over (source floats, smoothed
    /// copy, packed int8 and the file image), plus the calibration's second moments
    /// (`calibration` bytes); refuse up front when the address-space or data
    /// limit (ulimit -v / -d) cannot hold that, rather than trap on a failed allocation.
    func checkMemory(calibration: Int = 0) throws(EdgeBERTError) {
        let floats = file.floatTensorShapes.reduce(0) { $0 + checkedProduct($1.shape) }
        let need = floats * 4 * 3 + file.fileSize + calibration + 64 << 20
        for (resource, name) in [(RLIMIT_AS, "address space (ulimit -v)"), (RLIMIT_DATA, "data size (ulimit -d)")] {
            var lim = rlimit()
            guard getrlimit(__rlimit_resource_t(resource.rawValue), &lim) == 0, lim.rlim_cur != rlim_t.max else { continue }
            if UInt64(need) > UInt64(lim.rlim_cur) {
                throw .data(file.path, "converting needs about \(need >> 20) MiB of memory, the \(name) limit is \(UInt64(lim.rlim_cur) >> 20) MiB: raise the limit")
            }
        }
    }

    func load(_ name: String, _ shape: [Int]) throws(EdgeBERTError) -> [Float] {
        let (s, v) = try file.floats(prefix + name)
        guard s == shape else { throw .data(file.path, "tensor \(prefix + name) has shape \(s), config.json implies \(shape)") }
        return v
    }
}
