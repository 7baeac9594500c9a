#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole (small) file: configs, vocabularies.
func readWholeFile(_ path: String) throws(EdgeBERTError) -> [UInt8] {
    let file = try MappedFile(path: path)
    return [UInt8](file.bytes)
}

func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}

/// Writes a file atomically: a temporary name beside it, fsync, rename. On any failure the
/// temporary file is removed and the destination is untouched.
public final class AtomicFileWriter {
    public let path: String
    let tempPath: String
    private var fd: Int32
    private var done = false
    public private(set) var bytesWritten: Int = 0

    public init(path: String) throws(EdgeBERTError) {
        self.path = path
        tempPath = path + ".tmp-\(getpid())"
        fd = open(tempPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw systemError(path, "cannot create") }
    }

    /// Writes all bytes; returns 0 or the errno of the failure.
    private func writeAll(_ buffer: UnsafeRawBufferPointer) -> Int32 {
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += n
        }
        return 0
    }

    public func append(_ buffer: UnsafeRawBufferPointer) throws(EdgeBERTError) {
        let code = writeAll(buffer)
        guard code == 0 else { throw .data(path, "cannot write: \(errnoText(code).lowercasedFirst)") }
        bytesWritten += buffer.count
    }

    public func append(_ bytes: [UInt8]) throws(EdgeBERTError) {
        let code = bytes.withUnsafeBytes { writeAll($0) }
        guard code == 0 else { throw .data(path, "cannot write: \(errnoText(code).lowercasedFirst)") }
        bytesWritten += bytes.count
    }

    /// fsync and rename into place.
    public func commit() throws(EdgeBERTError) {
        guard fsync(fd) == 0 else { throw systemError(path, "cannot sync") }
        close(fd)
        fd = -1
        guard rename(tempPath, path) == 0 else {
            let e = systemError(path, "cannot rename into place")
            unlink(tempPath)
            throw e
        }
        done = true
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !done { unlink(tempPath) }
    }
}
