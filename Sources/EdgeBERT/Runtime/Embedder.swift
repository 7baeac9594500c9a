#if canImport(Glibc)
import Glibc
#endif
import CKernels

/// Text in, embedding out: the public facade of the runtime.
///
///     let embedder = try Embedder(modelPath: "minilm.ebm")
///     let v = try embedder.embed("A cat sits on the mat.")   // [384], L2-normalised
///
/// Loading maps the model read-only, validates it, picks the fastest kernel path for this CPU,
/// starts the thread pool and sizes one arena for the longest input. After that, embedding a
/// text allocates nothing (the `into:` variants) besides the returned array.
///
/// An Embedder holds its scratch (arena, tokenizer buffers) and is not `Sendable`: passing one to
/// another thread or task is a compile error. Make one per thread, or share an `EmbedderPool`.
public final class Embedder {
    // Errors name the option at fault by its `Options` property ("maxLength", "threads", ...);
    // the CLI maps those names to its flags.
    /// How an Embedder runs; every field defaults to the model's choice or the best for this machine.
    public struct Options: Sendable {
        /// Longest input in tokens ([CLS] and [SEP] included); default: the model's.
        public var maxLength: Int?
        /// Worker threads, the caller included; default: every core, and never more than the
        /// cores online (more would only take turns). The pool hands work to whichever thread is
        /// running, so a busy neighbour on one core does not slow the others.
        public var threads: Int?
        /// Force a kernel path ("ref", "sse41", "avx2", "avx512vnni", "neon", ...); default: the best.
        /// The environment variable EDGEBERT_KERNEL does the same.
        public var kernel: String?
        /// Pooling; default: the model's (sentence-transformers config), else mean.
        public var pooling: Pooling?
        /// L2 normalisation; default: the model's, else on.
        public var normalize: Bool?
        /// Hidden layer to read: 0 = embeddings, L = last; negative counts from the end (-1 = last).
        public var layer: Int?
        /// Texts past the max length are cut (the default) or refused with an error.
        public var truncate: Bool = true
        /// Texts run through the encoder together by `embed(_ texts:)`, packed without padding;
        /// results are identical to one at a time.
        public var batch: Int = 1
        /// Tokens one forward pass may hold: the arena is sized for this many rows, and a batch
        /// ends early when the next text might not fit. Default: `batch` x the max length, capped
        /// at 2048 tokens (never below the max length).
        public var batchTokens: Int?
        /// Attention in int8 in the layers stored int8 (scores, softmax and context on the int8
        /// kernels); false: fp32 attention everywhere, a little slower.
        public var int8Attention: Bool = true
        /// Texts past the max length: cut (the default), or embedded as overlapping windows.
        public var long: LongTexts = .truncate
        /// With `long = .window`: tokens shared by consecutive windows; default an eighth of the
        /// max length.
        public var stride: Int?
        /// Keep the first `dims` dimensions, then re-normalise (for Matryoshka-trained models);
        /// default: all of them.
        public var dims: Int?

        /// Every option at its default.
        public init() {}
    }

    /// The model file, mapped.
    public let model: ModelFile
    /// The model's description.
    public let config: ModelConfig
    /// This Embedder's tokenizer (not Sendable: it belongs to this Embedder).
    public let tokenizer: WordPieceTokenizer
    /// The pooling in use.
    public let pooling: Pooling
    /// Whether embeddings are L2-normalised.
    public let normalize: Bool
    /// The layer read, 0...config.layers.
    public let layer: Int
    /// Longest input in tokens, [CLS] and [SEP] included.
    public let maxLength: Int
    /// Whether longer texts are cut (true) or refused.
    public let truncate: Bool
    /// The kernel path in use.
    public let kernelName: String
    /// Threads one call runs on, the caller's included (at most the cores online).
    public let threads: Int
    /// Texts per forward pass in the batch API.
    public let batch: Int
    /// Tokens per forward pass at most (the arena's row count).
    public let batchTokens: Int
    /// The default token budget cap (see `Options.batchTokens`).
    public static let defaultBatchTokens = 2048
    /// Bytes of the activation arena.
    public var arenaBytes: Int { arena.capacity }

    let arena: Arena
    let state: RunState
    let encoder: Encoder
    let pool: ThreadPool

    /// What a text past the max length becomes.
    public let long: LongTexts
    /// Tokens shared by consecutive windows (`long == .window`).
    public let stride: Int
    /// Floats per embedding: the model's hidden size, its projection's width (a model written by
    /// `edgebert pca`), or `Options.dims`.
    public let dimension: Int
    /// The model's projection after pooling, if it has one.
    let projection: Projection?
    /// True when the model carries a projection after pooling (a model written by `edgebert pca`).
    public var hasProjection: Bool { projection != nil }
    /// Scratch: one pooled vector [hidden], the windows' weighted sum [hidden], and the
    /// projected vector [projection rows].
    let pooled: UnsafeMutablePointer<Float>
    let windowSum: UnsafeMutablePointer<Float>
    let projected: UnsafeMutablePointer<Float>

    /// Sees the dense layers' inputs of every forward pass (the converter's calibration).
    var observer: ActivationObserver? {
        get { encoder.observer }
        set { encoder.observer = newValue }
    }

    /// Opens the model file and loads it (see `init(model:options:)`).
    public convenience init(modelPath: String, options: Options = Options()) throws(EdgeBERTError) {
        try self.init(model: try ModelFile(path: modelPath), options: options)
    }

    /// Loads an opened model: checks every option (an error names the option by its property name), picks the kernel path, sizes and allocates the arena (bounded by half the machine's memory), starts the thread pool.
    public init(model: ModelFile, options: Options = Options()) throws(EdgeBERTError) {
        self.model = model
        config = model.config
        let c = config
        maxLength = options.maxLength ?? c.maxSequenceLength
        guard (2...c.maxPositions).contains(maxLength) else {
            throw .usage("maxLength", "\(maxLength) is outside 2...\(c.maxPositions), the model's position count")
        }
        let requested = options.layer ?? c.layers
        guard (-(c.layers + 1)...c.layers).contains(requested) else {
            throw .usage("layer", "\(requested) is outside \(-(c.layers + 1))...\(c.layers) for a \(c.layers)-layer model")
        }
        layer = requested < 0 ? c.layers + 1 + requested : requested
        pooling = options.pooling ?? c.pooling
        // Token vectors (pooling none) come raw by default, as sentence-transformers' token_embeddings.
        normalize = options.normalize ?? (pooling == .none ? false : c.normalize)
        truncate = options.truncate
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let wanted = options.threads ?? cores
        guard (1...256).contains(wanted) else { throw .usage("threads", "\(wanted) is outside 1...256") }
        // More threads than cores only take turns on them: never more than the cores online.
        threads = max(1, min(wanted, cores))
        batch = options.batch
        guard (1...4096).contains(batch) else { throw .usage("batch", "\(batch) is outside 1...4096") }
        let budget = options.batchTokens ?? min(batch * maxLength, max(maxLength, Self.defaultBatchTokens))
        guard (1...(1 << 22)).contains(budget) else { throw .usage("batchTokens", "\(budget) is outside 1...\(1 << 22)") }
        batchTokens = max(budget, maxLength)

        var forced = options.kernel
        if forced == nil, let env = getenv("EDGEBERT_KERNEL") { forced = String(cString: env) }
        guard let kernel = ek_kernel_select(forced) else {
            let names = (0..<ek_kernel_count()).compactMap { ek_kernel_at($0) }.filter { ek_kernel_supported($0) != 0 }
                .map { String(cString: $0.pointee.name) }
            throw .usage("kernel", "\"\(forced ?? "")\" is unknown or not supported by this CPU (here: \(names.joined(separator: ", ")))")
        }
        kernelName = String(cString: kernel.pointee.name)

        let weights = try Weights(model)
        tokenizer = WordPieceTokenizer(vocab: model.vocab, options: c.tokenizer, special: c.special)
        let arenaBytes = RunState.plan(c, maxTokens: maxLength, rows: batchTokens, batch: batch, threads: threads)
        let limit = Self.arenaLimit()
        guard arenaBytes <= limit else {
            throw .usage("maxLength", "the activations of \(batchTokens) tokens need a \(arenaBytes / 1_048_576) MiB arena, "
                         + "more than half of this machine's memory (\(limit / 1_048_576) MiB): lower the max length "
                         + "or the tokens per batch")
        }
        arena = try Arena(bytes: arenaBytes)
        var layout = ArenaLayout.carving(arena)
        state = RunState(c, maxTokens: maxLength, rows: batchTokens, batch: batch, threads: threads, layout: &layout)
        pool = ThreadPool(threads: threads)
        encoder = Encoder(config: c, weights: weights, state: state, kernel: kernel, pool: pool)
        encoder.int8Attention = options.int8Attention

        long = options.long
        stride = options.stride ?? maxLength / 8
        guard (0...(maxLength - 3)).contains(stride) else {
            throw .usage("stride", "\(stride) is outside 0...\(maxLength - 3): windows of \(maxLength) tokens must move on")
        }
        projection = try Projection(model)
        let width = projection?.rows ?? c.hidden
        dimension = options.dims ?? width
        guard (1...width).contains(dimension) else { throw .usage("dims", "\(dimension) is outside 1...\(width), the model's width") }
        if pooling == .none && (long == .window || dimension != c.hidden) {
            throw .usage("pooling", "none gives token vectors: it works with neither windows, fewer dimensions nor a projection")
        }
        pooled = .allocate(capacity: 2 * c.hidden)
        windowSum = pooled + c.hidden
        projected = .allocate(capacity: width)
    }

    deinit {
        pooled.deallocate()
        projected.deallocate()
    }

    /// Half of the physical memory: the largest arena an Embedder will allocate.
    static func arenaLimit() -> Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), page = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, page > 0 else { return Int.max }
        return pages.multipliedReportingOverflow(by: page / 2).partialValue
    }

    /// Token ids the model sees for `text`: [CLS] ... [SEP], truncated to the max length.
    public func tokenize(_ text: String) -> [Int32] {
        tokenizer.encode(text, maxTokens: maxLength)
    }

    /// The full token count of `text` when it is longer than the max length (up to the model's
    /// position count), else nil: what `truncate = false` refuses.
    public func tokenCountPastMax(_ text: String) -> Int? {
        guard tokenizer.encode(text, maxTokens: maxLength).count == maxLength else { return nil }
        return fullCountPastMax(text)
    }

    /// For a text that filled the max length: its untruncated token count (up to one past the
    /// position count) when that is longer, else nil.
    private func fullCountPastMax(_ text: String) -> Int? {
        let full = tokenizer.encode(text, maxTokens: config.maxPositions + 1).count
        return full > maxLength ? full : nil
    }

    /// Tokenises `text` into the ids buffer at row `at`; returns its token count, or
    /// `Self.windowed` for a text past the max length when windows are on (nothing packed).
    private func tokenize(_ text: String, at row: Int) throws(EdgeBERTError) -> Int {
        let n = tokenizer.encode(text, maxTokens: maxLength, into: state.ids + row)
        if long == .window && n == maxLength && fullCountPastMax(text) != nil { return Self.windowed }
        try refusePastMax(text, tokens: n)
        return n
    }

    /// With truncation off, a text that filled the max length and is longer is an error.
    private func refusePastMax(_ text: String, tokens n: Int) throws(EdgeBERTError) {
        if !truncate && n == maxLength, let full = fullCountPastMax(text) {
            throw .data("text", "\(full) tokens, past the max length of \(maxLength) (truncation is off)")
        }
    }

    /// What the packers return for an item embedded as windows.
    static let windowed = -1

    /// Tokenises `texts[first...]` into the arena's rows, as many as the batch allows while the
    /// next one surely fits the token budget (a text takes at most maxLength rows; the first
    /// always fits, batchTokens >= maxLength), recording each text's token count in `tokens`.
    private func pack(_ texts: [String], from first: Int, tokens: UnsafeMutableBufferPointer<Int>?) throws(EdgeBERTError)
        -> PackedBatch {
        try pack(texts.count, from: first, tokens: tokens) { (i: Int, row: Int) throws(EdgeBERTError) in try tokenize(texts[i], at: row) }
    }

    /// The same for inputs given as texts or token ids.
    private func pack(_ inputs: [EmbedInput], from first: Int, tokens: UnsafeMutableBufferPointer<Int>?) throws(EdgeBERTError)
        -> PackedBatch {
        try pack(inputs.count, from: first, tokens: tokens) { (i: Int, row: Int) throws(EdgeBERTError) in
            switch inputs[i] {
            case .text(let t): return try tokenize(t, at: row)
            case .tokens(let ids): return try place(ids, at: row)
            }
        }
    }

    /// Packs items [first, total) while they fit; `write(i, row)` puts item i's ids at `row`.
    private func pack(_ total: Int, from first: Int, tokens: UnsafeMutableBufferPointer<Int>?,
                      write: (Int, Int) throws(EdgeBERTError) -> Int) throws(EdgeBERTError) -> PackedBatch {
        var count = 0, rows = 0
        while count < batch && first + count < total && rows + maxLength <= batchTokens {
            let n: Int
            do throws(EdgeBERTError) {
                n = try write(first + count, rows)
            } catch {
                throw .data("text \(first + count + 1)", error.why)
            }
            if n == Self.windowed { break }   // a batch of its own windows, after this one
            state.seqStart[count] = Int32(rows)
            state.seqLength[count] = Int32(n)
            tokens?[first + count] = n
            rows += n
            count += 1
        }
        return PackedBatch(ids: state.ids, starts: state.seqStart, lengths: state.seqLength, count: count, rows: rows)
    }

    /// Token ids given by the caller, at `row`: each must be in the vocabulary; [CLS] and [SEP]
    /// are added when missing, and a longer sequence is cut at the max length keeping [SEP].
    private func place(_ ids: [Int32], at row: Int) throws(EdgeBERTError) -> Int {
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
            throw .data("tokens", "token id \(bad) is outside the vocabulary (0..<\(config.vocabSize))")
        }
        let cls = Int32(config.special.cls), sep = Int32(config.special.sep)
        var body = ids[...]
        if body.first == cls { body = body.dropFirst() }
        if body.last == sep { body = body.dropLast() }
        if body.count > maxLength - 2 {
            if long == .window { return Self.windowed }
            if !truncate { throw .data("tokens", "\(body.count + 2) tokens, past the max length of \(maxLength) (truncation is off)") }
            body = body.prefix(maxLength - 2)
        }
        let dst = state.ids + row
        dst[0] = cls
        for (k, id) in body.enumerated() { dst[k + 1] = id }
        dst[body.count + 1] = sep
        return body.count + 2
    }

    /// One text as a batch of one, cut at the max length (refused past it when truncation is
    /// off): for the tools that read hidden states.
    private func single(_ text: String) throws(EdgeBERTError) -> PackedBatch {
        let n = tokenizer.encode(text, maxTokens: maxLength, into: state.ids)
        try refusePastMax(text, tokens: n)
        state.seqStart[0] = 0
        state.seqLength[0] = Int32(n)
        return PackedBatch(ids: state.ids, starts: state.seqStart, lengths: state.seqLength, count: 1, rows: n)
    }

    /// Runs the encoder on a batch and checks the model file is still the one opened (a result
    /// computed from a file truncated or rewritten under us is never returned).
    func forward(_ b: PackedBatch, each: ((Int, UnsafePointer<Float>) -> Void)? = nil) throws(EdgeBERTError) {
        if let each { encoder.forward(b, layers: layer, each: each) } else { encoder.forward(b, layers: layer) }
        try model.file.checkIntact()
    }

    /// Tokenises and runs the encoder on one text (cut at the max length); the hidden states are
    /// left in `state.x`. Returns n tokens.
    private func run(_ text: String) throws(EdgeBERTError) -> Int {
        let b = try single(text)
        try forward(b)
        return b.rows
    }

    /// Embeds `texts` in order, `batch` at a time in one forward pass each: out holds
    /// texts.count x dimension floats, tokens (if given) the token count of each text.
    /// Allocates nothing for texts within the max length. Results are identical to embedding
    /// the texts one by one.
    public func embed(_ texts: [String], into out: UnsafeMutableBufferPointer<Float>,
                      tokens: UnsafeMutableBufferPointer<Int>? = nil) throws(EdgeBERTError) {
        try embed(count: texts.count, into: out, tokens: tokens, pack: { (first: Int) throws(EdgeBERTError) in
            try pack(texts, from: first, tokens: tokens)
        }, body: { fullBody(texts[$0]) })
    }

    /// Embeds `inputs` (texts or token ids) in order, as `embed(_:into:tokens:)` does for texts.
    /// Allocates nothing beyond what the inputs hold.
    public func embed(_ inputs: [EmbedInput], into out: UnsafeMutableBufferPointer<Float>,
                      tokens: UnsafeMutableBufferPointer<Int>? = nil) throws(EdgeBERTError) {
        try embed(count: inputs.count, into: out, tokens: tokens, pack: { (first: Int) throws(EdgeBERTError) in
            try pack(inputs, from: first, tokens: tokens)
        }, body: { (i: Int) -> [Int32] in
            switch inputs[i] {
            case .text(let t): return fullBody(t)
            case .tokens(let ids): return tokenBody(ids)
            }
        })
    }

    /// `count` items, packed from item `first` on by `pack(first)`, through the encoder, pooled
    /// and finished (projection, dims, normalisation) into out [count][dimension]. An item the
    /// packer leaves out (past the max length, windows on) is embedded from `body(i)`, its
    /// tokens without [CLS]/[SEP], as windows.
    private func embed(count: Int, into out: UnsafeMutableBufferPointer<Float>, tokens: UnsafeMutableBufferPointer<Int>?,
                       pack: (Int) throws(EdgeBERTError) -> PackedBatch, body: (Int) -> [Int32]) throws(EdgeBERTError) {
        precondition(out.count >= count * dimension, "output buffer shorter than inputs x dimension")
        precondition(tokens.map { $0.count >= count } ?? true, "tokens buffer shorter than inputs")
        let H = config.hidden, D = dimension
        var first = 0
        while first < count {
            let b = try pack(first)
            if b.count == 0 {
                let n = try embedWindows(body(first), into: out.baseAddress! + first * D)
                tokens?[first] = n
                first += 1
                continue
            }
            try forward(b)
            for s in 0..<b.count {
                PoolingOps.pool(pooling, x: state.x + Int(b.starts[s]) * H, n: Int(b.lengths[s]), hidden: H, out: pooled)
                finish(pooled, into: out.baseAddress! + (first + s) * D)
            }
            first += b.count
        }
    }

    /// A pooled vector [hidden] (clobbered) to the output [dimension]: through the projection
    /// when the model has one (on the normalised vector when the model normalises, as `pca`
    /// fitted it), cut to `dimension`, then L2-normalised when normalisation is on.
    func finish(_ v: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        var src = v
        if let projection {
            if normalize { PoolingOps.normalize(v, count: config.hidden) }
            projection.apply(v, into: projected)
            src = projected
        }
        dst.update(from: src, count: dimension)
        if normalize { PoolingOps.normalize(dst, count: dimension) }
    }

    /// Embeds `text` into `out` (at least `dimension` floats), pooled and normalised as configured.
    /// For `.none` pooling, writes the first token's vector; use `tokenVectors` for all of them.
    /// Allocates nothing for a text within the max length. Returns the number of tokens the model saw.
    @discardableResult
    public func embed(_ text: String, into out: UnsafeMutableBufferPointer<Float>) throws(EdgeBERTError) -> Int {
        precondition(out.count >= dimension, "output buffer shorter than the embedding dimension")
        var n = 0
        try withUnsafeMutablePointer(to: &n) { (p: UnsafeMutablePointer<Int>) throws(EdgeBERTError) in
            let count = UnsafeMutableBufferPointer(start: p, count: 1)
            try embed(count: 1, into: out, tokens: count, pack: { (first: Int) throws(EdgeBERTError) in
                try pack(1, from: first, tokens: count) { (_: Int, row: Int) throws(EdgeBERTError) in try tokenize(text, at: row) }
            }, body: { _ in fullBody(text) })
        }
        return n
    }

    /// The embedding of `text`: [dimension] floats.
    public func embed(_ text: String) throws(EdgeBERTError) -> [Float] {
        var v = [Float](repeating: 0, count: dimension)
        try v.withUnsafeMutableBufferPointer { (b: inout UnsafeMutableBufferPointer<Float>) throws(EdgeBERTError) in
            _ = try embed(text, into: b)
        }
        return v
    }

    /// Embeddings of several texts, in order (`batch` at a time).
    public func embed(_ texts: [String]) throws(EdgeBERTError) -> [[Float]] {
        var flat = [Float](repeating: 0, count: texts.count * dimension)
        try flat.withUnsafeMutableBufferPointer { (b: inout UnsafeMutableBufferPointer<Float>) throws(EdgeBERTError) in
            try embed(texts, into: b)
        }
        return (0..<texts.count).map { Array(flat[($0 * dimension)..<(($0 + 1) * dimension)]) }
    }

    /// One vector per token ([n][dimension]), each L2-normalised when normalisation is on.
    public func tokenVectors(_ text: String) throws(EdgeBERTError) -> [[Float]] {
        let n = try run(text)
        let H = config.hidden
        var out: [[Float]] = []
        for t in 0..<n {
            var row = Array(UnsafeBufferPointer(start: state.x + t * H, count: H))
            if normalize { row.withUnsafeMutableBufferPointer { PoolingOps.normalize($0.baseAddress!, count: H) } }
            out.append(row)
        }
        return out
    }

    /// The hidden states after the embeddings and after every layer up to the one configured:
    /// [layer + 1][n * dimension], raw (no pooling, no normalisation). For compare's drift table.
    public func layerStates(_ text: String) throws(EdgeBERTError) -> [[Float]] {
        let b = try single(text)
        var out: [[Float]] = []
        let count = b.rows * config.hidden
        try forward(b) { _, x in out.append(Array(UnsafeBufferPointer(start: x, count: count))) }
        return out
    }

    /// Tokens seen and the raw hidden states (no pooling, no normalisation) for tools such as compare.
    public func hiddenStates(_ text: String) throws(EdgeBERTError) -> (tokens: Int, states: [Float]) {
        let n = try run(text)
        return (n, Array(UnsafeBufferPointer(start: state.x, count: n * config.hidden)))
    }
}

/// One input of `Embedder.embed(_:into:tokens:)`: a text, or token ids already made (e.g. by the
/// OpenAI API's token arrays). [CLS] and [SEP] are added to token ids that lack them.
public enum EmbedInput: Sendable, Equatable {
    /// A text, tokenised by the model's WordPiece tokenizer.
    case text(String)
    /// Token ids of the model's vocabulary.
    case tokens([Int32])
}

/// Not Sendable: one Embedder's scratch serves one call at a time. `EmbedderPool` is the type to share.
@available(*, unavailable, message: "an Embedder serves one call at a time; share an EmbedderPool instead")
extension Embedder: Sendable {}
