#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CKernels

/// A whole file mapped read-only into memory. Pages stay clean page cache (shared, evictable),
/// never anonymous memory. Unmapped when the last reference goes.
///
/// A file truncated under the mapping would end the process with SIGBUS on the next read of a
/// vanished page. Copying the file at open is no answer on a 512 MB board (the weights would move
/// from evictable page cache to anonymous memory), so instead the mapping is registered with a
/// SIGBUS guard (ek_mapguard_add) that maps zeros over such a page and marks the file; `checkIntact`
/// reports that, and any change of size or modification time, as an error. The runtime calls it
/// after every forward pass, so a result computed from a damaged file is never returned.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened from.
    public let path: String
    /// The mapped bytes, valid for the lifetime of this object.
    public let bytes: UnsafeRawBufferPointer
    private let fd: Int32
    private let guardSlot: Int32
    private let openedSize: Int
    private let openedMtime: timespec

    /// Opens and maps a regular, non-empty file read-only, and guards the mapping against truncation.
    public init(path: String) throws(EdgeBERTError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError(path, "cannot open") }
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = systemError(path, "cannot stat"); close(fd); throw e }
        guard (st.st_mode & S_IFMT) == S_IFREG else { close(fd); throw .data(path, "not a regular file") }
        let size = Int(st.st_size)
        guard size > 0 else { close(fd); throw .data(path, "the file is empty") }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            let e = systemError(path, "cannot map")
            close(fd)
            throw e
        }
        self.fd = fd
        bytes = UnsafeRawBufferPointer(start: base, count: size)
        openedSize = size
        openedMtime = st.st_mtim
        guardSlot = ek_mapguard_add(base, size)
    }

    /// Throws when the file changed under the mapping since it was opened: truncated (a read hit
    /// a vanished page), or its size or modification time differ. One fstat: cheap.
    public func checkIntact() throws(EdgeBERTError) {
        if ek_mapguard_faulted(guardSlot) != 0 {
            throw .data(path, "the model file was truncated while in use; the results would be wrong (restart with an intact file)")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw systemError(path, "cannot stat") }
        if Int(st.st_size) != openedSize || st.st_mtim.tv_sec != openedMtime.tv_sec || st.st_mtim.tv_nsec != openedMtime.tv_nsec {
            throw .data(path, "the model file was rewritten while in use; the results would be wrong (replace model files by renaming a new file over them, then restart)")
        }
    }

    /// For a file that may only grow while in use (a search index being appended to): throws when
    /// a read hit a vanished page, or the file is now shorter than its first `length` bytes.
    /// `what` names the file in the message ("the index").
    public func checkPrefixIntact(_ length: Int, what: String) throws(EdgeBERTError) {
        var st = stat()
        if ek_mapguard_faulted(guardSlot) == 0 && fstat(fd, &st) == 0 && Int(st.st_size) >= length { return }
        throw .data(path, "\(what) was truncated while in use; the results would be wrong (reopen it)")
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
        ek_mapguard_remove(guardSlot)
        close(fd)
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }
}
