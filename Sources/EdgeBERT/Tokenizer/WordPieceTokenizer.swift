/// Hugging Face's BertTokenizer (transformers 5: BertNormalizer + BertPreTokenizer + WordPiece),
/// reproduced character for character:
///   1. special tokens written in the text ([CLS], [SEP], [PAD], [UNK], [MASK]) are kept whole;
///   2. clean_text: drop NUL, U+FFFD, controls and formats; whitespace becomes a space;
///   3. handle_chinese_chars: spaces around CJK ideographs;
///   4. strip_accents (NFD, marks dropped), then lowercase, per character;
///   5. split on whitespace and around punctuation;
///   6. WordPiece: greedy longest match, "##" continuations, a word over 100 characters or with
///      an unmatched part becomes one [UNK];
///   7. [CLS] ... [SEP], truncated to the max length with [SEP] kept.
/// Scratch buffers are allocated once and grow only for a longer word than seen before: a
/// steady stream of texts allocates nothing.
public final class WordPieceTokenizer {
    /// The normalisation switches.
    public let options: TokenizerOptions
    /// Ids of the special tokens.
    public let special: SpecialTokens
    /// The vocabulary, by id.
    public let vocab: [String]
    let index: VocabIndex
    /// A longer word becomes one [UNK], as in Hugging Face.
    public static let maxCharsPerWord = 100

    // The word being built: UTF-8 bytes and the byte offset where each character starts.
    private var wordBytes: UnsafeMutablePointer<UInt8>
    private var charStart: UnsafeMutablePointer<Int32>
    private var wordCapacity = 512
    private var wordByteCount = 0
    private var wordCharCount = 0
    /// Raw-text spellings of the special tokens, matched before normalisation.
    private let specialSpellings: [(bytes: [UInt8], id: Int32)]

    /// A tokenizer over `vocab` (its index built once, here).
    public init(vocab: [String], options: TokenizerOptions, special: SpecialTokens) {
        self.vocab = vocab
        self.options = options
        self.special = special
        index = VocabIndex(vocab: vocab)
        wordBytes = .allocate(capacity: wordCapacity * 4)
        charStart = .allocate(capacity: wordCapacity + 1)
        var s: [(bytes: [UInt8], id: Int32)] = []
        for id in [special.cls, special.sep, special.pad, special.unk, special.mask] where id >= 0 && id < vocab.count {
            let t = vocab[id]
            if t.hasPrefix("[") && t.hasSuffix("]") && !s.contains(where: { $0.id == Int32(id) }) {
                s.append((Array(t.utf8), Int32(id)))
            }
        }
        specialSpellings = s
    }

    deinit {
        wordBytes.deallocate()
        charStart.deallocate()
    }

    /// Output sink: ids written into a caller's buffer, stopping when it is full.
    struct Sink {
        let ids: UnsafeMutablePointer<Int32>
        let capacity: Int
        var count = 0
        var full: Bool { count >= capacity }
        @inline(__always) mutating func push(_ id: Int32) { if count < capacity { ids[count] = id; count += 1 } }
    }

    /// Tokenises `text` into `ids` ([CLS] pieces [SEP]), truncated to `ids.count` (at least 2)
    /// tokens with [SEP] kept. Returns the count written. Allocates nothing.
    public func encode(_ text: String, into ids: UnsafeMutableBufferPointer<Int32>) -> Int {
        precondition(ids.count >= 2, "an ids buffer needs room for [CLS] and [SEP]")
        return encode(text, maxTokens: ids.count, into: ids.baseAddress!)
    }

    /// The same into `maxTokens` ids at `ids` (the runtime's arena rows).
    func encode(_ text: String, maxTokens: Int, into ids: UnsafeMutablePointer<Int32>) -> Int {
        precondition(maxTokens >= 2)
        ids[0] = Int32(special.cls)
        var sink = Sink(ids: ids + 1, capacity: maxTokens - 2)
        var t = text
        t.withUTF8 { utf8 in pieces(utf8, &sink) }
        ids[sink.count + 1] = Int32(special.sep)
        return sink.count + 2
    }

    /// The same, into a new array: for tools and tests.
    public func encode(_ text: String, maxTokens: Int) -> [Int32] {
        var out = [Int32](repeating: 0, count: maxTokens)
        let n = out.withUnsafeMutableBufferPointer { encode(text, maxTokens: maxTokens, into: $0.baseAddress!) }
        return Array(out.prefix(n))
    }

    private func pieces(_ utf8: UnsafeBufferPointer<UInt8>, _ sink: inout Sink) {
        var i = 0
        let n = utf8.count
        wordByteCount = 0
        wordCharCount = 0
        while i < n && !sink.full {
            let b0 = utf8[i]
            if b0 == 0x5B, let (len, id) = matchSpecial(utf8, at: i) {  // '['
                flush(&sink)
                sink.push(id)
                i += len
                continue
            }
            // Decode one scalar (the text is valid UTF-8: it came from a Swift String).
            var c: UInt32
            var len: Int
            if b0 < 0x80 { c = UInt32(b0); len = 1 }
            else if b0 < 0xE0 { c = UInt32(b0 & 0x1F) << 6 | UInt32(utf8[i + 1] & 0x3F); len = 2 }
            else if b0 < 0xF0 { c = UInt32(b0 & 0x0F) << 12 | UInt32(utf8[i + 1] & 0x3F) << 6 | UInt32(utf8[i + 2] & 0x3F); len = 3 }
            else { c = UInt32(b0 & 0x07) << 18 | UInt32(utf8[i + 1] & 0x3F) << 12 | UInt32(utf8[i + 2] & 0x3F) << 6 | UInt32(utf8[i + 3] & 0x3F); len = 4 }
            i += len
            switch UnicodeClasses.cleanAction(c) {
            case 1: continue
            case 2: c = 0x20
            default: break
            }
            if options.splitChinese && UnicodeClasses.isChinese(c) {
                flush(&sink)
                normalized(c, &sink)
                flush(&sink)
            } else {
                normalized(c, &sink)
            }
        }
        flush(&sink)
    }

    private func matchSpecial(_ utf8: UnsafeBufferPointer<UInt8>, at i: Int) -> (Int, Int32)? {
        for (bytes, id) in specialSpellings where utf8.count - i >= bytes.count {
            var same = true
            for k in 0..<bytes.count where utf8[i + k] != bytes[k] { same = false; break }
            if same { return (bytes.count, id) }
        }
        return nil
    }

    /// strip accents, then lowercase, then pre-tokenise each resulting character.
    @inline(__always)
    private func normalized(_ c: UInt32, _ sink: inout Sink) {
        if c < 0x80 {
            var x = c
            if options.lowercase && x >= 0x41 && x <= 0x5A { x += 32 }
            pretokenize(x, &sink)
            return
        }
        if options.stripsAccents {
            if c >= 0xAC00 && c <= 0xD7A3 {  // Hangul syllable: canonical decomposition by formula
                let s = c - 0xAC00
                lowered(0x1100 + s / 588, &sink)
                lowered(0x1161 + (s % 588) / 28, &sink)
                if s % 28 != 0 { lowered(0x11A7 + s % 28, &sink) }
                return
            }
            if let r = UnicodeClasses.mapping(UnicodeTables.stripKeys, UnicodeTables.stripOffsets, c) {
                for j in r { lowered(UnicodeTables.stripValues[j], &sink) }
                return
            }
        }
        lowered(c, &sink)
    }

    @inline(__always)
    private func lowered(_ c: UInt32, _ sink: inout Sink) {
        if options.lowercase {
            if c < 0x80 {
                pretokenize(c >= 0x41 && c <= 0x5A ? c + 32 : c, &sink)
                return
            }
            if let r = UnicodeClasses.mapping(UnicodeTables.lowerKeys, UnicodeTables.lowerOffsets, c) {
                for j in r { pretokenize(UnicodeTables.lowerValues[j], &sink) }
                return
            }
        }
        pretokenize(c, &sink)
    }

    @inline(__always)
    private func pretokenize(_ c: UInt32, _ sink: inout Sink) {
        if UnicodeClasses.isWhitespace(c) {
            flush(&sink)
        } else if UnicodeClasses.isPunctuation(c) {
            flush(&sink)
            append(c)
            flush(&sink)
        } else {
            append(c)
        }
    }

    @inline(__always)
    private func append(_ c: UInt32) {
        if wordCharCount == wordCapacity { grow() }
        charStart[wordCharCount] = Int32(wordByteCount)
        wordCharCount += 1
        let p = wordBytes + wordByteCount
        if c < 0x80 { p[0] = UInt8(c); wordByteCount += 1 }
        else if c < 0x800 { p[0] = UInt8(0xC0 | c >> 6); p[1] = UInt8(0x80 | c & 0x3F); wordByteCount += 2 }
        else if c < 0x10000 {
            p[0] = UInt8(0xE0 | c >> 12); p[1] = UInt8(0x80 | (c >> 6) & 0x3F); p[2] = UInt8(0x80 | c & 0x3F)
            wordByteCount += 3
        } else {
            p[0] = UInt8(0xF0 | c >> 18); p[1] = UInt8(0x80 | (c >> 12) & 0x3F)
            p[2] = UInt8(0x80 | (c >> 6) & 0x3F); p[3] = UInt8(0x80 | c & 0x3F)
            wordByteCount += 4
        }
    }

    private func grow() {
        let newCapacity = wordCapacity * 2
        let nb = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity * 4)
        nb.update(from: wordBytes, count: wordByteCount)
        let nc = UnsafeMutablePointer<Int32>.allocate(capacity: newCapacity + 1)
        nc.update(from: charStart, count: wordCharCount)
        wordBytes.deallocate()
        charStart.deallocate()
        wordBytes = nb
        charStart = nc
        wordCapacity = newCapacity
    }

    /// WordPiece over the word built so far, then start a new word.
    private func flush(_ sink: inout Sink) {
        let chars = wordCharCount
        guard chars > 0 else { return }
        defer { wordCharCount = 0; wordByteCount = 0 }
        if chars > Self.maxCharsPerWord {
            sink.push(Int32(special.unk))
            return
        }
        charStart[chars] = Int32(wordByteCount)
        let mark = sink.count
        var start = 0
        while start < chars {
            var end = chars
            var found: Int32 = -1
            while end > start {
                let from = Int(charStart[start]), to = Int(charStart[end])
                found = index.id(wordBytes + from, to - from, continuation: start > 0)
                if found >= 0 { break }
                end -= 1
            }
            if found < 0 {
                sink.count = mark
                sink.push(Int32(special.unk))
                return
            }
            sink.push(found)
            start = end
        }
    }
}

/// Not Sendable: the tokenizer's word buffers serve one call at a time (make one per thread).
@available(*, unavailable, message: "a WordPieceTokenizer's scratch serves one call at a time; make one per thread")
extension WordPieceTokenizer: Sendable {}
