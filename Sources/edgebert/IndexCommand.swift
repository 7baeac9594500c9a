import EdgeBERT

enum IndexCommand {
    static let spec = CommandSpec(
        name: "index", usage: "index -m MODEL -i FILE -o INDEX [--append] [--vectors int8|f32] [options]",
        summary: """
        Embed the lines of a file (or stdin) and write a search index for `edgebert search`: the
        vectors (int8 for the scan, and by default f32 to re-score the best results exactly), each
        line's number and text, and the model's identity. Streams in memory that does not grow with
        the input. A new index is written through a temporary file and renamed; --append adds to an
        existing one and commits at the end (an append cut short leaves the index as it was).
        """,
        options: RuntimeOptions.specs + RuntimeOptions.vectorSpecs + [
            OptionSpec(names: ["-i", "--input"], value: "FILE", help: "Read texts from FILE, one per line (default: stdin)"),
            OptionSpec(names: ["-o", "--output"], value: "INDEX", help: "The index file to write"),
            OptionSpec(names: ["--append"], value: nil, help: "Add to the existing INDEX (same model, dims and vectors)"),
            OptionSpec(names: ["--vectors"], value: "KIND", help: "f32 (default: int8 scan, exact f32 re-scoring; 5 bytes a dimension) or int8 (1 byte; recall@10 ~0.98)"),
            OptionSpec(names: ["--batch"], value: "N", help: "Texts per forward pass (default 16)"),
            OptionSpec(names: ["--on-error"], value: "MODE", help: "A line that cannot be embedded: fail (default) or skip"),
            OptionSpec(names: ["--from-npy"], value: "FILE", help: "Index the float32 rows of FILE [n, dims] instead (vectors of this model made elsewhere; no texts)"),
        ])

    static func run(_ args: [String]) throws(EdgeBERTError) {
        let a = try Arguments(args, spec: spec)
        if a.wantsHelp { say(spec.help); return }
        let out = try a.required("--output")
        let kind = a.value("--vectors") ?? "f32"
        guard kind == "int8" || kind == "f32" else { throw .usage("--vectors", "\"\(kind)\" is not one of int8, f32") }
        let onErrorName = a.value("--on-error") ?? "fail"
        guard let onError = OnError(rawValue: onErrorName), onError != .null else {
            throw .usage("--on-error", "\"\(onErrorName)\" is not one of fail, skip")
        }
        guard a.positionals.isEmpty else { throw .usage(a.positionals[0], "index reads -i FILE or stdin, not arguments") }
        let embedder = try RuntimeOptions.embedder(a) { (o: inout Embedder.Options) throws(EdgeBERTError) in
            o.batch = try a.int("--batch", 1...4096) ?? 16
            try RuntimeOptions.vectorOptions(a, &o)
        }
        guard embedder.pooling != .none else { throw .usage("--pooling", "none gives token vectors: an index needs one vector a text") }
        let inputFile = a.value("--input")
        let identity = IndexIdentity(embedder: embedder, keepsFloat: kind == "f32")
        let writer = try IndexWriter(path: out, identity: identity, append: a.flag("--append"),
                                     protecting: [embedder.model.path] + (inputFile.map { [$0] } ?? []))
        if let npy = a.value("--from-npy") {
            let m = try NpyMatrix(path: npy)
            guard m.columns == identity.dims else { throw .data(npy, "rows of \(m.columns) floats, the model gives \(identity.dims)") }
            for i in 0..<m.rows { try writer.add(m.row(i), text: "", line: i + 1) }
            try writer.finish(linesRead: m.rows)
            say("indexed \(m.rows) vectors into \(out) (\(writer.count) in all, \(identity.dims) dimensions, \(kind))")
            return
        }
        let source = try TextSource(positionals: [], file: inputFile)
        let progress = Progress(total: source.size)
        var lines = 0, added = 0
        try EmbedCommand.stream(source, embedder: embedder, onError: onError) { (item: EmbedCommand.Item, v: UnsafeBufferPointer<Float>?, _: Int) throws(EdgeBERTError) in
            lines = item.number
            guard let v, let text = item.text else { return }
            try writer.add(v, text: text, line: item.number)
            added += 1
        } endOfBatch: { () throws(EdgeBERTError) in
            progress.update(texts: added, bytes: source.bytesConsumed)
        }
        try writer.finish(linesRead: lines)
        progress.finish()
        say("indexed \(added) texts into \(out) (\(writer.count) in all, \(identity.dims) dimensions, \(kind))")
    }
}
