#if canImport(Glibc)
import Glibc
#endif
import EdgeBERT

/// Where texts come from: the positional arguments, else `-i FILE`, else stdin, one per line,
/// streamed in bounded memory (LineReader). A line ends at "\n" only (a trailing "\r" is dropped);
/// every other byte is kept. Lines come as bytes: each command decides what invalid UTF-8 means.
final class TextSource {
    /// What a line is called in errors: "text" (arguments), "stdin line", "FILE line".
    let what: String
    /// The input file's size in bytes when it is a regular file (for progress), else nil.
    let size: Int?
    private var reader: LineReader?
    private var arguments: [[UInt8]]
    private var nextArgument = 0
    private var fd: Int32 = -1

    /// Longest line kept; the rest of a longer line is read and dropped (see `Line.truncated`).
    static let maxLineBytes = 1 << 20

    init(positionals: [[UInt8]], file: String?) throws(EdgeBERTError) {
        arguments = positionals
        if !positionals.isEmpty {
            if file != nil { throw .usage("-i", "give texts as arguments or with -i, not both") }
            what = "text"
            size = nil
            return
        }
        if let file {
            fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .system(file, "cannot open", errno: errno) }
            var st = stat()
            if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { close(fd); throw .data(file, "is a folder, not a file") }
            size = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : nil
            what = "\(file) line"
            reader = LineReader(fd: fd, what: file, maxLineBytes: Self.maxLineBytes)
        } else {
            what = "stdin line"
            size = nil
            reader = LineReader(fd: 0, what: "stdin", maxLineBytes: Self.maxLineBytes)
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// The next text, or nil at the end. Blocks only when nothing is buffered.
    func next() throws(EdgeBERTError) -> Line? {
        if reader == nil {
            guard nextArgument < arguments.count else { return nil }
            nextArgument += 1
            return Line(bytes: arguments[nextArgument - 1], number: nextArgument, truncated: false)
        }
        return try reader!.next()
    }

    /// True when `next()` would return without waiting for input.
    var hasBuffered: Bool { reader?.hasBufferedLine ?? true }

    /// How many texts the arguments hold; nil when reading a file or stdin.
    var argumentCount: Int? { reader == nil ? arguments.count : nil }

    /// Input bytes consumed so far (0 for arguments).
    var bytesConsumed: Int { reader?.bytesConsumed ?? 0 }

    /// The text of a line: valid UTF-8, else nil. A line cut at `maxLineBytes` may end inside a
    /// character: that partial character is dropped first.
    static func decode(_ line: Line) -> String? {
        if let s = String(validating: line.bytes, as: UTF8.self) { return s }
        guard line.truncated else { return nil }
        for cut in 1...3 where cut <= line.bytes.count {
            if let s = String(validating: line.bytes.dropLast(cut), as: UTF8.self) { return s }
        }
        return nil
    }

    /// Lines of a regular file, counted without keeping them (npy headers to a pipe need it first).
    static func countLines(path: String) throws(EdgeBERTError) -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(path, "cannot open", errno: errno) }
        defer { close(fd) }
        var r = LineReader(fd: fd, what: path, maxLineBytes: 1)
        var n = 0
        while try r.next() != nil { n += 1 }
        return n
    }
}

/// Every text at once, for commands that keep them all anyway (compare, bench --tokenizer,
/// quantize --calibration): invalid UTF-8 is an error naming the line.
enum Input {
    static func texts(positionals: [[UInt8]], file: String?) throws(EdgeBERTError) -> [String] {
        let source = try TextSource(positionals: positionals, file: file)
        var texts: [String] = []
        while let line = try source.next() {
            guard let s = TextSource.decode(line) else { throw .data("\(source.what) \(line.number)", "invalid UTF-8") }
            texts.append(s)
        }
        guard !texts.isEmpty else { throw .data(file ?? "stdin", "no input texts") }
        return texts
    }

    /// A small file read whole (/proc/self/status).
    static func readAll(path: String) throws(EdgeBERTError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(path, "cannot open", errno: errno) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(path, "cannot read", errno: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }
}
