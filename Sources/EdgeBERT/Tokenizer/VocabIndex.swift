/// WordPiece vocabulary lookup by UTF-8 bytes, without building a String: an open-addressing
/// hash table over (is-continuation, bytes). Built once at load; lookups never allocate.
final class VocabIndex: @unchecked Sendable {
    private let blob: UnsafeMutablePointer<UInt8>      // all keys' bytes
    private let slots: UnsafeMutablePointer<Int32>     // [capacity] entry index or -1
    private let keyStart: UnsafeMutablePointer<Int32>  // [entries]
    private let keyLength: UnsafeMutablePointer<Int32>
    private let keyFlag: UnsafeMutablePointer<UInt8>   // 1: a "##" continuation piece
    private let keyId: UnsafeMutablePointer<Int32>
    private let mask: Int
    private let entryCount: Int
    private let blobCount: Int

    init(vocab: [String]) {
        var entries: [(flag: UInt8, bytes: [UInt8], id: Int32)] = []
        for (i, token) in vocab.enumerated() {
            let b = Array(token.utf8)
            entries.append((0, b, Int32(i)))
            if b.count > 2 && b[0] == 0x23 && b[1] == 0x23 { entries.append((1, Array(b[2...]), Int32(i))) }
        }
        entryCount = entries.count
        var capacity = 16
        while capacity < entries.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        blobCount = entries.reduce(0) { $0 + $1.bytes.count }
        blob = .allocate(capacity: max(1, blobCount))
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: -1, count: capacity)
        keyStart = .allocate(capacity: entryCount)
        keyLength = .allocate(capacity: entryCount)
        keyFlag = .allocate(capacity: entryCount)
        keyId = .allocate(capacity: entryCount)
        var cursor = 0
        for (e, entry) in entries.enumerated() {
            keyStart[e] = Int32(cursor)
            keyLength[e] = Int32(entry.bytes.count)
            keyFlag[e] = entry.flag
            keyId[e] = entry.id
            for b in entry.bytes { blob[cursor] = b; cursor += 1 }
            let found = entry.bytes.withUnsafeBufferPointer { lookupSlot($0.baseAddress!, $0.count, entry.flag) }
            if slots[found.slot] == -1 { slots[found.slot] = Int32(e) }  // first spelling wins
        }
    }

    deinit {
        blob.deallocate(); slots.deallocate(); keyStart.deallocate(); keyLength.deallocate()
        keyFlag.deallocate(); keyId.deallocate()
    }

    @inline(__always)
    private func hash(_ p: UnsafePointer<UInt8>, _ n: Int, _ flag: UInt8) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(flag)
        for i in 0..<n { h = (h ^ UInt64(p[i])) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inline(__always)
    private func lookupSlot(_ p: UnsafePointer<UInt8>, _ n: Int, _ flag: UInt8) -> (slot: Int, entry: Int) {
        var s = hash(p, n, flag) & mask
        while true {
            let e = Int(slots[s])
            if e < 0 { return (s, -1) }
            if keyFlag[e] == flag && Int(keyLength[e]) == n && memeq(blob + Int(keyStart[e]), p, n) { return (s, e) }
            s = (s + 1) & mask
        }
    }

    @inline(__always)
    private func memeq(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        for i in 0..<n where a[i] != b[i] { return false }
        return true
    }

    /// The id of the piece spelled by `n` bytes at `p` (a "##" piece when `continuation`), or -1.
    @inline(__always)
    func id(_ p: UnsafePointer<UInt8>, _ n: Int, continuation: Bool) -> Int32 {
        let e = lookupSlot(p, n, continuation ? 1 : 0).entry
        return e < 0 ? -1 : keyId[e]
    }
}
