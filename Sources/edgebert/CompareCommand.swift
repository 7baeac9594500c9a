#if canImport(Glibc)
import Glibc
#endif
import EdgeBERT

enum CompareCommand {
    static let spec = CommandSpec(
        name: "compare", usage: "compare -m MODEL --reference MODEL_OR_HF_DIR [TEXT... | -i FILE] [--min-cosine X] [--json]",
        summary: """
        Run the same texts through MODEL and a float reference (an f32 model file, or a Hugging Face
        folder or float ONNX export converted on the fly) and report how close the embeddings are, ending with a verdict.
        Texts: the arguments, else -i FILE, else stdin when it is not a terminal, else the texts
        `quantize` calibrates on.

        The figures:
          cosine        per text, of its two embeddings: 1 is identical; 0.999 is as close as int8 gets
                        to float for search; below 0.99 a text's neighbours start to change
          neighbours    share of texts whose most similar other text is the same under both models;
                        a change where float's two nearest were within 0.01 is a near-tie that any
                        8-bit model may flip (--per-text lists every change with its float gap)
          max |err|     largest difference of one embedding element
          similarity    correlation of the two pairwise-similarity matrices (all pairs of texts)
          drift         mean hidden-state cosine after each layer: where the error grows
        """,
        options: RuntimeOptions.specs + [
            OptionSpec(names: ["--reference"], value: "REF", help: "f32 model file, Hugging Face folder or float ONNX export"),
            OptionSpec(names: ["--vocab"], value: "FILE", help: "The vocab.txt of an ONNX reference (default: beside it)"),
            OptionSpec(names: ["-i", "--input"], value: "FILE", help: "Read texts from FILE, one per line"),
            OptionSpec(names: ["--min-cosine"], value: "X", help: "Exit 1 when any text's cosine is below X"),
            OptionSpec(names: ["--json"], value: nil, help: "One JSON object instead of the table"),
            OptionSpec(names: ["--per-text"], value: nil, help: "List every text's cosine, and every changed nearest neighbour"),
        ])

    static func run(_ args: [String]) throws(EdgeBERTError) {
        let a = try Arguments(args, spec: spec)
        if a.wantsHelp { say(spec.help); return }
        let refPath = try a.required("--reference")
        let minCos = try a.double("--min-cosine", -1...1)
        let builtIn = a.rawPositionals.isEmpty && a.value("--input") == nil && isatty(0) != 0
        let texts = builtIn ? Converter.builtInCalibrationTexts : try Input.texts(positionals: a.rawPositionals, file: a.value("--input"))
        let model = try RuntimeOptions.embedder(a)
        var temp: TemporaryFile? = nil
        var st = stat()
        if stat(refPath, &st) == 0 && ((st.st_mode & S_IFMT) == S_IFDIR || refPath.hasSuffix(".onnx")) {
            temp = TemporaryFile(path: "/tmp/edgebert-reference-\(getpid()).ebm")
            var o = Converter.Options()
            o.dtype = .f32
            o.vocabPath = a.value("--vocab")
            try Converter.convert(hfDir: refPath, outPath: temp!.path, options: o)
        }
        let tempPath = temp?.path
        defer { withExtendedLifetime(temp) {} }
        var ro = Embedder.Options()
        ro.maxLength = model.maxLength
        ro.threads = model.threads
        let reference = try Embedder(modelPath: tempPath ?? refPath, options: ro)
        guard reference.config.hidden == model.config.hidden, reference.config.layers == model.config.layers,
              reference.config.vocabSize == model.config.vocabSize else {
            throw .data(refPath, "not the same architecture as the model (hidden, layers or vocabulary differ)")
        }
        let L = model.config.layers
        var maxAbs: Float = 0
        var layerCos = [Double](repeating: 0, count: L + 1)
        var vm: [[Float]] = [], vr: [[Float]] = []
        for t in texts {
            let x = try model.embed(t), y = try reference.embed(t)
            for i in 0..<x.count { maxAbs = max(maxAbs, abs(x[i] - y[i])) }
            vm.append(x); vr.append(y)
        }
        var accuracy = Accuracy(texts: texts, model: vm, reference: vr)
        // Drift layer by layer: mean over texts of the mean token cosine of the hidden states.
        let H = model.config.hidden
        for t in texts {
            let a = try model.layerStates(t), b = try reference.layerStates(t)
            let n = a[0].count / H
            for l in 0...L {
                var s = 0.0
                for r in 0..<n { s += cosineSimilarity(Array(a[l][(r * H)..<((r + 1) * H)]), Array(b[l][(r * H)..<((r + 1) * H)])) }
                layerCos[l] += s / Double(n) / Double(texts.count)
            }
        }
        // Agreement of the pairwise similarity matrices (Pearson over the upper triangle).
        let corr = pearson(accuracy.similarities.model, accuracy.similarities.reference)
        if let w = layerCos.enumerated().dropFirst().min(by: { $0.element < $1.element }) { accuracy.worstLayer = (w.offset, w.element) }
        let label = model.model.header.weightDType == .f32 ? "this model" : "int8"
        let verdict = accuracy.verdict(label)
        let mean = accuracy.mean, lowest = accuracy.lowest.cosine, p1 = accuracy.p1
        if a.flag("--json") {
            say("{\"texts\":\(texts.count),\"cosine_mean\":\(mean),\"cosine_min\":\(lowest),\"cosine_p1\":\(p1),"
                + "\"max_abs_error\":\(maxAbs),\"similarity_correlation\":\(corr.map { "\($0)" } ?? "null"),"
                + "\"neighbour_agreement\":\(accuracy.neighbourAgreement.map { "\($0)" } ?? "null"),"
                + "\"neighbour_changes\":[\(accuracy.neighbourChanges.map { "{\"text\":\($0.text + 1),\"float_nearest\":\($0.referenceNearest + 1),\"model_nearest\":\($0.modelNearest + 1),\"float_gap\":\($0.floatGap)}" }.joined(separator: ","))],"
                + "\"layer_cosine\":[\(layerCos.map { "\($0)" }.joined(separator: ","))],\"kernel\":\"\(model.kernelName)\","
                + "\"verdict\":\(JSONText.string(verdict))}")
        } else {
            say("model      \(model.model.path) (\(model.model.header.weightDType), kernel \(model.kernelName))")
            say("reference  \(refPath)")
            say("texts      \(texts.count)\(builtIn ? " (quantize's calibration texts)" : "")")
            if a.flag("--per-text") {
                say("per text, worst first:")
                for line in accuracy.perText() { say(line) }
                if !accuracy.neighbourChanges.isEmpty {
                    say("nearest neighbour changed:")
                    for line in accuracy.changedNeighbours() { say(line) }
                }
            }
            say("cosine     mean \(fixed(mean, 6))   min \(fixed(lowest, 6))   1st percentile \(fixed(p1, 6))")
            if let nn = accuracy.neighbourAgreement {
                say("neighbours \(fixed(nn * 100, 1))% of texts keep their most similar text\(accuracy.nearTieClause)")
            }
            say("max |err|  \(fixed(Double(maxAbs), 6))")
            if let corr { say("similarity matrix correlation \(fixed(corr, 6))") }
            say("drift      hidden-state cosine after each layer (0 = embeddings)")
            for (l, c) in layerCos.enumerated() { say("  layer \(l)".padding(12) + fixed(c, 6)) }
            say(verdict)
        }
        if let minCos, lowest < minCos {
            throw .data("compare", "min cosine \(fixed(lowest, 6)) is below --min-cosine \(minCos)")
        }
    }

    static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        guard x.count > 1 else { return nil }
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in 0..<x.count { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my) }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : nil
    }
}
