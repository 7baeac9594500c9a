import EdgeBERT

enum TokenizeCommand {
    static let spec = CommandSpec(
        name: "tokenize", usage: "tokenize -m MODEL [TEXT...] [-i FILE]",
        summary: "Print, per text, one JSON line with the ids ([CLS] and [SEP] included, truncated as embed does)\nand the WordPiece tokens. Streams like embed.",
        options: [
            OptionSpec(names: ["-m", "--model"], value: "MODEL", help: "The model file"),
            OptionSpec(names: ["--max-length"], value: "N", help: "Longest input in tokens (default: the model's)"),
            OptionSpec(names: ["-i", "--input"], value: "FILE", help: "Read texts from FILE, one per line"),
        ])

    static func run(_ args: [String]) throws(EdgeBERTError) {
        let a = try Arguments(args, spec: spec)
        if a.wantsHelp { say(spec.help); return }
        let model = try ModelFile(path: try a.required("--model"))
        let c = model.config
        let maxLength = try a.int("--max-length", 2...c.maxPositions) ?? c.maxSequenceLength
        let tokenizer = WordPieceTokenizer(vocab: model.vocab, options: c.tokenizer, special: c.special)
        let source = try TextSource(positionals: a.rawPositionals, file: a.value("--input"))
        while let line = try source.next() {
            guard let t = TextSource.decode(line) else { throw .data("\(source.what) \(line.number)", "invalid UTF-8") }
            let ids = tokenizer.encode(t, maxTokens: maxLength)
            try Stdout.writer.append("{\"ids\":[" + ids.map { String($0) }.joined(separator: ",") + "],\"tokens\":["
                + ids.map { JSONText.string(model.vocab[Int($0)]) }.joined(separator: ",") + "]}\n")
            if !source.hasBuffered { try Stdout.writer.endOfBatch() }
        }
    }
}
