/// BasicTokenizer switches, from the model's tokenizer_config.json.
public struct TokenizerOptions: Equatable, Sendable {
    /// Lowercase the text (`do_lower_case`).
    public var lowercase: Bool
    /// nil: strip accents exactly when lowercasing (transformers' default).
    public var stripAccents: Bool?
    /// Put spaces around CJK ideographs (`tokenize_chinese_chars`).
    public var splitChinese: Bool

    /// The switches as given.
    public init(lowercase: Bool, stripAccents: Bool?, splitChinese: Bool) {
        self.lowercase = lowercase
        self.stripAccents = stripAccents
        self.splitChinese = splitChinese
    }

    var stripsAccents: Bool { stripAccents ?? lowercase }
}

/// Ids of the special tokens in the vocabulary.
public struct SpecialTokens: Equatable, Sendable {
    /// [CLS], [SEP], [PAD], [UNK], [MASK] (the mask id may be 0 when the vocabulary has none).
    public var cls: Int, sep: Int, pad: Int, unk: Int, mask: Int

    /// The ids as given.
    public init(cls: Int, sep: Int, pad: Int, unk: Int, mask: Int) {
        self.cls = cls
        self.sep = sep
        self.pad = pad
        self.unk = unk
        self.mask = mask
    }
}
