/// The hidden activation of the feed-forward block.
public enum Activation: UInt32, Sendable, CustomStringConvertible {
    /// `gelu`: the exact erf form.
    case gelu = 0
    /// `gelu_new`, `gelu_pytorch_tanh`: the tanh approximation.
    case geluTanh = 1
    case relu = 2

    public init?(huggingFace name: String) {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "relu": self = .relu
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .gelu: "gelu"
        case .geluTanh: "gelu_tanh"
        case .relu: "relu"
        }
    }
}

/// How token vectors become one text vector.
public enum Pooling: UInt32, Sendable, CustomStringConvertible, CaseIterable {
    case mean = 0
    case cls = 1
    case max = 2
    /// No pooling: one vector per token.
    case none = 3
    /// sentence-transformers' `mean_sqrt_len_tokens`: the sum divided by sqrt(token count).
    case meanSqrtLen = 4

    public init?(name: String) {
        switch name {
        case "mean": self = .mean
        case "cls": self = .cls
        case "max": self = .max
        case "none": self = .none
        case "mean_sqrt_len", "mean_sqrt_len_tokens": self = .meanSqrtLen
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .mean: "mean"
        case .cls: "cls"
        case .max: "max"
        case .none: "none"
        case .meanSqrtLen: "mean_sqrt_len_tokens"
        }
    }
}

/// BasicTokenizer switches, from the model's tokenizer_config.json.
public struct TokenizerOptions: Equatable, Sendable {
    public var lowercase: Bool
    /// nil: strip accents exactly when lowercasing (transformers' default).
    public var stripAccents: Bool?
    public var splitChinese: Bool

    public init(lowercase: Bool, stripAccents: Bool?, splitChinese: Bool) {
        self.lowercase = lowercase
        self.stripAccents = stripAccents
        self.splitChinese = splitChinese
    }

    var stripsAccents: Bool { stripAccents ?? lowercase }
}

public struct SpecialTokens: Equatable, Sendable {
    public var cls: Int, sep: Int, pad: Int, unk: Int, mask: Int
}

/// Everything about a model that is not a tensor: shapes, tokenizer switches, pooling defaults.
public struct ModelConfig: Equatable, Sendable {
    public var vocabSize: Int
    public var hidden: Int
    public var layers: Int
    public var heads: Int
    public var intermediate: Int
    public var maxPositions: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var activation: Activation
    public var tokenizer: TokenizerOptions
    public var pooling: Pooling
    public var normalize: Bool
    /// The longest input in tokens, [CLS] and [SEP] included (sentence-transformers' max_seq_length).
    public var maxSequenceLength: Int
    public var special: SpecialTokens

    public var headDim: Int { hidden / heads }

    /// Checks the numbers are sane before anything is sized from them.
    func validate(_ what: String) throws(EdgeBERTError) {
        func bad(_ why: String) -> EdgeBERTError { .data(what, why) }
        guard (1...1_000_000).contains(vocabSize) else { throw bad("vocab size \(vocabSize) out of range") }
        guard (1...16384).contains(hidden) else { throw bad("hidden size \(hidden) out of range") }
        guard (1...256).contains(layers) else { throw bad("layer count \(layers) out of range") }
        guard heads >= 1, hidden % heads == 0 else { throw bad("hidden size \(hidden) is not a multiple of \(heads) heads") }
        guard (1...65536).contains(intermediate) else { throw bad("intermediate size \(intermediate) out of range") }
        guard (2...65536).contains(maxPositions) else { throw bad("max positions \(maxPositions) out of range") }
        guard (1...1024).contains(typeVocabSize) else { throw bad("token type count \(typeVocabSize) out of range") }
        guard (2...maxPositions).contains(maxSequenceLength) else {
            throw bad("max sequence length \(maxSequenceLength) outside 2...\(maxPositions)")
        }
        guard layerNormEps.isFinite, layerNormEps > 0 else { throw bad("layer-norm eps \(layerNormEps) is not positive") }
        for (name, id) in [("[CLS]", special.cls), ("[SEP]", special.sep), ("[PAD]", special.pad), ("[UNK]", special.unk)] {
            guard id >= 0, id < vocabSize else { throw bad("\(name) id \(id) outside the vocabulary") }
        }
    }
}
