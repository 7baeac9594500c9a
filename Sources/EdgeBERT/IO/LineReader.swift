#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One line of input: its bytes without the "\n" (and without a trailing "\r"), its 1-based
/// number, and whether it was cut at the reader's byte limit.
public struct Line: Sendable {
    /// The line's bytes, at most the reader's `maxLineBytes`.
    public var bytes: [UInt8]
    /// 1-based line number in the input.
    public var number: Int
    /// True when the line was longer than `maxLineBytes` and its tail was dropped unread.
    public var truncated: Bool

    /// A line as given (arguments standing in for lines, tests).
    public init(bytes: [UInt8], number: Int, truncated: Bool) {
        self.bytes = bytes
        self.number = number
        self.truncated = truncated
    }
}

/// Reads lines from a file descriptor in bounded memory: a fixed read buffer and at most
/// `maxLineBytes` of one line are ever held, whatever the input's length or line lengths.
///
/// A line ends at "\n" only; a trailing "\r" is dropped; every other byte is kept. A last
/// line without "\n" is still a line; an input ending in "\n" has no empty line after it.
/// `next()` blocks only when no complete line is buffered, so a co-process that writes one line
/// gets it at once; `hasBufferedLine` says whether `next()` would return without reading.
public struct LineReader {
    /// The longest line kept; the rest of a longer line is read and discarded.
    public let maxLineBytes: Int
    /// What the input is called in errors: a path, or "stdin".
    public let what: String
    private let fd: Int32
    private var buffer: [UInt8]
    private var start = 0      // first unconsumed byte in buffer
    private var end = 0        // one past the last valid byte in buffer
    private var atEOF = false
    private var lineNumber = 0
    /// Bytes of input consumed so far (line ends included): for progress against a file's size.
    public private(set) var bytesConsumed = 0

    /// `fd` stays owned by the caller. `bufferBytes` is the size of each read(2).
    public init(fd: Int32, what: String, maxLineBytes: Int = 1 << 20, bufferBytes: Int = 1 << 16) {
        precondition(maxLineBytes >= 1 && bufferBytes >= 1)
        self.fd = fd
        self.what = what
        self.maxLineBytes = maxLineBytes
        buffer = [UInt8](repeating: 0, count: bufferBytes)
    }

    /// True when a complete line (or the end of input) is already buffered.
    public var hasBufferedLine: Bool {
        atEOF || buffer[start..<end].contains(0x0A)
    }

    /// The next line, or nil at the end of the input. Throws on a read error.
    public mutating func next() throws(EdgeBERTError) -> Line? {
        var line: [UInt8] = []
        var dropped = 0            // bytes past maxLineBytes, read and not kept
        var lastDropped: UInt8 = 0
        var sawAny = false
        while true {
            if start < end {
                sawAny = true
                let newline = buffer[start..<end].firstIndex(of: 0x0A)
                let stop = newline ?? end
                let room = max(maxLineBytes - line.count, 0)
                let kept = min(stop - start, room)
                if kept > 0 { line.append(contentsOf: buffer[start..<(start + kept)]) }
                if stop - start > kept {
                    dropped += stop - start - kept
                    lastDropped = buffer[stop - 1]
                }
                let next = newline.map { $0 + 1 } ?? end
                bytesConsumed += next - start
                start = next
                if newline != nil { break }
            }
            if atEOF {
                guard sawAny else { return nil }
                break
            }
            try fill()
        }
        // A trailing "\r" is dropped. A line cut only by that "\r" (maxLineBytes bytes, then
        // "\r\n") was not truncated.
        let truncated = dropped > 0 && !(dropped == 1 && lastDropped == 0x0D)
        if dropped == 0, line.last == 0x0D { line.removeLast() }
        lineNumber += 1
        return Line(bytes: line, number: lineNumber, truncated: truncated)
    }

    /// Reads once into the free space (compacting first); sets atEOF at the end of the input.
    private mutating func fill() throws(EdgeBERTError) {
        if start == end { start = 0; end = 0 }
        if end == buffer.count, start > 0 {
            let count = end - start
            buffer.withUnsafeMutableBytes { b in
                _ = memmove(b.baseAddress!, b.baseAddress! + start, count)
            }
            start = 0
            end = count
        }
        while true {
            let n = buffer.withUnsafeMutableBytes { b in read(fd, b.baseAddress! + end, b.count - end) }
            if n < 0 {
                if errno == EINTR { continue }
                throw systemError(what, "cannot read")
            }
            if n == 0 { atEOF = true } else { end += n }
            return
        }
    }
}
