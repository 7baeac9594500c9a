#if canImport(Glibc)
import Glibc
#endif
import EdgeBERT

/// Options shared by embed, tokenize, compare and bench: the model and how it runs.
enum RuntimeOptions {
    static let specs: [OptionSpec] = [
        OptionSpec(names: ["-m", "--model"], value: "MODEL", help: "The model file (from `edgebert quantize`)"),
        OptionSpec(names: ["--max-length"], value: "N", help: "Longest input in tokens, [CLS]/[SEP] included (default: the model's)"),
        OptionSpec(names: ["--threads"], value: "N", help: "Threads (default: every core)"),
        OptionSpec(names: ["--kernel"], value: "NAME", help: "Force a kernel path: ref, sse41, avx2, avxvnni, avx512vnni, neon, neondot"),
        OptionSpec(names: ["--float-attention"], value: nil, help: "Attention in fp32 even in int8 layers (slower)"),
    ]

    /// What every command that embeds for output (embed, index, search, serve) also takes.
    static let vectorSpecs: [OptionSpec] = [
        OptionSpec(names: ["--long"], value: "MODE", help: "Texts past the max length: truncate (default) or window"),
        OptionSpec(names: ["--stride"], value: "N", help: "With --long window: tokens shared by consecutive windows (default: max length / 8)"),
        OptionSpec(names: ["--dims"], value: "N", help: "Keep the first N dimensions, then re-normalise (Matryoshka models)"),
    ]

    /// Applies --long, --stride and --dims.
    static func vectorOptions(_ a: Arguments, _ o: inout Embedder.Options) throws(EdgeBERTError) {
        if let l = a.value("--long") {
            guard let mode = LongTexts(rawValue: l) else { throw .usage("--long", "\"\(l)\" is not one of truncate, window") }
            o.long = mode
        }
        o.stride = try a.int("--stride", 0...65536)
        if o.stride != nil && o.long != .window { throw .usage("--stride", "needs --long window") }
        o.dims = try a.int("--dims", 1...65536)
    }

    static func embedder(_ a: Arguments, extra: (inout Embedder.Options) throws(EdgeBERTError) -> Void = { _ in })
        throws(EdgeBERTError) -> Embedder {
        let path = try a.required("--model")
        var o = Embedder.Options()
        o.maxLength = try a.int("--max-length", 2...65536)
        o.threads = try a.int("--threads", 1...256)
        o.kernel = a.value("--kernel")
        o.int8Attention = !a.flag("--float-attention")
        try extra(&o)
        do throws(EdgeBERTError) {
            return try Embedder(modelPath: path, options: o)
        } catch {
            throw flagNamed(error)
        }
    }

    /// The library names options by their `Embedder.Options` property; the CLI by its flags.
    static let flags = ["port": "--port", "host": "--host", "maxLength": "--max-length", "layer": "--layer", "threads": "--threads", "batch": "--batch",
                        "batchTokens": "--batch-tokens", "kernel": "--kernel",
                        "stride": "--stride", "dims": "--dims", "pooling": "--pooling"]

    static func flagNamed(_ e: EdgeBERTError) -> EdgeBERTError {
        guard let flag = flags[e.what] else { return e }
        let why = e.why.replacing("the max length", with: "the max length (--max-length)")
            .replacing("the tokens per batch", with: "the tokens per batch (--batch-tokens)")
        return EdgeBERTError(e.kind, flag, why)
    }
}

/// What `embed` does with a line it cannot embed (invalid UTF-8; past the max length with
/// --no-truncate): stop with an error naming it, leave it out, or write a null record in its place.
enum OnError: String { case fail, skip, null }

enum EmbedCommand {
    static let spec = CommandSpec(
        name: "embed", usage: "embed -m MODEL [TEXT...] [-i FILE] [options]",
        summary: """
        Embed texts: the arguments, else the lines of -i FILE, else stdin (one text per line).
        Streams: reads a batch of lines, writes its records, and goes on, in memory that does not grow
        with the input; records leave at once when the output is a pipe or a terminal.
        """,
        options: RuntimeOptions.specs + RuntimeOptions.vectorSpecs + [
            OptionSpec(names: ["-i", "--input"], value: "FILE", help: "Read texts from FILE, one per line"),
            OptionSpec(names: ["-o", "--output"], value: "FILE", help: "Write to FILE (a new or regular file: through a temporary, renamed at the end)"),
            OptionSpec(names: ["--format"], value: "FMT", help: "jsonl (default), npy, or f32 (raw little-endian float32)"),
            OptionSpec(names: ["--pooling"], value: "MODE", help: "mean, cls, max, mean_sqrt_len or none (default: the model's)"),
            OptionSpec(names: ["--layer"], value: "N", help: "Hidden layer: 0 embeddings, L last, negative from the end"),
            OptionSpec(names: ["--normalize"], value: nil, help: "L2-normalise (default: the model's)"),
            OptionSpec(names: ["--no-normalize"], value: nil, help: "Do not L2-normalise"),
            OptionSpec(names: ["--no-truncate"], value: nil, help: "Refuse texts past the max length instead of cutting them"),
            OptionSpec(names: ["--batch"], value: "N", help: "Texts per forward pass (default 1; same results)"),
            OptionSpec(names: ["--batch-tokens"], value: "N", help: "Tokens per forward pass at most (default: batch x max length, capped at 2048)"),
            OptionSpec(names: ["--on-error"], value: "MODE", help: "A line that cannot be embedded: fail (default), skip, or null (a null record)"),
        ])

    /// One text of the batch being formed: its line number and its text, or why it cannot be embedded.
    struct Item { let number: Int; let text: String?; let problem: String? }

    static func run(_ args: [String]) throws(EdgeBERTError) {
        let a = try Arguments(args, spec: spec)
        if a.wantsHelp { say(spec.help); return }
        let format = a.value("--format") ?? "jsonl"
        guard ["jsonl", "npy", "f32"].contains(format) else { throw .usage("--format", "\"\(format)\" is not one of jsonl, npy, f32") }
        if a.flag("--normalize") && a.flag("--no-normalize") { throw .usage("--normalize", "conflicts with --no-normalize") }
        let onErrorName = a.value("--on-error") ?? "fail"
        guard let onError = OnError(rawValue: onErrorName) else { throw .usage("--on-error", "\"\(onErrorName)\" is not one of fail, skip, null") }
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
            o.batchTokens = try a.int("--batch-tokens", 2...(1 << 22))
            try RuntimeOptions.vectorOptions(a, &o)
        }
        let inputFile = a.value("--input")
        let source = try TextSource(positionals: a.rawPositionals, file: inputFile)
        let writer: RecordWriter
        if let path = a.value("--output") {
            writer = RecordWriter(try OutputFile(path: path, protecting: [embedder.model.path] + (inputFile.map { [$0] } ?? [])))
        } else {
            writer = Stdout.writer
        }
        let sink = try RecordSink(format: format, writer: writer, embedder: embedder, source: source, inputFile: inputFile,
                                  onError: onError)
        let progress = Progress(total: source.size)
        try stream(source, embedder: embedder, onError: onError) { (item: Item, vector: UnsafeBufferPointer<Float>?, tokens: Int) throws(EdgeBERTError) in
            if item.text == nil {
                if onError == .null { try sink.null(problem: item.problem ?? "") }
            } else if let vector {
                try sink.vector(vector, tokens: tokens)
            } else {
                try sink.tokens(try embedder.tokenVectors(item.text!))
            }
        } endOfBatch: { () throws(EdgeBERTError) in
            try writer.endOfBatch()
            progress.update(texts: sink.records, bytes: source.bytesConsumed)
        }
        progress.finish()
        try sink.finish()
    }

    /// Reads `source` in batches (one line, waiting for it if need be, then whatever more is
    /// already buffered), embeds each batch in one call, and hands every line on in order:
    /// its vector [dimension] and token count, or no vector (a line that cannot be embedded,
    /// with its problem; or `--pooling none`, whose token vectors the caller gets itself).
    /// A problem with `onError == .fail` stops with an error naming the line.
    static func stream(_ source: TextSource, embedder: Embedder, onError: OnError,
                       each: (Item, UnsafeBufferPointer<Float>?, Int) throws(EdgeBERTError) -> Void,
                       endOfBatch: () throws(EdgeBERTError) -> Void) throws(EdgeBERTError) {
        let H = embedder.dimension
        let batch = embedder.batch
        var vectors = [Float](repeating: 0, count: batch * H)   // [batch][H] pooled results of one pass
        var counts = [Int](repeating: 0, count: batch)
        var items: [Item] = []
        var texts: [String] = []
        items.reserveCapacity(batch)
        texts.reserveCapacity(batch)
        var done = false
        while !done {
            items.removeAll(keepingCapacity: true)
            texts.removeAll(keepingCapacity: true)
            while items.count < batch && (items.isEmpty || source.hasBuffered) {
                guard let line = try source.next() else { done = true; break }
                let item = check(line, embedder: embedder)
                if let problem = item.problem, onError == .fail { throw .data("\(source.what) \(item.number)", problem) }
                items.append(item)
                if let t = item.text { texts.append(t) }
            }
            if items.isEmpty { break }
            if embedder.pooling != .none && !texts.isEmpty {
                try vectors.withUnsafeMutableBufferPointer { (v: inout UnsafeMutableBufferPointer<Float>) throws(EdgeBERTError) in
                    try counts.withUnsafeMutableBufferPointer { (n: inout UnsafeMutableBufferPointer<Int>) throws(EdgeBERTError) in
                        try embedder.embed(texts, into: v, tokens: n)
                    }
                }
            }
            var k = 0
            for item in items {
                if item.text == nil {
                    try each(item, nil, 0)
                    continue
                }
                if embedder.pooling == .none {
                    try each(item, nil, 0)
                } else {
                    try vectors.withUnsafeBufferPointer { (v: UnsafeBufferPointer<Float>) throws(EdgeBERTError) in
                        try each(item, UnsafeBufferPointer(rebasing: v[(k * H)..<((k + 1) * H)]), counts[k])
                    }
                }
                k += 1
            }
            try endOfBatch()
        }
    }

    /// Decodes and checks one line: invalid UTF-8, or too long with --no-truncate, is a problem.
    static func check(_ line: Line, embedder: Embedder) -> Item {
        guard let text = TextSource.decode(line) else { return Item(number: line.number, text: nil, problem: "invalid UTF-8") }
        if !embedder.truncate {
            if line.truncated {
                return Item(number: line.number, text: nil, problem: "longer than \(TextSource.maxLineBytes) bytes (drop --no-truncate to cut it)")
            }
            if embedder.long != .window, let n = embedder.tokenCountPastMax(text) {
                return Item(number: line.number, text: nil,
                            problem: "\(n) tokens, past the max length of \(embedder.maxLength) (drop --no-truncate to cut it)")
            }
        }
        return Item(number: line.number, text: text, problem: nil)
    }
}
