#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CKernels

/// Reads a whole (small) file: configs, vocabularies.
func readWholeFile(_ path: String) throws(EdgeBERTError) -> [UInt8] {
    let file = try MappedFile(path: path)
    return [UInt8](file.bytes)
}

func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}

/// The identity of an existing file (device, inode), following symlinks; nil when it does not exist.
func fileIdentity(_ path: String) -> (dev: UInt64, ino: UInt64)? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return (UInt64(st.st_dev), UInt64(st.st_ino))
}

/// The canonical absolute path of an existing file or folder (symlinks resolved), else nil.
func realPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
}

/// Where output goes, written so that nothing is ever lost or half-written silently:
/// - a path that does not exist yet, or names a regular file (through symlinks): a temporary file
///   beside it (removed on SIGINT/SIGTERM/SIGHUP too), fsync, then rename over the target at
///   `commit()`; a failure or an early exit leaves the target untouched;
/// - an existing FIFO, character device or socket, and anything under /dev or /proc (such as
///   /dev/stdout): opened and written in place, never replaced;
/// - standard output (`standardOutput()`): written in place.
/// Every write is checked; a short write, ENOSPC, EIO or EPIPE is an error naming the output.
public final class OutputFile {
    /// The path as given ("stdout" for standard output).
    public let path: String
    /// True when written in place (no temporary, no rename).
    public let inPlace: Bool
    /// True when the output can be rewritten at an offset (a regular file not opened for
    /// appending): `write(_:at:)`.
    public let isSeekable: Bool
    /// The file offset where this output's first byte goes (0 but for a shared standard output).
    public let startOffset: Int
    /// True for a pipe, FIFO, socket or terminal: a reader may be waiting for each record.
    public let isInteractive: Bool
    private var fd: Int32
    private let ownsFD: Bool
    /// The file written before the rename, removed with this object (or by a signal) unless renamed.
    private var temp: TemporaryFile?
    private let finalPath: String
    /// Bytes appended so far.
    public private(set) var bytesWritten: Int = 0

    /// Opens `path` for writing as described above. `protecting` lists files that must never be
    /// overwritten (the model being read, the checkpoint being converted): naming one is an error.
    public init(path: String, protecting: [String] = []) throws(EdgeBERTError) {
        self.path = path
        guard !path.isEmpty else { throw .usage("output", "an empty path") }
        if let id = fileIdentity(path) {
            for p in protecting {
                if let pid = fileIdentity(p), pid == id {
                    throw .usage(path, "is the input \(p): refusing to overwrite it (choose another output path)")
                }
            }
        }
        var st = stat()
        let exists = stat(path, &st) == 0
        let special = path.hasPrefix("/dev/") || path.hasPrefix("/proc/")
        if exists && ((st.st_mode & S_IFMT) == S_IFDIR) { throw .data(path, "is a folder, not a file") }
        if ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"].contains(path) {
            // Our own standard output, as the shell set it up (appending, or at its offset): not reopened.
            fd = 1
            ownsFD = false
            inPlace = true
            temp = nil
            finalPath = path
        } else if special || (exists && (st.st_mode & S_IFMT) != S_IFREG) {
            // A device, FIFO or socket is written in place; a regular file under /dev or /proc
            // (a tmpfs file in /dev/shm) in place too, from its start.
            let regular = exists && (st.st_mode & S_IFMT) == S_IFREG
            fd = open(path, O_WRONLY | O_CLOEXEC | (exists ? 0 : O_CREAT) | (regular ? O_TRUNC : 0), 0o644)
            guard fd >= 0 else { throw systemError(path, "cannot open for writing") }
            ownsFD = true
            inPlace = true
            temp = nil
            finalPath = path
        } else {
            // Write beside the real file (through symlinks) so the rename stays on one file system
            // and replaces the file, not the link.
            let target = exists ? (realPath(path) ?? path) : path
            let scratch = TemporaryFile(path: target + ".tmp-\(getpid())")
            ek_cleanup_install()
            // A fresh file (never through a link, never someone else's) with the target's mode.
            unlink(scratch.path)
            fd = open(scratch.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw systemError(path, "cannot create") }
            if exists { _ = fchmod(fd, st.st_mode & 0o7777) }
            ownsFD = true
            inPlace = false
            temp = scratch
            finalPath = target
        }
        (isSeekable, isInteractive, startOffset) = Self.kind(of: fd)
    }

    /// Whether `fd` can be rewritten at an offset, whether a reader may wait on it, and its offset.
    private static func kind(of fd: Int32) -> (seekable: Bool, interactive: Bool, offset: Int) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return (false, true, 0) }
        let kind = st.st_mode & S_IFMT
        let appending = (fcntl(fd, F_GETFL) & O_APPEND) != 0  // pwrite would append, not overwrite
        let offset = kind == S_IFREG ? Int(lseek(fd, 0, SEEK_CUR)) : 0
        return (kind == S_IFREG && !appending && offset >= 0, kind == S_IFIFO || kind == S_IFSOCK || isatty(fd) != 0, max(offset, 0))
    }

    private init(standardOutput: ()) {
        path = "stdout"
        fd = 1
        ownsFD = false
        inPlace = true
        temp = nil
        finalPath = "stdout"
        (isSeekable, isInteractive, startOffset) = Self.kind(of: 1)
    }

    /// Standard output, written in place.
    public static func standardOutput() -> OutputFile { OutputFile(standardOutput: ()) }

    /// Writes all bytes, retrying short writes and EINTR; returns 0 or the errno of the failure.
    private func writeAll(_ buffer: UnsafeRawBufferPointer, at offset: Int? = nil) -> Int32 {
        var done = 0
        while done < buffer.count {
            let n = offset.map { pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t($0 + done)) }
                ?? Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if n == 0 { return EIO }
            done += n
        }
        return 0
    }

    /// Appends bytes.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(EdgeBERTError) {
        let code = writeAll(buffer)
        guard code == 0 else { throw systemError(path, "cannot write", code: code) }
        bytesWritten += buffer.count
    }

    /// Appends bytes.
    public func write(_ bytes: [UInt8]) throws(EdgeBERTError) {
        let code = bytes.withUnsafeBytes { writeAll($0) }
        guard code == 0 else { throw systemError(path, "cannot write", code: code) }
        bytesWritten += bytes.count
    }

    /// Overwrites bytes at `offset` (a seekable output only), e.g. a header whose counts are known
    /// at the end.
    public func write(_ bytes: [UInt8], at offset: Int) throws(EdgeBERTError) {
        precondition(isSeekable, "write(at:) on an output that cannot seek")
        let code = bytes.withUnsafeBytes { writeAll($0, at: offset) }
        guard code == 0 else { throw systemError(path, "cannot write", code: code) }
    }

    /// Everything is written: a replaced file is synced and renamed into place; a file written in
    /// place is synced when it is a regular file (pipes and devices have nothing to sync).
    public func commit() throws(EdgeBERTError) {
        if let tempPath = temp?.path {
            guard fsync(fd) == 0 else { throw systemError(path, "cannot sync") }
            guard close(fd) == 0 else { fd = -1; throw systemError(path, "cannot close") }
            fd = -1
            guard rename(tempPath, finalPath) == 0 else { throw systemError(path, "cannot rename into place") }
            syncDirectory(of: finalPath)
            temp?.renamed()
        } else if isSeekable && fd != 1 {
            guard fsync(fd) == 0 else { throw systemError(path, "cannot sync") }
        }
    }

    deinit {
        if ownsFD && fd >= 0 { close(fd) }
    }
}

/// fsyncs the folder holding `path`, so a rename into it survives a power cut. Best effort.
func syncDirectory(of path: String) {
    let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
    let fd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = fsync(fd)
    close(fd)
}

/// Signal handling for command-line tools: temporary files of every open `OutputFile` (and the
/// converter's scratch files) are removed when SIGINT, SIGTERM or SIGHUP ends the process, which
/// then exits with 128 + the signal (130, 143, 129).
public enum SignalCleanup {
    /// Installs the handlers (once; later calls do nothing).
    public static func install() { ek_cleanup_install() }
}

/// A scratch file that must not outlive its owner: removed when this object goes, and by the
/// signal handlers of `SignalCleanup` if the process is interrupted first.
public final class TemporaryFile {
    /// Where the scratch file is (it need not exist yet).
    public let path: String
    private var slot: Int32
    private var kept = false

    /// Registers `path` for removal; nothing is created.
    public init(path: String) {
        self.path = path
        slot = ek_cleanup_add(path)
    }

    /// The file was renamed into place: nothing is left to remove.
    func renamed() {
        kept = true
        ek_cleanup_remove(slot)
        slot = -1  // the slot may serve another file from now on
    }

    deinit {
        if !kept { unlink(path) }
        ek_cleanup_remove(slot)
    }
}
