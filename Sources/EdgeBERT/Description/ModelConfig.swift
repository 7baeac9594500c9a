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
