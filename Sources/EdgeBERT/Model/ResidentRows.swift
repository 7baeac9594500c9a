#if canImport(Glibc)
import Glibc
#endif

/// Keeps the rows of a large, randomly read table (the word embeddings) from piling up in the
/// resident set: counts the distinct fault-around windows the rows read so far lie in and, past a
/// budget, hands them all back to the kernel (MADV_DONTNEED; they stay in the page cache, so a
/// later use is a minor fault). Embedding a long file then costs the budget, not the whole table.
/// The bitmap is made once, at load.
final class ResidentRows {
    let file: MappedFile
    let offset: Int          // the table's bytes in the file
    let length: Int
    let rowBytes: Int
    let budget: Int          // pages
    private let pageShift: Int
    private let bits: UnsafeMutablePointer<UInt64>
    private let words: Int
    /// Windows marked since the last release.
    private(set) var touched = 0

    init(file: MappedFile, offset: Int, length: Int, rowBytes: Int, budgetBytes: Int = 1 << 20) {
        self.file = file
        self.offset = offset
        self.length = length
        self.rowBytes = rowBytes
        // The unit is the kernel's fault-around window (64 KiB by default), not the page: a fault
        // on a cached file page maps its neighbours in that window too, MADV_RANDOM or not.
        let window = max(Int(sysconf(Int32(_SC_PAGESIZE))), 1 << 16)
        pageShift = window.trailingZeroBitCount
        budget = max(1, budgetBytes / window)
        words = ((offset + length) >> pageShift) / 64 + 1
        bits = .allocate(capacity: words)
        bits.initialize(repeating: 0, count: words)
    }

    deinit { bits.deallocate() }

    /// Call before reading row `row` (rows read earlier may be released here: they are copied out
    /// by then).
    @inline(__always)
    func use(row: Int) {
        if mark(row) && touched > budget {
            file.release(offset: offset, count: length)
            bits.update(repeating: 0, count: words)
            touched = 0
            _ = mark(row)
        }
    }

    /// Marks the windows of `row`; true when one was new.
    @inline(__always)
    private func mark(_ row: Int) -> Bool {
        let first = (offset + row * rowBytes) >> pageShift, last = (offset + (row + 1) * rowBytes - 1) >> pageShift
        var new = false
        for p in first...last {
            let mask = UInt64(1) << UInt64(p & 63)
            if bits[p >> 6] & mask == 0 {
                bits[p >> 6] |= mask
                touched += 1
                new = true
            }
        }
        return new
    }
}
