/// A Hugging Face BERT checkpoint folder: config.json, vocab.txt, model.safetensors, and the
/// sentence-transformers files that set pooling, normalisation and the max sequence length.
struct HuggingFaceFolder {
    let path: String
    let config: ModelConfig
    let vocab: [String]

    init(path: String) throws(EdgeBERTError) {
        self.path = path
        func file(_ name: String) -> String { path.hasSuffix("/") ? path + name : path + "/" + name }
        guard fileExists(file("config.json")) else {
            throw .data(path, "no config.json: not a Hugging Face model folder")
        }
        let c = try JSONObject(try JSON.parse(file: file("config.json")), what: file("config.json"))
        let arch = c.fields["architectures"]?.array?.first?.string ?? ""
        let modelType = try c.string("model_type")
        guard modelType == "bert" || (modelType == nil && arch.hasPrefix("Bert")) else {
            throw .data(file("config.json"), "model_type \"\(modelType ?? "?")\" (\(arch)) is not supported: EdgeBERT runs BERT models only")
        }
        if let pe = try c.string("position_embedding_type"), pe != "absolute" {
            throw .data(file("config.json"), "position_embedding_type \"\(pe)\" is not supported (absolute only)")
        }
        func need(_ key: String) throws(EdgeBERTError) -> Int {
            guard let v = try c.int(key) else { throw .data(file("config.json"), "missing \(key)") }
            return v
        }
        let actName = try c.string("hidden_act") ?? "gelu"
        guard let activation = Activation(huggingFace: actName) else {
            throw .data(file("config.json"), "hidden_act \"\(actName)\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)")
        }

        guard fileExists(file("vocab.txt")) else { throw .data(path, "no vocab.txt: the WordPiece vocabulary is needed") }
        let vocab = try readVocabulary(file("vocab.txt"))
        self.vocab = vocab

        func optionalObject(_ name: String) throws(EdgeBERTError) -> JSONObject {
            guard fileExists(file(name)) else { return try JSONObject(.object([:]), what: file(name)) }
            return try JSONObject(try JSON.parse(file: file(name)), what: file(name))
        }
        let tok = try optionalObject("tokenizer_config.json")
        let st = try optionalObject("sentence_bert_config.json")
        var pooling = Pooling.mean
        var normalize = true
        if fileExists(file("modules.json")) {
            guard let modules = try JSON.parse(file: file("modules.json")).array else {
                throw .data(file("modules.json"), "expected a JSON array of modules")
            }
            let types = modules.map { ($0["type"]?.string ?? "", $0["path"]?.string) }
            normalize = types.contains { $0.0.hasSuffix("Normalize") }
            if let dir = types.first(where: { $0.0.hasSuffix("Pooling") })?.1 {
                // A module's folder must lie inside the model folder: no absolute paths, no "..".
                guard !dir.hasPrefix("/"), !dir.split(separator: "/").contains("..") else {
                    throw .data(file("modules.json"), "module path \"\(dir)\" leaves the model folder")
                }
                let poolPath = file(dir + "/config.json")
                if let real = realPath(poolPath), let root = realPath(path), !real.hasPrefix(root + "/") {
                    throw .data(file("modules.json"), "module path \"\(dir)\" leads outside the model folder (through a symlink)")
                }
                if fileExists(poolPath) {
                    let pj = try JSONObject(try JSON.parse(file: poolPath), what: poolPath)
                    let mode = try pj.string("pooling_mode")
                    if try pj.bool("pooling_mode_cls_token") == true || mode == "cls" { pooling = .cls }
                    else if try pj.bool("pooling_mode_max_tokens") == true || mode == "max" { pooling = .max }
                    else if try pj.bool("pooling_mode_mean_sqrt_len_tokens") == true || mode == "mean_sqrt_len_tokens" { pooling = .meanSqrtLen }
                    else if try pj.bool("pooling_mode_mean_tokens") == true || mode == "mean" || mode == nil { pooling = .mean }
                    else { throw .data(poolPath, "pooling mode \(mode ?? "?") is not supported (cls, mean, max, mean_sqrt_len_tokens)") }
                }
            }
        }

        let special = try specialTokens(vocab: vocab, tokenizerConfig: tok, vocabFile: file("vocab.txt"))
        let maxPositions = try need("max_position_embeddings")
        var maxSeq = maxPositions
        if let m = try st.int("max_seq_length") { maxSeq = min(m, maxPositions) }
        else if let m = try tok.double("model_max_length"), m > 0, m < Double(maxPositions) { maxSeq = Int(m) }

        config = ModelConfig(
            vocabSize: try need("vocab_size"), hidden: try need("hidden_size"),
            layers: try need("num_hidden_layers"), heads: try need("num_attention_heads"),
            intermediate: try need("intermediate_size"), maxPositions: maxPositions,
            typeVocabSize: try c.int("type_vocab_size") ?? 2, layerNormEps: Float(try c.double("layer_norm_eps") ?? 1e-12),
            activation: activation,
            tokenizer: TokenizerOptions(lowercase: try tok.bool("do_lower_case") ?? true, stripAccents: try tok.bool("strip_accents"),
                                        splitChinese: try tok.bool("tokenize_chinese_chars") ?? true),
            pooling: pooling, normalize: normalize, maxSequenceLength: maxSeq, special: special)
        try config.validate(file("config.json"))
        guard vocab.count == config.vocabSize else {
            throw .data(file("vocab.txt"), "\(vocab.count) tokens, config.json says vocab_size \(config.vocabSize)")
        }
    }

    /// The weights file: model.safetensors.
    func openWeights() throws(EdgeBERTError) -> SafetensorsFile {
        let p = path.hasSuffix("/") ? path + "model.safetensors" : path + "/model.safetensors"
        guard fileExists(p) else { throw .data(path, "no model.safetensors (pytorch_model.bin is not read: convert it to safetensors first)") }
        return try SafetensorsFile(path: p)
    }
}

/// The special tokens' ids in `vocab`: the tokens a tokenizer_config.json names (`cls_token`,
/// ...), else BERT's `[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`, `[MASK]`; all but [MASK] must be there.
func specialTokens(vocab: [String], tokenizerConfig tok: JSONObject, vocabFile: String) throws(EdgeBERTError) -> SpecialTokens {
    let index = Dictionary(vocab.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    func id(_ key: String, _ fallback: String) throws(EdgeBERTError) -> Int {
        let t = try tok.string(key) ?? fallback
        guard let i = index[t] else { throw .data(vocabFile, "special token \(t) is not in the vocabulary") }
        return i
    }
    return SpecialTokens(cls: try id("cls_token", "[CLS]"), sep: try id("sep_token", "[SEP]"), pad: try id("pad_token", "[PAD]"),
                         unk: try id("unk_token", "[UNK]"), mask: index[try tok.string("mask_token") ?? "[MASK]"] ?? 0)
}
