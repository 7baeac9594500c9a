import XCTest
@testable import EdgeBERT

/// Hand-checked cases of the BertTokenizer rules, on a small vocabulary.
final class TokenizerTests: XCTestCase {
    let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello", "world", "!", ",",
                 "the", "cafe", "café", "東", "京", "a", "##b", "##c", "Hello", "'", "s", "$", "5", "##0", "ا"]
    func tokenizer(lower: Bool, strip: Bool? = nil) -> WordPieceTokenizer {
        WordPieceTokenizer(vocab: vocab, options: TokenizerOptions(lowercase: lower, stripAccents: strip, splitChinese: true),
                           special: SpecialTokens(cls: 2, sep: 3, pad: 0, unk: 1, mask: 4))
    }
    func pieces(_ t: WordPieceTokenizer, _ text: String, max: Int = 64) -> [String] {
        t.encode(text, maxTokens: max).dropFirst().dropLast().map { vocab[Int($0)] }
    }

    func testGreedyLongestMatchAndUnknownWords() {
        let t = tokenizer(lower: true)
        XCTAssertEqual(pieces(t, "unaffable"), ["un", "##aff", "##able"])
        XCTAssertEqual(pieces(t, "unaffablex"), ["[UNK]"])  // one unmatched piece: the whole word is [UNK]
        XCTAssertEqual(pieces(t, "abc"), ["a", "##b", "##c"])
        XCTAssertEqual(pieces(t, "Hello, WORLD!"), ["hello", ",", "world", "!"])
        XCTAssertEqual(pieces(t, "$50"), ["$", "5", "##0"])
        XCTAssertEqual(pieces(t, "the's"), ["the", "'", "s"])
    }

    func testCleaningWhitespaceAndControls() {
        let t = tokenizer(lower: true)
        XCTAssertEqual(pieces(t, "hello\tworld\u{00A0}the"), ["hello", "world", "the"])
        XCTAssertEqual(pieces(t, "hel\u{0000}lo\u{FFFD} wor\u{200B}ld"), ["hello", "world"])  // dropped, not split
        XCTAssertEqual(pieces(t, "\u{FEFF}hello\u{00AD}"), ["hello"])
        XCTAssertEqual(pieces(t, "   "), [])
    }

    func testAccentsCaseAndChinese() {
        XCTAssertEqual(pieces(tokenizer(lower: true), "Café CAFE\u{301}"), ["cafe", "cafe"])
        XCTAssertEqual(pieces(tokenizer(lower: false), "Hello café"), ["Hello", "café"])
        XCTAssertEqual(pieces(tokenizer(lower: true, strip: false), "CAFÉ"), ["café"])
        XCTAssertEqual(pieces(tokenizer(lower: true), "東京hello"), ["東", "京", "hello"])
        XCTAssertEqual(pieces(tokenizer(lower: true), "ا"), ["ا"])
    }

    func testSpecialTokensInTextStayWhole() {
        let t = tokenizer(lower: true)
        XCTAssertEqual(pieces(t, "hello [MASK] world[SEP]"), ["hello", "[MASK]", "world", "[SEP]"])
        XCTAssertEqual(pieces(t, "[mask]"), ["[UNK]", "[UNK]", "[UNK]"])  // only the exact spelling is special
    }

    func testLongWordsAndTruncation() {
        let t = tokenizer(lower: true)
        XCTAssertEqual(pieces(t, String(repeating: "a", count: 101)), ["[UNK]"])
        XCTAssertEqual(pieces(t, "a" + String(repeating: "b", count: 99), max: 200).count, 100)
        let ids = t.encode("hello world hello world", maxTokens: 4)
        XCTAssertEqual(ids, [2, 8, 9, 3])
    }
}
