/// Everything about a model that is not a tensor: shapes, tokenizer switches, pooling defaults.
public struct ModelConfig: Equatable, Sendable {
    /// Tokens in the vocabulary (`vocab_size`).
    public var vocabSize: Int
    /// Width of every hidden state and of the embedding (`hidden_size`).
    public var hidden: Int
    /// Encoder layers (`num_hidden_layers`).
    public var layers: Int
    /// Attention heads per layer (`num_attention_heads`).
    public var heads: Int
    /// Width of the feed-forward hidden layer (`intermediate_size`).
    public var intermediate: Int
    /// Rows of the position embedding table (`max_position_embeddings`).
    public var maxPositions: Int
    /// Rows of the token-type table (`type_vocab_size`).
    public var typeVocabSize: Int
    /// LayerNorm's epsilon (`layer_norm_eps`).
    public var layerNormEps: Float
    /// The feed-forward activation (`hidden_act`).
    public var activation: Activation
    /// How text is normalised before WordPiece.
    public var tokenizer: TokenizerOptions
    /// Default pooling (sentence-transformers' Pooling module, else mean).
    public var pooling: Pooling
    /// Default L2 normalisation (a sentence-transformers Normalize module, else on).
    public var normalize: Bool
    /// The longest input in tokens, [CLS] and [SEP] included (sentence-transformers' max_seq_length).
    public var maxSequenceLength: Int
    /// Ids of [CLS], [SEP], [PAD], [UNK], [MASK].
    public var special: SpecialTokens

    /// Width of one attention head.
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
