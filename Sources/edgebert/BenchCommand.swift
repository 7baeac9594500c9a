#if canImport(Glibc)
import Glibc
#endif
import EdgeBERT

enum BenchCommand {
    static let spec = CommandSpec(
        name: "bench", usage: "bench -m MODEL [--seq N] [--batch N] [--threads N] [--runs N] [--json]",
        summary: "Time the embed call alone (after a warm-up) on a synthetic text of exactly --seq tokens,\nand report memory.",
        options: RuntimeOptions.specs + [
            OptionSpec(names: ["--seq"], value: "N", help: "Tokens per text, [CLS]/[SEP] included (default 128)"),
            OptionSpec(names: ["--batch"], value: "N", help: "Texts per timed call, run as one packed batch (default 1)"),
            OptionSpec(names: ["--runs"], value: "N", help: "Timed calls (default 20)"),
            OptionSpec(names: ["--json"], value: nil, help: "One JSON object"),
            OptionSpec(names: ["--tokenizer"], value: nil, help: "Time the tokenizer alone over the lines of -i FILE"),
            OptionSpec(names: ["-i", "--input"], value: "FILE", help: "Texts for --tokenizer, one per line"),
            OptionSpec(names: ["--index"], value: "INDEX", help: "Time search instead: one query at a time, the rows of --query-npy"),
            OptionSpec(names: ["--query-npy"], value: "FILE", help: "Query vectors for --index, float32 [n, dims]"),
            OptionSpec(names: ["-k"], value: "N", help: "Results per query for --index (default 10)"),
        ])

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Fields of /proc/self/status in bytes: VmHWM (peak RSS), RssAnon.
    static func memory() -> (peak: Int, anon: Int) {
        guard let bytes = try? Input.readAll(path: "/proc/self/status") else { return (0, 0) }
        var peak = 0, anon = 0
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kb = Int(parts[1]) else { continue }
            if parts[0] == "VmHWM:" { peak = kb * 1024 }
            if parts[0] == "RssAnon:" { anon = kb * 1024 }
        }
        return (peak, anon)
    }

    /// Tokenizer throughput: every line of -i FILE, `runs` passes, the fastest pass reported.
    static func tokenizer(_ a: Arguments, runs: Int) throws(EdgeBERTError) {
        guard let file = a.value("--input") else { throw .usage("--tokenizer", "needs -i FILE with the texts to tokenize") }
        let model = try ModelFile(path: try a.required("--model"))
        let c = model.config
        let t = WordPieceTokenizer(vocab: model.vocab, options: c.tokenizer, special: c.special)
        let texts = try Input.texts(positionals: [], file: file)
        let maxTokens = try a.int("--max-length", 2...1_000_000) ?? 1_000_000
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        var ids = [Int32](repeating: 0, count: maxTokens)
        var best = Double.infinity
        var tokens = 0
        for _ in 0..<max(runs, 3) {
            tokens = 0
            let t0 = now()
            ids.withUnsafeMutableBufferPointer { b in
                for text in texts { tokens += t.encode(text, into: UnsafeMutableBufferPointer(rebasing: b[0..<maxTokens])) }
            }
            best = min(best, now() - t0)
        }
        let tps = Double(tokens) / best, mbps = Double(bytes) / best / 1e6
        if a.flag("--json") {
            say("{\"texts\":\(texts.count),\"tokens\":\(tokens),\"bytes\":\(bytes),\"seconds\":\(best),\"tokens_per_s\":\(tps),\"mb_per_s\":\(mbps)}")
        } else {
            say("tokenizer   \(texts.count) texts, \(bytes) bytes, \(tokens) tokens per pass (best of \(max(runs, 3)))")
            say("throughput  \(fixed(tps / 1e6, 2)) M tokens/s, \(fixed(mbps, 1)) MB/s of UTF-8, one thread")
        }
    }

    /// Search latency: every query row once as a warm-up (the index's pages come in), then each
    /// timed alone, one thread; median and p90 per query, memory (the index is mapped: its pages
    /// count in RSS as file pages, not anonymous memory).
    static func search(_ a: Arguments) throws(EdgeBERTError) {
        let index = try SearchIndex(path: try a.required("--index"), kernel: a.value("--kernel"))
        let queries = try NpyMatrix(path: try a.required("--query-npy"))
        guard queries.columns == index.identity.dims else { throw .data("--query-npy", "rows of \(queries.columns) floats, the index holds \(index.identity.dims)") }
        guard queries.rows > 0 else { throw .data("--query-npy", "no query rows") }
        let k = try a.int("-k", 1...max(1, index.count)) ?? min(10, index.count)
        for i in 0..<queries.rows { _ = try index.search(queries.row(i), count: 1, k: k) }
        var times: [Double] = []
        for i in 0..<queries.rows {
            let t0 = now()
            _ = try index.search(queries.row(i), count: 1, k: k)
            times.append((now() - t0) * 1000)
        }
        times.sort()
        let median = times[times.count / 2], p90 = times[min(times.count - 1, times.count * 9 / 10)]
        let mem = memory()
        if a.flag("--json") {
            say("{\"median_ms\":\(median),\"p90_ms\":\(p90),\"vectors\":\(index.count),\"dims\":\(index.identity.dims),\"k\":\(k),"
                + "\"queries\":\(queries.rows),\"peak_rss_bytes\":\(mem.peak),\"anon_rss_bytes\":\(mem.anon),\"kernel\":\"\(index.kernelName)\"}")
        } else {
            say("search      \(index.count) vectors x \(index.identity.dims), top \(k), \(queries.rows) queries one at a time, one thread, kernel \(index.kernelName)")
            say("latency     median \(fixed(median, 3)) ms, p90 \(fixed(p90, 3)) ms")
            say("memory      peak RSS \(fixed(Double(mem.peak) / 1048576, 1)) MiB, anonymous \(fixed(Double(mem.anon) / 1048576, 1)) MiB")
        }
    }

    static func run(_ args: [String]) throws(EdgeBERTError) {
        let a = try Arguments(args, spec: spec)
        if a.wantsHelp { say(spec.help); return }
        let seq = try a.int("--seq", 3...65536) ?? 128
        let batch = try a.int("--batch", 1...4096) ?? 1
        let runs = try a.int("--runs", 1...100_000) ?? 20
        if a.flag("--tokenizer") { return try tokenizer(a, runs: runs) }
        if a.value("--index") != nil { return try search(a) }
        let e = try RuntimeOptions.embedder(a) { (o: inout Embedder.Options) throws(EdgeBERTError) in o.batch = batch }
        guard seq <= e.maxLength else { throw .usage("--seq", "\(seq) is past the max length \(e.maxLength) (raise --max-length)") }
        // "the" is one token in every English vocabulary: seq - 2 of them plus [CLS] and [SEP].
        let word = e.tokenizer.vocab.contains("the") ? "the" : e.tokenizer.vocab[e.config.special.unk]
        let text = Array(repeating: word, count: seq - 2).joined(separator: " ")
        guard e.tokenize(text).count == seq else { throw .data("bench", "could not build a \(seq)-token text") }
        var out = [Float](repeating: 0, count: e.dimension * batch)
        let texts = [String](repeating: text, count: batch)
        func call() throws(EdgeBERTError) {
            try out.withUnsafeMutableBufferPointer { (b: inout UnsafeMutableBufferPointer<Float>) throws(EdgeBERTError) in
                try e.embed(texts, into: b)
            }
        }
        for _ in 0..<3 { try call() }
        var times: [Double] = []
        for _ in 0..<runs {
            let t0 = now()
            try call()
            times.append((now() - t0) * 1000)
        }
        times.sort()
        let median = times[times.count / 2], p90 = times[min(times.count - 1, Int(Double(times.count) * 0.9))]
        let tps = Double(seq * batch) / (median / 1000)
        let mem = memory()
        if a.flag("--json") {
            say("{\"median_ms\":\(median),\"p90_ms\":\(p90),\"tokens_per_s\":\(tps),\"peak_rss_bytes\":\(mem.peak),"
                + "\"anon_rss_bytes\":\(mem.anon),\"arena_bytes\":\(e.arenaBytes),\"kernel\":\"\(e.kernelName)\","
                + "\"threads\":\(e.threads),\"seq\":\(seq),\"batch\":\(batch),\"runs\":\(runs)}")
        } else {
            say("model       \(e.model.path) (\(e.model.header.weightDType))")
            say("kernel      \(e.kernelName), \(e.threads) thread(s)")
            say("input       \(batch) x \(seq) tokens, \(runs) runs after 3 warm-up")
            say("latency     median \(fixed(median, 3)) ms, p90 \(fixed(p90, 3)) ms")
            say("throughput  \(fixed(tps, 0)) tokens/s")
            say("memory      peak RSS \(fixed(Double(mem.peak) / 1048576, 1)) MiB, anonymous \(fixed(Double(mem.anon) / 1048576, 1)) MiB, arena \(fixed(Double(e.arenaBytes) / 1048576, 2)) MiB")
        }
    }
}
