#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Float tensors under Hugging Face BERT parameter names, wherever they are read from: a
/// safetensors file, or an ONNX graph mapped by `OnnxBert`. The converter reads only this.
protocol CheckpointTensors: AnyObject {
    /// The weights file, for messages.
    var path: String { get }
    /// Bytes of the weights file(s): the converter's memory estimate counts them.
    var fileSize: Int { get }
    /// Every float tensor and its shape, sorted by name.
    var floatTensorShapes: [(name: String, shape: [Int])] { get }
    /// True when the checkpoint holds a tensor of that name.
    func has(_ name: String) -> Bool
    /// The tensor as fp32 in Hugging Face's layout.
    func floats(_ name: String) throws(EdgeBERTError) -> (shape: [Int], values: [Float])
    /// The first element that is not finite or exceeds `limit` in magnitude, as (index, value).
    func firstImplausibleValue(_ name: String, limit: Float) throws(EdgeBERTError) -> (Int, Float)?
}

extension SafetensorsFile: CheckpointTensors {
    var floatTensorShapes: [(name: String, shape: [Int])] {
        tensors.keys.sorted().filter { Self.isFloat(tensors[$0]!.dtype) }.map { ($0, tensors[$0]!.shape) }
    }

    func has(_ name: String) -> Bool { tensors[name] != nil }
}

/// What `quantize` converts: a Hugging Face folder, or a float ONNX export of BERT (a `.onnx` file)
/// with a WordPiece vocabulary. Both give a config, a vocabulary and tensors under the same names.
struct Checkpoint {
    /// The folder or the .onnx file.
    let path: String
    private(set) var config: ModelConfig
    let vocab: [String]
    /// Files of the checkpoint that an output must never replace (a folder: everything in it).
    let folder: String?
    let files: [String]
    private let tensors: () throws(EdgeBERTError) -> any CheckpointTensors

    /// The longest input an ONNX import defaults to: ONNX files do not record it, and
    /// sentence-transformers exports (paraphrase-MiniLM and kin) use 128.
    static let onnxMaxSequenceLength = 128

    /// Opens `path`: an `.onnx` file (vocabulary from `vocabPath`, else vocab.txt beside it), else
    /// a Hugging Face folder. `maxSequenceLength` overrides the model's own when given.
    static func open(_ path: String, vocabPath: String? = nil, maxSequenceLength: Int? = nil) throws(EdgeBERTError) -> Checkpoint {
        var st = stat()
        let isFile = stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        if isFile && path.hasSuffix(".onnx") {
            return try onnx(path, vocabPath: vocabPath, maxSequenceLength: maxSequenceLength)
        }
        if isFile {
            throw .usage(path, "is a file: quantize reads a Hugging Face model folder or a float ONNX export (a .onnx file)")
        }
        if let vocabPath { throw .usage("--vocab", "\(vocabPath): a Hugging Face folder's own vocab.txt is used (--vocab is for ONNX files)") }
        var checkpoint = Checkpoint(try HuggingFaceFolder(path: path))
        if let m = maxSequenceLength {
            checkpoint.config.maxSequenceLength = m
            try checkpoint.config.validate(path)
        }
        return checkpoint
    }

    /// A Hugging Face folder already read.
    init(_ folder: HuggingFaceFolder) {
        self.init(path: folder.path, config: folder.config, vocab: folder.vocab, folder: folder.path, files: [],
                  tensors: { () throws(EdgeBERTError) in try folder.openWeights() })
    }

    private init(path: String, config: ModelConfig, vocab: [String], folder: String?, files: [String],
                 tensors: @escaping () throws(EdgeBERTError) -> any CheckpointTensors) {
        self.path = path
        self.config = config
        self.vocab = vocab
        self.folder = folder
        self.files = files
        self.tensors = tensors
    }

    private static func onnx(_ path: String, vocabPath: String?, maxSequenceLength: Int?) throws(EdgeBERTError) -> Checkpoint {
        let dir = path.lastIndex(of: "/").map { String(path[...$0]) } ?? ""
        let vocabFile = vocabPath ?? dir + "vocab.txt"
        guard vocabPath != nil || fileExists(vocabFile) else {
            throw .data(path, "the export has no vocabulary: pass --vocab FILE (the WordPiece vocab.txt the model was trained with)")
        }
        let bert = try OnnxBert(model: try OnnxModel(path: path))
        let vocab = try readVocabulary(vocabFile)
        guard vocab.count == bert.vocabSize else {
            throw .data(vocabFile, "\(vocab.count) tokens, the model's word table has \(bert.vocabSize) rows: not this model's vocabulary")
        }
        // tokenizer_config.json beside the vocabulary says how to normalise; without one, a
        // vocabulary with capitalised words is cased, else uncased (bert-base-uncased's defaults).
        let tokConfig = (vocabFile.lastIndex(of: "/").map { String(vocabFile[...$0]) } ?? "") + "tokenizer_config.json"
        let tok = fileExists(tokConfig) ? try JSONObject(try JSON.parse(file: tokConfig), what: tokConfig) : try JSONObject(.object([:]), what: tokConfig)
        let cased = vocab.contains { t in !t.hasPrefix("[") && t.utf8.contains { $0 >= 0x41 && $0 <= 0x5A } }
        let options = TokenizerOptions(lowercase: try tok.bool("do_lower_case") ?? !cased, stripAccents: try tok.bool("strip_accents"),
                                       splitChinese: try tok.bool("tokenize_chinese_chars") ?? true)
        let config = ModelConfig(
            vocabSize: bert.vocabSize, hidden: bert.hidden, layers: bert.layers, heads: bert.heads,
            intermediate: bert.intermediate, maxPositions: bert.maxPositions, typeVocabSize: bert.typeVocabSize,
            layerNormEps: bert.layerNormEps, activation: bert.activation, tokenizer: options,
            pooling: bert.pooling, normalize: bert.normalize,
            maxSequenceLength: maxSequenceLength ?? min(onnxMaxSequenceLength, bert.maxPositions),
            special: try specialTokens(vocab: vocab, tokenizerConfig: tok, vocabFile: vocabFile))
        try config.validate(path)
        return Checkpoint(path: path, config: config, vocab: vocab, folder: nil,
                          files: [path, vocabFile] + bert.model.externalFiles.keys.sorted(),
                          tensors: { () throws(EdgeBERTError) in bert })
    }

    /// The tensors, opened (a folder's model.safetensors is mapped now).
    func openTensors() throws(EdgeBERTError) -> any CheckpointTensors { try tensors() }

    /// Refuses an output that is a file of this checkpoint: converting must never destroy its source.
    func refuseOverwriting(_ outPath: String) throws(EdgeBERTError) {
        guard fileExists(outPath), let out = realPath(outPath) else { return }
        if let folder, let dir = realPath(folder), out.hasPrefix(dir.hasSuffix("/") ? dir : dir + "/") {
            throw .usage(outPath, "is a file of the checkpoint being converted (\(folder)): refusing to overwrite it (write the model elsewhere)")
        }
        if files.contains(where: { realPath($0) == out }) {
            throw .usage(outPath, "is a file of the checkpoint being converted (\(path)): refusing to overwrite it (write the model elsewhere)")
        }
    }
}

/// A WordPiece vocab.txt: one token per line ("\n", a trailing "\r" dropped), the last empty line
/// not a token.
func readVocabulary(_ path: String) throws(EdgeBERTError) -> [String] {
    let bytes = try readWholeFile(path)
    var vocab = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> String in
        var l = line[...]
        if l.last == 0x0D { l = l.dropLast() }
        return String(decoding: l, as: UTF8.self)
    }
    if vocab.last == "" { vocab.removeLast() }
    return vocab
}

extension SourceWeights {
    /// The tensors of a Hugging Face folder already read.
    init(folder: HuggingFaceFolder) throws(EdgeBERTError) {
        try self.init(folder: Checkpoint(folder))
    }
}
