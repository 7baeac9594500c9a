/// `edgebert quantize`: a Hugging Face BERT folder in, one EdgeBERT model file out.
/// Tensor names follow the checkpoint's keys with any `bert.` prefix resolved here, once.
public struct Converter {
    public struct Options: Sendable {
        public var dtype: DType = .i8
        /// Linear layers whose name contains one of these stay float (f32).
        public var keepFloat: [String] = []
        public init() {}
    }

    /// One line of the quantisation report.
    public struct LayerReport: Sendable {
        public var name: String
        public var shape: [Int]
        public var stored: DType
        public var relativeError: Double
    }

    public static func linearNames(layer l: Int) -> [String] {
        let p = "encoder.layer.\(l)."
        return [p + "attention.self.query", p + "attention.self.key", p + "attention.self.value",
                p + "attention.output.dense", p + "intermediate.dense", p + "output.dense"]
    }

    /// Converts `hfDir` and writes `outPath` atomically. Returns the per-matrix error report.
    @discardableResult
    public static func convert(hfDir: String, outPath: String, options: Options) throws(EdgeBERTError) -> [LayerReport] {
        let folder = try HuggingFaceFolder(path: hfDir)
        let st = try folder.openWeights()
        let c = folder.config
        let prefix = st.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func load(_ name: String, _ shape: [Int]) throws(EdgeBERTError) -> [Float] {
            let (s, v) = try st.floats(prefix + name)
            guard s == shape else {
                throw .data(st.path, "tensor \(prefix + name) has shape \(s), config.json implies \(shape)")
            }
            return v
        }
        var tensors: [PendingTensor] = []
        var report: [LayerReport] = []
        let H = c.hidden, I = c.intermediate

        // Embeddings. [vocab, H] int8 per row (f32 with --dtype f32); positions and types f32.
        let word = try load("embeddings.word_embeddings.weight", [c.vocabSize, H])
        if options.dtype == .i8 {
            let (q, scales) = ChannelQuantizer.quantizeRows(word, rows: c.vocabSize, cols: H)
            tensors.append(PendingTensor(name: "embeddings.word_embeddings.weight", dtype: .i8, shape: [c.vocabSize, H],
                                         data: q.withUnsafeBytes { Array($0) }))
            tensors.append(PendingTensor(name: "embeddings.word_embeddings.scale", floats: scales, shape: [c.vocabSize]))
        } else {
            tensors.append(PendingTensor(name: "embeddings.word_embeddings.weight", floats: word, shape: [c.vocabSize, H]))
        }
        tensors.append(PendingTensor(name: "embeddings.position_embeddings.weight",
                                     floats: try load("embeddings.position_embeddings.weight", [c.maxPositions, H]),
                                     shape: [c.maxPositions, H]))
        tensors.append(PendingTensor(name: "embeddings.token_type_embeddings.weight",
                                     floats: try load("embeddings.token_type_embeddings.weight", [c.typeVocabSize, H]),
                                     shape: [c.typeVocabSize, H]))
        for p in ["weight", "bias"] {
            tensors.append(PendingTensor(name: "embeddings.LayerNorm.\(p)", floats: try load("embeddings.LayerNorm.\(p)", [H]), shape: [H]))
        }

        for l in 0..<c.layers {
            let names = linearNames(layer: l)
            let shapes = [[H, H], [H, H], [H, H], [H, H], [I, H], [H, I]]
            for (name, shape) in zip(names, shapes) {
                let w = try load(name + ".weight", shape)
                let b = try load(name + ".bias", [shape[0]])
                let keep = options.dtype == .f32 || options.keepFloat.contains { name.contains($0) }
                if keep {
                    tensors.append(PendingTensor(name: name + ".weight", floats: w, shape: shape))
                    tensors.append(PendingTensor(name: name + ".bias", floats: b, shape: [shape[0]]))
                    report.append(LayerReport(name: name, shape: shape, stored: .f32, relativeError: 0))
                } else {
                    let q = ChannelQuantizer.quantize(w, n: shape[0], k: shape[1])
                    let np = roundUp(shape[0], 16)
                    var bias = b
                    bias.append(contentsOf: repeatElement(0, count: np - b.count))
                    tensors.append(PendingTensor(name: name + ".weight", dtype: .i8Packed, shape: shape,
                                                 data: q.packed.withUnsafeBytes { Array($0) }))
                    tensors.append(PendingTensor(name: name + ".scale", floats: q.scales, shape: [np]))
                    tensors.append(PendingTensor(name: name + ".colsum", dtype: .i32, shape: [np],
                                                 data: q.colsums.withUnsafeBytes { Array($0) }))
                    tensors.append(PendingTensor(name: name + ".bias", floats: bias, shape: [np]))
                    report.append(LayerReport(name: name, shape: shape, stored: .i8Packed, relativeError: q.relativeError))
                }
            }
            let p = "encoder.layer.\(l)."
            for ln in ["attention.output.LayerNorm", "output.LayerNorm"] {
                for part in ["weight", "bias"] {
                    tensors.append(PendingTensor(name: p + ln + "." + part, floats: try load(p + ln + "." + part, [H]), shape: [H]))
                }
            }
        }
        try ModelWriter.write(path: outPath, config: c, weightDType: options.dtype, vocab: folder.vocab, tensors: tensors)
        return report
    }
}
