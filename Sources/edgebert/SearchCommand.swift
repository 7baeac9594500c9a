import EdgeBERT

enum SearchCommand {
    static let spec = CommandSpec(
        name: "search", usage: "search --index INDEX [-m MODEL] [QUERY...] [-i FILE] [-k 10] [--json]",
        summary: """
        Find the texts of an index most similar to each query (cosine similarity): the queries are
        the arguments, else the lines of -i FILE, else stdin. Prints, per query, the top k as
        `score<TAB>line<TAB>text` after a `# query` line, or with --json one object per query:
        {"query": ..., "results": [{"score": ..., "line": N, "text": ...}]} (lines 1-based).
        The model defaults to the one that made the index; another model is refused.
        """,
        options: RuntimeOptions.specs + [
            OptionSpec(names: ["--index"], value: "INDEX", help: "The index (from `edgebert index`)"),
            OptionSpec(names: ["-i", "--input"], value: "FILE", help: "Read queries from FILE, one per line"),
            OptionSpec(names: ["-k"], value: "N", help: "Results per query (default 10, or every text of a smaller index)"),
            OptionSpec(names: ["--json"], value: nil, help: "One JSON object per query"),
            OptionSpec(names: ["--verify"], value: nil, help: "Check every segment's checksum first (reads the whole index)"),
            OptionSpec(names: ["--query-npy"], value: "FILE", help: "Query with the float32 rows of FILE [n, dims] (queries shown as #row)"),
        ])

    static func run(_ args: [String]) throws(EdgeBERTError) {
        let a = try Arguments(args, spec: spec)
        if a.wantsHelp { say(spec.help); return }
        let index = try SearchIndex(path: try a.required("--index"), kernel: a.value("--kernel"))
        if a.flag("--verify") { try index.verify() }
        if index.count == 0 { throw .data(index.path, "the index is empty") }
        let k = try a.int("-k", Int.min...Int.max) ?? min(10, index.count)
        guard (1...index.count).contains(k) else { throw .usage("-k", "\(k) is outside 1...\(index.count), the texts in the index") }
        if a.value("--query-npy") != nil {
            // Vectors need no model; the index's own identity stands.
            return try searchVectors(a, index: index, k: k)
        }
        var args = a
        if args.value("--model") == nil { args.values["--model"] = [index.identity.modelPath] }
        let embedder = try RuntimeOptions.embedder(args) { (o: inout Embedder.Options) throws(EdgeBERTError) in
            o.dims = index.identity.dims
        }
        guard index.accepts(embedder) else {
            throw .data(index.path, "the index was made by another model (\(index.identity.modelPath)); search it with that model")
        }
        let json = a.flag("--json")
        let source = try TextSource(positionals: a.rawPositionals, file: a.value("--input"))
        while let line = try source.next() {
            guard let text = TextSource.decode(line) else { throw .data("\(source.what) \(line.number)", "invalid UTF-8") }
            let hits = try index.search(text, with: embedder, k: k)
            try Stdout.writer.append(json ? jsonRecord(text, hits) : textRecord(text, hits))
            try Stdout.writer.endOfBatch()
        }
    }

    /// --query-npy: each row of the file as a query.
    static func searchVectors(_ a: Arguments, index: SearchIndex, k: Int) throws(EdgeBERTError) {
        let npy = try a.required("--query-npy")
        let m = try NpyMatrix(path: npy)
        guard m.columns == index.identity.dims else { throw .data(npy, "rows of \(m.columns) floats, the index holds \(index.identity.dims)") }
        for i in 0..<m.rows {
            let hits = try index.search(m.row(i), count: 1, k: k)[0]
            try Stdout.writer.append(a.flag("--json") ? jsonRecord("#\(i + 1)", hits) : textRecord("#\(i + 1)", hits))
        }
    }

    static func jsonRecord(_ query: String, _ hits: [SearchHit]) -> String {
        let results = hits.map { "{\"score\":\(JSONText.number($0.score)),\"line\":\($0.line),\"text\":\(JSONText.string($0.text))}" }
        return "{\"query\":\(JSONText.string(query)),\"results\":[\(results.joined(separator: ","))]}\n"
    }

    static func textRecord(_ query: String, _ hits: [SearchHit]) -> String {
        var s = "# \(oneLine(query))\n"
        for h in hits {
            let score = (Double(h.score) * 10000).rounded() / 10000
            s += "\(score)\t\(h.line)\t\(oneLine(h.text))\n"
        }
        return s
    }

    /// Tabs and control characters shown as spaces, so a record stays one line of three fields.
    static func oneLine(_ s: String) -> String {
        String(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
    }
}
