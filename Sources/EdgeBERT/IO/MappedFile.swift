#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory. Pages stay clean page cache (shared, evictable),
/// never anonymous memory. Unmapped when the last reference goes.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// The mapped bytes, valid for the lifetime of this object.
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws(EdgeBERTError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError(path, "cannot open") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw systemError(path, "cannot stat") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .data(path, "not a regular file") }
        let size = Int(st.st_size)
        guard size > 0 else { throw .data(path, "the file is empty") }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw systemError(path, "cannot map")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    /// Tells the kernel that the bytes [offset, offset + count) are read at random (one embedding
    /// row per token): no read-ahead and no fault-around, so only the rows a text uses become
    /// resident. Best effort.
    public func adviseRandomAccess(offset: Int, count: Int) {
        advise(offset: offset, count: count, MADV_RANDOM)
    }

    /// Drops the pages of [offset, offset + count) from this process's resident set (they stay in
    /// the page cache; the next read maps them again, a minor fault). Read-only mapping: nothing
    /// is lost. Best effort.
    public func release(offset: Int, count: Int) {
        advise(offset: offset, count: count, MADV_DONTNEED)
    }

    /// madvise over the whole pages covering [offset, offset + count).
    private func advise(offset: Int, count: Int, _ advice: Int32) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        let end = min(bytes.count, roundUp(offset + count, page))
        guard end > start, let base = bytes.baseAddress else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, advice)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }
}
