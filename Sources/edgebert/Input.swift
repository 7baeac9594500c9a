#if canImport(Glibc)
import Glibc
#endif
import EdgeBERT

/// Texts for embed / tokenize / compare: the positional arguments, else `-i FILE`, else stdin.
/// A line ends at "\n" only (a trailing "\r" is dropped); every byte else is kept. Every line is
/// checked (valid UTF-8, not empty) before any output is written.
enum Input {
    static func texts(positionals: [String], file: String?) throws(EdgeBERTError) -> [String] {
        if !positionals.isEmpty {
            if file != nil { throw .usage("-i", "give texts as arguments or with -i, not both") }
            for (i, t) in positionals.enumerated() where t.isEmpty {
                throw .data("text \(i + 1)", "empty text: nothing to embed")
            }
            return positionals
        }
        let what = file ?? "stdin"
        let bytes: [UInt8]
        if let file {
            bytes = try readAll(path: file)
        } else {
            bytes = readStdin()
        }
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard !lines.isEmpty else { throw .data(what, "no input texts") }
        var texts: [String] = []
        texts.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() {
            var l = line[...]
            if l.last == 0x0D { l = l.dropLast() }
            guard !l.isEmpty else { throw .data("\(what) line \(i + 1)", "empty text: nothing to embed") }
            guard let s = String(validating: l, as: UTF8.self) else {
                throw .data("\(what) line \(i + 1)", "invalid UTF-8")
            }
            texts.append(s)
        }
        return texts
    }

    static func readAll(path: String) throws(EdgeBERTError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .data(path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return try readFD(fd, what: path)
    }

    static func readStdin() -> [UInt8] { (try? readFD(0, what: "stdin")) ?? [] }

    static func readFD(_ fd: Int32, what: String) throws(EdgeBERTError) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .data(what, "cannot read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }
}
