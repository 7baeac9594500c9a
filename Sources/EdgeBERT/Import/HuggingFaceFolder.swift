/// A Hugging Face BERT checkpoint folder: config.json, vocab.txt, model.safetensors, and the
/// sentence-transformers files that set pooling, normalisation and the max sequence length.
public struct HuggingFaceFolder {
    struct BertConfigJSON: Decodable {
        var model_type: String?
        var architectures: [String]?
        var vocab_size: Int?
        var hidden_size: Int?
        var num_hidden_layers: Int?
        var num_attention_heads: Int?
        var intermediate_size: Int?
        var max_position_embeddings: Int?
        var type_vocab_size: Int?
        var layer_norm_eps: Double?
        var hidden_act: String?
        var position_embedding_type: String?
    }
    struct TokenizerConfigJSON: Decodable {
        var do_lower_case: Bool?
        var strip_accents: Bool?
        var tokenize_chinese_chars: Bool?
        var model_max_length: Double?
        var cls_token: String?
        var sep_token: String?
        var pad_token: String?
        var unk_token: String?
        var mask_token: String?
    }
    struct SentenceBertJSON: Decodable {
        var max_seq_length: Int?
        var do_lower_case: Bool?
    }
    struct ModuleJSON: Decodable {
        var type: String?
        var path: String?
    }
    struct PoolingJSON: Decodable {
        var pooling_mode_cls_token: Bool?
        var pooling_mode_mean_tokens: Bool?
        var pooling_mode_max_tokens: Bool?
        var pooling_mode_mean_sqrt_len_tokens: Bool?
        var pooling_mode: String?
    }

    public let path: String
    public let config: ModelConfig
    public let vocab: [String]

    public init(path: String) throws(EdgeBERTError) {
        self.path = path
        func file(_ name: String) -> String { path.hasSuffix("/") ? path + name : path + "/" + name }
        guard fileExists(file("config.json")) else {
            throw .data(path, "no config.json: not a Hugging Face model folder")
        }
        let c = try decodeJSON(BertConfigJSON.self, path: file("config.json"))
        let arch = c.architectures?.first ?? ""
        guard c.model_type == "bert" || (c.model_type == nil && arch.hasPrefix("Bert")) else {
            throw .data(file("config.json"), "model_type \"\(c.model_type ?? "?")\" (\(arch)) is not supported: EdgeBERT runs BERT models only")
        }
        if let pe = c.position_embedding_type, pe != "absolute" {
            throw .data(file("config.json"), "position_embedding_type \"\(pe)\" is not supported (absolute only)")
        }
        func need(_ v: Int?, _ key: String) throws(EdgeBERTError) -> Int {
            guard let v else { throw .data(file("config.json"), "missing \(key)") }
            return v
        }
        let actName = c.hidden_act ?? "gelu"
        guard let activation = Activation(huggingFace: actName) else {
            throw .data(file("config.json"), "hidden_act \"\(actName)\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)")
        }

        guard fileExists(file("vocab.txt")) else { throw .data(path, "no vocab.txt: the WordPiece vocabulary is needed") }
        let vocabBytes = try readWholeFile(file("vocab.txt"))
        var vocab = vocabBytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> String in
            var l = line[...]
            if l.last == 0x0D { l = l.dropLast() }
            return String(decoding: l, as: UTF8.self)
        }
        if vocab.last == "" { vocab.removeLast() }
        self.vocab = vocab

        var tok = TokenizerConfigJSON()
        if fileExists(file("tokenizer_config.json")) {
            tok = try decodeJSON(TokenizerConfigJSON.self, path: file("tokenizer_config.json"))
        }
        var st = SentenceBertJSON()
        if fileExists(file("sentence_bert_config.json")) {
            st = try decodeJSON(SentenceBertJSON.self, path: file("sentence_bert_config.json"))
        }
        var pooling = Pooling.mean
        var normalize = true
        if fileExists(file("modules.json")) {
            let modules = try decodeJSON([ModuleJSON].self, path: file("modules.json"))
            normalize = modules.contains { $0.type?.hasSuffix("Normalize") ?? false }
            if let p = modules.first(where: { $0.type?.hasSuffix("Pooling") ?? false }), let dir = p.path {
                let poolPath = file(dir + "/config.json")
                if fileExists(poolPath) {
                    let pj = try decodeJSON(PoolingJSON.self, path: poolPath)
                    if pj.pooling_mode_cls_token == true || pj.pooling_mode == "cls" { pooling = .cls }
                    else if pj.pooling_mode_max_tokens == true || pj.pooling_mode == "max" { pooling = .max }
                    else if pj.pooling_mode_mean_sqrt_len_tokens == true || pj.pooling_mode == "mean_sqrt_len_tokens" { pooling = .meanSqrtLen }
                    else { pooling = .mean }
                }
            }
        }

        let vocabIndex = Dictionary(vocab.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        func id(_ token: String?, _ fallback: String) throws(EdgeBERTError) -> Int {
            let t = token ?? fallback
            guard let i = vocabIndex[t] else { throw .data(file("vocab.txt"), "special token \(t) is not in the vocabulary") }
            return i
        }
        let special = SpecialTokens(cls: try id(tok.cls_token, "[CLS]"), sep: try id(tok.sep_token, "[SEP]"),
                                    pad: try id(tok.pad_token, "[PAD]"), unk: try id(tok.unk_token, "[UNK]"),
                                    mask: vocabIndex[tok.mask_token ?? "[MASK]"] ?? 0)
        let maxPositions = try need(c.max_position_embeddings, "max_position_embeddings")
        var maxSeq = maxPositions
        if let m = st.max_seq_length { maxSeq = min(m, maxPositions) }
        else if let m = tok.model_max_length, m > 0, m < Double(maxPositions) { maxSeq = Int(m) }

        config = ModelConfig(
            vocabSize: try need(c.vocab_size, "vocab_size"), hidden: try need(c.hidden_size, "hidden_size"),
            layers: try need(c.num_hidden_layers, "num_hidden_layers"),
            heads: try need(c.num_attention_heads, "num_attention_heads"),
            intermediate: try need(c.intermediate_size, "intermediate_size"), maxPositions: maxPositions,
            typeVocabSize: c.type_vocab_size ?? 2, layerNormEps: Float(c.layer_norm_eps ?? 1e-12),
            activation: activation,
            tokenizer: TokenizerOptions(lowercase: tok.do_lower_case ?? true, stripAccents: tok.strip_accents,
                                        splitChinese: tok.tokenize_chinese_chars ?? true),
            pooling: pooling, normalize: normalize, maxSequenceLength: maxSeq, special: special)
        try config.validate(file("config.json"))
        guard vocab.count == config.vocabSize else {
            throw .data(file("vocab.txt"), "\(vocab.count) tokens, config.json says vocab_size \(config.vocabSize)")
        }
    }

    /// The weights file: model.safetensors.
    public func openWeights() throws(EdgeBERTError) -> SafetensorsFile {
        let p = path.hasSuffix("/") ? path + "model.safetensors" : path + "/model.safetensors"
        guard fileExists(p) else { throw .data(path, "no model.safetensors (pytorch_model.bin is not read: convert it to safetensors first)") }
        return try SafetensorsFile(path: p)
    }
}
