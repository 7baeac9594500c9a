import EdgeBERT

/// Options shared by embed, tokenize, compare and bench: the model and how it runs.
enum RuntimeOptions {
    static let specs: [OptionSpec] = [
        OptionSpec(names: ["-m", "--model"], value: "MODEL", help: "The model file (from `edgebert quantize`)"),
        OptionSpec(names: ["--max-length"], value: "N", help: "Longest input in tokens, [CLS]/[SEP] included (default: the model's)"),
        OptionSpec(names: ["--threads"], value: "N", help: "Threads (default: every core)"),
        OptionSpec(names: ["--kernel"], value: "NAME", help: "Force a kernel path: ref, avx2, avxvnni, avx512vnni, neon, neondot"),
        OptionSpec(names: ["--float-attention"], value: nil, help: "Attention in fp32 even in int8 layers (slower)"),
    ]

    static func embedder(_ a: Arguments, extra: (inout Embedder.Options) throws(EdgeBERTError) -> Void = { _ in })
        throws(EdgeBERTError) -> Embedder {
        let path = try a.required("--model")
        var o = Embedder.Options()
        o.maxLength = try a.int("--max-length", 2...65536)
        o.threads = try a.int("--threads", 1...256)
        o.kernel = a.value("--kernel")
        o.int8Attention = !a.flag("--float-attention")
        try extra(&o)
        return try Embedder(modelPath: path, options: o)
    }
}

enum EmbedCommand {
    static let spec = CommandSpec(
        name: "embed", usage: "embed -m MODEL [TEXT...] [-i FILE] [options]",
        summary: "Embed texts: the arguments, else the lines of -i FILE, else stdin (one text per line).",
        options: RuntimeOptions.specs + [
            OptionSpec(names: ["-i", "--input"], value: "FILE", help: "Read texts from FILE, one per line"),
            OptionSpec(names: ["-o", "--output"], value: "FILE", help: "Write to FILE (atomically) instead of stdout"),
            OptionSpec(names: ["--format"], value: "FMT", help: "jsonl (default), npy, or f32 (raw little-endian float32)"),
            OptionSpec(names: ["--pooling"], value: "MODE", help: "mean, cls, max, mean_sqrt_len or none (default: the model's)"),
            OptionSpec(names: ["--layer"], value: "N", help: "Hidden layer: 0 embeddings, L last, negative from the end"),
            OptionSpec(names: ["--normalize"], value: nil, help: "L2-normalise (default: the model's)"),
            OptionSpec(names: ["--no-normalize"], value: nil, help: "Do not L2-normalise"),
            OptionSpec(names: ["--no-truncate"], value: nil, help: "Refuse texts past the max length instead of cutting them"),
            OptionSpec(names: ["--batch"], value: "N", help: "Texts per forward pass (default 1; same results, more memory)"),
        ])

    static func run(_ args: [String]) throws(EdgeBERTError) {
        let a = try Arguments(args, spec: spec)
        if a.wantsHelp { say(spec.help); return }
        let format = a.value("--format") ?? "jsonl"
        guard ["jsonl", "npy", "f32"].contains(format) else { throw .usage("--format", "\"\(format)\" is not one of jsonl, npy, f32") }
        if a.flag("--normalize") && a.flag("--no-normalize") { throw .usage("--normalize", "conflicts with --no-normalize") }
        let embedder = try RuntimeOptions.embedder(a) { (o: inout Embedder.Options) throws(EdgeBERTError) in
            if let p = a.value("--pooling") {
                guard let mode = Pooling(name: p) else { throw .usage("--pooling", "\"\(p)\" is not one of mean, cls, max, mean_sqrt_len, none") }
                o.pooling = mode
            }
            o.layer = try a.int("--layer", -1000...1000)
            if a.flag("--normalize") { o.normalize = true }
            if a.flag("--no-normalize") { o.normalize = false }
            o.truncate = !a.flag("--no-truncate")
            o.batch = try a.int("--batch", 1...4096) ?? 1
        }
        let texts = try Input.texts(positionals: a.positionals, file: a.value("--input"))
        let H = embedder.dimension
        // Compute everything first: an error on text 900 must not leave 899 lines behind.
        var vectors: [[Float]] = []   // pooled: [texts][H]; none: [texts][tokens * H]
        var counts: [Int] = []
        if embedder.pooling != .none {
            var flat = [Float](repeating: 0, count: texts.count * H)
            var n = [Int](repeating: 0, count: texts.count)
            try flat.withUnsafeMutableBufferPointer { (b: inout UnsafeMutableBufferPointer<Float>) throws(EdgeBERTError) in
                try n.withUnsafeMutableBufferPointer { (nb: inout UnsafeMutableBufferPointer<Int>) throws(EdgeBERTError) in
                    do throws(EdgeBERTError) {
                        try embedder.embed(texts, into: b, tokens: nb)
                    } catch {
                        throw texts.count > 1 ? error : .data(error.what == "text 1" ? "text" : error.what, error.why)
                    }
                }
            }
            vectors = (0..<texts.count).map { Array(flat[($0 * H)..<(($0 + 1) * H)]) }
            counts = n
        }
        for (i, t) in texts.enumerated() where embedder.pooling == .none {
            do throws(EdgeBERTError) {
                let rows = try embedder.tokenVectors(t)
                vectors.append(rows.flatMap { $0 })
                counts.append(rows.count)
            } catch {
                throw .data(texts.count > 1 ? "text \(i + 1)" : error.what, error.why)
            }
        }
        let out = try Output(path: a.value("--output"))
        switch format {
        case "jsonl":
            for (v, n) in zip(vectors, counts) {
                var line = "{\"embedding\":"
                if embedder.pooling == .none {
                    line += "[" + (0..<n).map { t in "[" + v[(t * H)..<((t + 1) * H)].map(jsonNumber).joined(separator: ",") + "]" }
                        .joined(separator: ",") + "]"
                } else {
                    line += "[" + v.map(jsonNumber).joined(separator: ",") + "]"
                }
                line += ",\"n_tokens\":\(n)}\n"
                try out.write(line)
            }
        case "npy":
            let shape: [Int]
            if embedder.pooling == .none {
                guard Set(counts).count == 1 else {
                    throw .usage("--format npy", "token vectors of texts with different token counts do not fit one array; use jsonl or one text")
                }
                shape = [texts.count, counts[0], H]
            } else {
                shape = [texts.count, H]
            }
            try out.write(bytes: npyHeader(shape: shape))
            for v in vectors { try out.write(floats: v) }
        default:
            for v in vectors { try out.write(floats: v) }
        }
        try out.finish()
    }
}
