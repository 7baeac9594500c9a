import EdgeBERT

enum PcaCommand {
    static let spec = CommandSpec(
        name: "pca", usage: "pca -m MODEL -i FILE --dims N -o MODEL2 [options]",
        summary: """
        Fit a PCA on the embeddings of a corpus (one text per line) and write a model whose
        embeddings have N dimensions: the model's own vector, centred and projected on the N axes
        of largest variance, then normalised as the model normalises. Ends with what it costs:
        Spearman's rank correlation of the pairwise similarities (first 2,000 texts) against the
        full vectors, beside simply keeping the first N dimensions (--dims N, for Matryoshka models).
        """,
        options: RuntimeOptions.specs + [
            OptionSpec(names: ["-i", "--input"], value: "FILE", help: "The corpus, one text per line (default: stdin)"),
            OptionSpec(names: ["--dims"], value: "N", help: "Dimensions to keep"),
            OptionSpec(names: ["-o", "--output"], value: "MODEL2", help: "The model file to write"),
            OptionSpec(names: ["--batch"], value: "N", help: "Texts per forward pass (default 16)"),
        ])

    static let fidelityTexts = 2000

    static func run(_ args: [String]) throws(EdgeBERTError) {
        let a = try Arguments(args, spec: spec)
        if a.wantsHelp { say(spec.help); return }
        let out = try a.required("--output")
        guard let dims = try a.int("--dims", 1...65536) else { throw .usage("--dims", "is required") }
        let embedder = try RuntimeOptions.embedder(a) { (o: inout Embedder.Options) throws(EdgeBERTError) in
            o.batch = try a.int("--batch", 1...4096) ?? 16
        }
        if embedder.hasProjection {
            throw .data(embedder.model.path, "already has a projection (made by `edgebert pca`): fit on the model it was made from")
        }
        let H = embedder.dimension
        guard dims < H else { throw .usage("--dims", "\(dims) is not fewer than the model's \(H) dimensions") }
        guard embedder.pooling != .none else { throw .usage("--pooling", "the model pools nothing: a PCA needs one vector a text") }
        let inputFile = a.value("--input")
        let source = try TextSource(positionals: [], file: inputFile)
        var pca = PCA(width: H)
        var kept: [Float] = []   // [<= 2000][H] for the fidelity report
        let progress = Progress(total: source.size)
        try EmbedCommand.stream(source, embedder: embedder, onError: .fail) { (_: EmbedCommand.Item, v: UnsafeBufferPointer<Float>?, _: Int) throws(EdgeBERTError) in
            guard let v else { return }
            pca.add(v)
            if kept.count < fidelityTexts * H { kept.append(contentsOf: v) }
        } endOfBatch: { () throws(EdgeBERTError) in
            progress.update(texts: pca.count, bytes: source.bytesConsumed)
        }
        progress.finish()
        let fit = try pca.fit(dims: dims)
        try fit.write(model: embedder.model, to: out)
        // What it costs: the kept texts through the new model's projection, and cut to N.
        let n = kept.count / H
        var projected: [Float] = [], cut: [Float] = []
        for i in 0..<n {
            projected += fit.project(kept[(i * H)..<((i + 1) * H)])
            cut += kept[(i * H)..<(i * H + dims)]
        }
        let explained = fit.explained.reduce(0, +)
        let viaPCA = similarityFidelity(full: kept, fullDims: H, reduced: projected, reducedDims: dims)
        let viaCut = similarityFidelity(full: kept, fullDims: H, reduced: cut, reducedDims: dims)
        func f(_ x: Double) -> String { String(Double((x * 10000).rounded()) / 10000) }
        say("wrote \(out): \(dims) dimensions from \(H), fitted on \(pca.count) texts, \(f(explained * 100))% of the variance kept")
        say("similarity fidelity (Spearman of pairwise cosines, \(n) texts): PCA \(f(viaPCA)), first \(dims) dimensions \(f(viaCut))")
    }
}
