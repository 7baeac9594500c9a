/// Lookups into the generated tables: character classes and per-character mappings of Hugging
/// Face's BertNormalizer / BertPreTokenizer. ASCII is answered without a search.
enum UnicodeClasses {
    @inline(__always)
    static func inRanges(_ table: [UInt32], _ c: UInt32) -> Bool {
        // table: inclusive pairs, sorted. Binary search over pairs.
        var lo = 0, hi = table.count / 2
        while lo < hi {
            let mid = (lo + hi) >> 1
            if c > table[2 * mid + 1] { lo = mid + 1 } else { hi = mid }
        }
        return lo < table.count / 2 && c >= table[2 * lo]
    }

    /// clean_text: 0 keep, 1 drop, 2 becomes a space.
    @inline(__always)
    static func cleanAction(_ c: UInt32) -> UInt8 {
        if c < 0x80 {
            if c == 9 || c == 10 || c == 13 { return 2 }
            if c < 0x20 || c == 0x7F { return 1 }
            return 0
        }
        if inRanges(UnicodeTables.removed, c) { return 1 }
        if inRanges(UnicodeTables.cleanSpaces, c) { return 2 }
        return 0
    }

    @inline(__always)
    static func isChinese(_ c: UInt32) -> Bool { c >= 0x3400 && inRanges(UnicodeTables.chinese, c) }

    @inline(__always)
    static func isWhitespace(_ c: UInt32) -> Bool {
        if c < 0x80 { return c == 0x20 || (c >= 9 && c <= 13) }
        return inRanges(UnicodeTables.whitespace, c)
    }

    @inline(__always)
    static func isPunctuation(_ c: UInt32) -> Bool {
        if c < 0x80 { return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126) }
        return inRanges(UnicodeTables.punctuation, c)
    }

    /// The replacement of `c` in a generated mapping (keys, offsets, values): the range of
    /// `values` it maps to, or nil when `c` maps to itself.
    @inline(__always)
    static func mapping(_ keys: [UInt32], _ offsets: [UInt16], _ c: UInt32) -> Range<Int>? {
        let k = find(keys, c)
        return k < 0 ? nil : Int(offsets[k])..<Int(offsets[k + 1])
    }

    /// Index of `c` in a sorted key table, or -1.
    @inline(__always)
    static func find(_ keys: [UInt32], _ c: UInt32) -> Int {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if keys[mid] < c { lo = mid + 1 } else { hi = mid }
        }
        return lo < keys.count && keys[lo] == c ? lo : -1
    }
}
