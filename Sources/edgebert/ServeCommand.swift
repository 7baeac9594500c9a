import EdgeBERT

enum ServeCommand {
    static let spec = CommandSpec(
        name: "serve", usage: "serve -m MODEL [--host 127.0.0.1] [--port 8080] [--threads N] [--api-key KEY] [options]",
        summary: """
        A local embedding server: OpenAI's POST /v1/embeddings, text-embeddings-inference's POST /embed and
        /tokenize, GET /health, /v1/models and /metrics (Prometheus); with --index, POST /search
        ({"query": "text" or [...], "k": 10} -> {"query", "results": [{"score", "line", "text"}]}). Requests from every connection share
        one queue and are packed into batches; each response holds the vectors `edgebert embed` gives.
        Prints one line with the address once it accepts; SIGINT/SIGTERM finish what is in flight, exit 0.
        """,
        options: [
            OptionSpec(names: ["-m", "--model"], value: "MODEL", help: "The model file"),
            OptionSpec(names: ["--host"], value: "ADDR", help: "IPv4 address to bind (default 127.0.0.1: this machine only)"),
            OptionSpec(names: ["--port"], value: "N", help: "TCP port (default 8080; 0: any free port)"),
            OptionSpec(names: ["--threads"], value: "N", help: "Threads of the engine (default: every core)"),
            OptionSpec(names: ["--api-key"], value: "KEY", help: "Require Authorization: Bearer KEY on the API endpoints"),
            OptionSpec(names: ["--max-batch-tokens"], value: "N", help: "Tokens per forward pass at most (default 1024)"),
            OptionSpec(names: ["--max-body"], value: "BYTES", help: "Largest request body (default 2097152)"),
            OptionSpec(names: ["--max-inputs"], value: "N", help: "Inputs per request at most (default 512)"),
            OptionSpec(names: ["--max-connections"], value: "N", help: "Open connections at most (default 256)"),
            OptionSpec(names: ["--queue-depth"], value: "N", help: "Requests waiting at most before 503 (default 256)"),
            OptionSpec(names: ["--read-timeout"], value: "SECONDS", help: "Time a request may take to arrive (default 10)"),
            OptionSpec(names: ["--idle-timeout"], value: "SECONDS", help: "Time an idle keep-alive connection stays open (default 60)"),
            OptionSpec(names: ["--model-name"], value: "NAME", help: "Name /v1/models lists (default: the file's name)"),
            OptionSpec(names: ["--max-length"], value: "N", help: "Longest input in tokens (default: the model's)"),
            OptionSpec(names: ["--kernel"], value: "NAME", help: "Force a kernel path"),
            OptionSpec(names: ["--index"], value: "INDEX", help: "Answer POST /search from INDEX (made by `edgebert index` with this model)"),
        ])

    static func run(_ args: [String]) throws(EdgeBERTError) {
        let a = try Arguments(args, spec: spec)
        if a.wantsHelp { say(spec.help); return }
        var o = EmbeddingServer.Options()
        if let h = a.value("--host") { o.host = h }
        o.port = try a.int("--port", 0...65535) ?? 8080
        o.threads = try a.int("--threads", 1...256)
        o.apiKey = a.value("--api-key")
        if let k = o.apiKey, k.isEmpty { throw .usage("--api-key", "an empty key") }
        o.maxBatchTokens = try a.int("--max-batch-tokens", 2...(1 << 22)) ?? o.maxBatchTokens
        o.limits.body = try a.int("--max-body", 1024...(1 << 30)) ?? o.limits.body
        o.maxInputs = try a.int("--max-inputs", 1...65536) ?? o.maxInputs
        o.maxConnections = try a.int("--max-connections", 1...65536) ?? o.maxConnections
        o.queueDepth = try a.int("--queue-depth", 1...1_000_000) ?? o.queueDepth
        o.readTimeout = try a.double("--read-timeout", 0.1...3600) ?? o.readTimeout
        o.idleTimeout = try a.double("--idle-timeout", 0.1...86400) ?? o.idleTimeout
        o.modelName = a.value("--model-name")
        o.maxLength = try a.int("--max-length", 2...65536)
        o.kernel = a.value("--kernel")
        o.indexPath = a.value("--index")
        let server: EmbeddingServer
        do throws(EdgeBERTError) {
            server = try EmbeddingServer(modelPath: try a.required("--model"), options: o)
        } catch {
            throw RuntimeOptions.flagNamed(error)
        }
        server.stopOnSignals()
        say("edgebert: serving on http://\(server.address)")
        try Stdout.flush()
        server.run()
    }
}
