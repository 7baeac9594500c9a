import EdgeBERT

enum InspectCommand {
    static let spec = CommandSpec(
        name: "inspect", usage: "inspect MODEL [--verify]",
        summary: "Show a model file's header, tokenizer switches and tensor table.",
        options: [OptionSpec(names: ["--verify"], value: nil, help: "Recompute the CRC32C of the data; exit 1 if it differs")])

    static func run(_ args: [String]) throws(EdgeBERTError) {
        let a = try Arguments(args, spec: spec)
        if a.wantsHelp { say(spec.help); return }
        guard a.positionals.count == 1 else { throw .usage("inspect", "needs exactly one MODEL") }
        let m = try ModelFile(path: a.positionals[0])
        let c = m.config, h = m.header
        say("file        \(m.path) (\(m.file.bytes.count) bytes, format v\(ModelHeader.version))")
        say("model       BERT: \(c.layers) layers, hidden \(c.hidden), \(c.heads) heads, intermediate \(c.intermediate), \(c.activation)")
        say("vocabulary  \(c.vocabSize) tokens, \(c.maxPositions) positions, \(c.typeVocabSize) token types, layer-norm eps \(c.layerNormEps)")
        say("tokenizer   lowercase \(c.tokenizer.lowercase), strip accents \(c.tokenizer.stripAccents.map { "\($0)" } ?? "as lowercase"), split CJK \(c.tokenizer.splitChinese)")
        say("defaults    pooling \(c.pooling), normalize \(c.normalize), max length \(c.maxSequenceLength) tokens")
        say("weights     \(h.weightDType), checksum \(String(h.checksum, radix: 16))")
        say("tensors     \(m.entries.count)")
        for e in m.entries {
            say("  " + e.name.padding(52) + " " + e.dtype.description.padding(10) + " "
                + e.shape.map(String.init).joined(separator: "x").padding(12) + " \(e.length) bytes @ \(e.offset)")
        }
        if a.flag("--verify") {
            try m.verify()
            say("verify      OK: checksum matches")
        }
    }
}
