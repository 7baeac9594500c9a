#if canImport(Glibc)
import Glibc
#endif

/// One block of memory sized when a model loads, carved into every activation buffer with a bump
/// pointer. Nothing in it is freed piecemeal; embedding a text allocates nothing on the heap.
final class Arena {
    static let alignment = 64
    let capacity: Int
    let base: UnsafeMutableRawPointer

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

    /// Bytes one buffer of `count` elements of T takes: whole 64-byte lines.
    static func size<T>(_ type: T.Type, _ count: Int) -> Int {
        roundUp(max(count, 1) * MemoryLayout<T>.stride, alignment)
    }
}

/// Lays buffers out one after another, 64-byte aligned: over an arena (`carving`), or over no
/// memory at all to count the bytes (`sizing`). One function written against it both sizes the
/// arena and lays it out, so the two cannot disagree (attention_i8.c's make_plan does the same).
struct ArenaLayout {
    private let arena: Arena?
    /// Bytes taken so far.
    private(set) var used = 0

    /// Counts bytes only; the pointers `take` returns are never to be dereferenced.
    static func sizing() -> ArenaLayout { ArenaLayout(arena: nil) }

    /// Carves buffers from `arena`, from its start.
    static func carving(_ arena: Arena) -> ArenaLayout { ArenaLayout(arena: arena) }

    private init(arena: Arena?) { self.arena = arena }

    /// The next buffer of `count` elements of T.
    mutating func take<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        let bytes = Arena.size(type, count)
        defer { used += bytes }
        guard let arena else {
            // Sizing: an address no one reads (aligned, never null), so the layout code can run unchanged.
            return UnsafeMutablePointer<T>(bitPattern: Arena.alignment + used)!
        }
        precondition(used + bytes <= arena.capacity, "arena exhausted: the layout differs from its sizing")
        return (arena.base + used).bindMemory(to: type, capacity: count)
    }
}
