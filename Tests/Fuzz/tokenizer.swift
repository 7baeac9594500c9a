// libFuzzer harness `tokenizer`: WordPieceTokenizer.encode (Sources/EdgeBERT/Tokenizer/) with
// Tests/Fixtures/tokenizer/vocab-uncased.txt (path in $EDGEBERT_FUZZ_VOCAB, loaded once), lowercase
// on and off, CJK split on. Inputs that are not valid UTF-8 are skipped. Checks: [CLS] first, [SEP]
// last, at most maxTokens ids, every id in the vocabulary, a shorter limit gives a prefix.
#if canImport(Glibc)
import Glibc
#endif

func loadTokenizers() -> [WordPieceTokenizer] {
    let path = getenv("EDGEBERT_FUZZ_VOCAB").map { String(cString: $0) } ?? "Tests/Fixtures/tokenizer/vocab-uncased.txt"
    guard let bytes = try? readWholeFile(path) else { fatalError("cannot read the vocabulary \(path)") }
    var v = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    while v.last == "" { v.removeLast() }
    let index = Dictionary(v.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    let special = SpecialTokens(cls: index["[CLS]"]!, sep: index["[SEP]"]!, pad: index["[PAD]"]!,
                                unk: index["[UNK]"]!, mask: index["[MASK]"] ?? 0)
    return [true, false].map {
        WordPieceTokenizer(vocab: v, options: TokenizerOptions(lowercase: $0, stripAccents: nil, splitChinese: true), special: special)
    }
}

nonisolated(unsafe) let tokenizers = loadTokenizers()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let text = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self) else { return -1 }
    for t in tokenizers {
        let ids = t.encode(text, maxTokens: 512)
        precondition(ids.count >= 2 && ids.count <= 512)
        precondition(ids.first == Int32(t.special.cls) && ids.last == Int32(t.special.sep))
        precondition(ids.allSatisfy { $0 >= 0 && Int($0) < t.vocab.count })
        let short = t.encode(text, maxTokens: 5)
        precondition(short.count <= 5 && short.last == Int32(t.special.sep))
        precondition(Array(short.dropLast()) == Array(ids.prefix(short.count - 1)), "truncation is not a prefix")
    }
    return 0
}
