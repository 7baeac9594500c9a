#if canImport(Glibc)
import Glibc
#endif
import EdgeBERT

/// Records on their way out: gathered in a 64 KiB buffer and written to an `OutputFile` when the
/// buffer fills, at the end of every batch when a reader may be waiting (a pipe, FIFO, socket or
/// terminal), and at `finish()`. Every write is checked: a failure is an error, never dropped.
final class RecordWriter {
    let file: OutputFile
    private var buffer: [UInt8] = []
    static let bufferBytes = 1 << 16

    init(_ file: OutputFile) {
        self.file = file
        buffer.reserveCapacity(Self.bufferBytes + 4096)
    }

    func append(_ s: String) throws(EdgeBERTError) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= Self.bufferBytes { try flush() }
    }

    func append(bytes: [UInt8]) throws(EdgeBERTError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.bufferBytes { try flush() }
    }

    /// Raw little-endian float32.
    func append(floats: UnsafeBufferPointer<Float>) throws(EdgeBERTError) {
        buffer.append(contentsOf: UnsafeRawBufferPointer(floats))
        if buffer.count >= Self.bufferBytes { try flush() }
    }

    /// A batch is complete: hand it to a waiting reader now.
    func endOfBatch() throws(EdgeBERTError) {
        if file.isInteractive { try flush() }
    }

    func flush() throws(EdgeBERTError) {
        guard !buffer.isEmpty else { return }
        try file.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Everything written; a file written through a temporary name is synced and renamed.
    func finish() throws(EdgeBERTError) {
        try flush()
        try file.commit()
    }
}

/// Standard output for every command: `say` lines and `embed`'s records share one buffer.
enum Stdout {
    nonisolated(unsafe) static let writer = RecordWriter(OutputFile.standardOutput())
    /// The first write error met by `say` (which cannot throw); reported when the command ends.
    nonisolated(unsafe) static var pendingError: EdgeBERTError?

    /// Writes what is buffered; throws the first error met since the start.
    static func flush() throws(EdgeBERTError) {
        if let e = pendingError { throw e }
        try writer.flush()
    }
}

/// Writes a line of text to standard output (buffered; errors surface at the command's end).
func say(_ s: String) {
    guard Stdout.pendingError == nil else { return }
    do throws(EdgeBERTError) { try Stdout.writer.append(s + "\n") } catch { Stdout.pendingError = error }
}

/// The .npy header for a little-endian float32 array of `shape`, padded with spaces to
/// `length` bytes (a multiple of 64, large enough for any shape: 128 holds three 20-digit sizes).
/// A fixed length lets a streamed file's header be rewritten in place once the count is known.
func npyHeader(shape: [Int], length: Int = 128) -> [UInt8] {
    let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
    var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
    let base = 10 + dict.utf8.count + 1
    precondition(base <= length, "npy header longer than its reserved length")
    dict += String(repeating: " ", count: length - base) + "\n"
    var h: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let len = UInt16(dict.utf8.count)
    h += [UInt8(len & 0xFF), UInt8(len >> 8)]
    h += Array(dict.utf8)
    return h
}
