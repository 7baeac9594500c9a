#if canImport(Glibc)
import Glibc
#endif
import EdgeBERT

/// Where results go: stdout through a buffer, or a file written atomically (-o FILE), so a
/// failure part way never leaves a half-written file.
final class Output {
    nonisolated(unsafe) static var stdoutBuffer: [UInt8] = []
    private let file: AtomicFileWriter?
    private var buffer: [UInt8] = []

    init(path: String?) throws(EdgeBERTError) {
        file = try path.map { (p: String) throws(EdgeBERTError) in try AtomicFileWriter(path: p) }
    }

    func write(_ s: String) throws(EdgeBERTError) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count > 1 << 16 { try drain() }
    }

    func write(bytes: [UInt8]) throws(EdgeBERTError) {
        buffer.append(contentsOf: bytes)
        if buffer.count > 1 << 16 { try drain() }
    }

    /// Raw little-endian float32.
    func write(floats: [Float]) throws(EdgeBERTError) {
        floats.withUnsafeBytes { buffer.append(contentsOf: $0) }
        if buffer.count > 1 << 16 { try drain() }
    }

    private func drain() throws(EdgeBERTError) {
        if let file {
            try file.append(buffer)
        } else {
            Output.stdoutBuffer.append(contentsOf: buffer)
            Output.flushStdout()
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Everything written; for a file, fsync and rename into place.
    func finish() throws(EdgeBERTError) {
        try drain()
        try file?.commit()
    }

    static func flushStdout() {
        var off = 0
        while off < stdoutBuffer.count {
            let n = stdoutBuffer.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { exit(0) }
                break
            }
            off += n
        }
        stdoutBuffer.removeAll(keepingCapacity: true)
    }
}

/// Writes `print`-style text through the same stdout buffer.
func say(_ s: String) {
    Output.stdoutBuffer.append(contentsOf: s.utf8)
    Output.stdoutBuffer.append(0x0A)
    if Output.stdoutBuffer.count > 1 << 16 { Output.flushStdout() }
}

/// Shortest round-trip text of a float (valid JSON: non-finite values become null).
func jsonNumber(_ f: Float) -> String { f.isFinite ? "\(f)" : "null" }

func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 || u.value == 0x7F {
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}

/// The .npy header for a little-endian float32 array of `shape`, padded to 64 bytes.
func npyHeader(shape: [Int]) -> [UInt8] {
    let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
    var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
    let base = 10 + dict.utf8.count + 1
    dict += String(repeating: " ", count: (64 - base % 64) % 64) + "\n"
    var h: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let len = UInt16(dict.utf8.count)
    h += [UInt8(len & 0xFF), UInt8(len >> 8)]
    h += Array(dict.utf8)
    return h
}
