#if canImport(Glibc)
import Glibc
#endif

/// One block of memory sized when a model loads, carved into every activation buffer with a bump
/// pointer. Nothing in it is freed piecemeal; embedding a text allocates nothing on the heap.
final class Arena {
    static let alignment = 64
    let capacity: Int
    let base: UnsafeMutableRawPointer
    private(set) var used = 0

    /// Allocates and zeroes `bytes`; an allocation the system refuses is an error, not a trap.
    init(bytes: Int) throws(EdgeBERTError) {
        capacity = max(bytes, Self.alignment)
        var p: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&p, Self.alignment, capacity) == 0, let p else {
            throw .data("arena", "cannot allocate \(capacity / 1_048_576) MiB for the activations (out of memory)")
        }
        base = p
        memset(base, 0, capacity)
    }

    deinit { free(base) }

    /// A buffer of `count` elements, 64-byte aligned. Sizes are planned at load: running out is a bug.
    func take<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        let bytes = roundUp(max(count, 1) * MemoryLayout<T>.stride, Self.alignment)
        precondition(used + bytes <= capacity, "arena exhausted: \(used) + \(bytes) > \(capacity)")
        let p = base + used
        used += bytes
        return p.bindMemory(to: type, capacity: count)
    }

    /// The bytes `take` would use for `count` elements of T: for planning the capacity.
    static func size<T>(_ type: T.Type, _ count: Int) -> Int {
        roundUp(max(count, 1) * MemoryLayout<T>.stride, alignment)
    }
}
