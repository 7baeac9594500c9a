/// A small JSON reader for the configuration files and the safetensors header: enough JSON for
/// them (RFC 8259, including \u escapes and surrogate pairs), without Foundation, so the binary
/// stays small on a board.
indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    var int: Int? {
        if case .number(let d) = self, d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        return nil
    }
    var double: Double? { if case .number(let d) = self { return d } else { return nil } }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    var object: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
    var isNull: Bool { self == .null }
}

/// Typed access to one JSON object's fields, with the file named in every error.
struct JSONObject {
    let fields: [String: JSONValue]
    let what: String

    init(_ value: JSONValue, what: String) throws(EdgeBERTError) {
        guard let o = value.object else { throw .data(what, "expected a JSON object") }
        fields = o
        self.what = what
    }

    /// nil when absent or null; an error when present with another type.
    func int(_ key: String) throws(EdgeBERTError) -> Int? {
        guard let v = fields[key], !v.isNull else { return nil }
        guard let i = v.int else { throw .data(what, "\(key): expected a whole number") }
        return i
    }
    func double(_ key: String) throws(EdgeBERTError) -> Double? {
        guard let v = fields[key], !v.isNull else { return nil }
        guard let d = v.double else { throw .data(what, "\(key): expected a number") }
        return d
    }
    func string(_ key: String) throws(EdgeBERTError) -> String? {
        guard let v = fields[key], !v.isNull else { return nil }
        guard let s = v.string else {
            // tokenizer_config.json may hold special tokens as {"content": "[CLS]", ...}
            if let c = v["content"]?.string { return c }
            throw .data(what, "\(key): expected a string")
        }
        return s
    }
    func bool(_ key: String) throws(EdgeBERTError) -> Bool? {
        guard let v = fields[key], !v.isNull else { return nil }
        guard let b = v.bool else { throw .data(what, "\(key): expected true or false") }
        return b
    }
}

enum JSON {
    static func parse(file path: String) throws(EdgeBERTError) -> JSONValue {
        try parse(try readWholeFile(path), what: path)
    }

    static func parse(_ bytes: [UInt8], what: String) throws(EdgeBERTError) -> JSONValue {
        var p = Parser(bytes: bytes, what: what)
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.pos == bytes.count else { throw p.fail("unexpected text after the JSON value") }
        return v
    }

    struct Parser {
        let bytes: [UInt8]
        let what: String
        var pos = 0

        func fail(_ why: String) -> EdgeBERTError { .data(what, "invalid JSON at byte \(pos): \(why)") }

        mutating func skipSpace() {
            while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
        }

        mutating func expect(_ literal: String) throws(EdgeBERTError) {
            for b in literal.utf8 {
                guard pos < bytes.count, bytes[pos] == b else { throw fail("expected \(literal)") }
                pos += 1
            }
        }

        mutating func value(depth: Int) throws(EdgeBERTError) -> JSONValue {
            guard depth < 512 else { throw fail("nested too deeply") }
            skipSpace()
            guard pos < bytes.count else { throw fail("unexpected end") }
            switch bytes[pos] {
            case UInt8(ascii: "{"):
                pos += 1
                var o: [String: JSONValue] = [:]
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(o) }
                while true {
                    skipSpace()
                    let k = try string()
                    skipSpace()
                    try expect(":")
                    o[k] = try value(depth: depth + 1)
                    skipSpace()
                    guard pos < bytes.count else { throw fail("unterminated object") }
                    if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                    if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(o) }
                    throw fail("expected , or }")
                }
            case UInt8(ascii: "["):
                pos += 1
                var a: [JSONValue] = []
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(a) }
                while true {
                    a.append(try value(depth: depth + 1))
                    skipSpace()
                    guard pos < bytes.count else { throw fail("unterminated array") }
                    if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                    if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(a) }
                    throw fail("expected , or ]")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "N"): try expect("NaN"); return .number(.nan)  // Python's json writes it
            default: return .number(try number())
            }
        }

        mutating func number() throws(EdgeBERTError) -> Double {
            let start = pos
            while pos < bytes.count, "+-0123456789.eE".utf8.contains(bytes[pos]) { pos += 1 }
            if pos == start, pos + 8 <= bytes.count, String(decoding: bytes[pos..<(pos + 8)], as: UTF8.self) == "Infinity" {
                pos += 8
                return .infinity
            }
            if pos == start + 1, bytes[start] == UInt8(ascii: "-"), pos + 8 <= bytes.count,
               String(decoding: bytes[pos..<(pos + 8)], as: UTF8.self) == "Infinity" {
                pos += 8
                return -.infinity
            }
            guard pos > start, let d = Double(String(decoding: bytes[start..<pos], as: UTF8.self)) else {
                throw fail("expected a value")
            }
            return d
        }

        mutating func hex4() throws(EdgeBERTError) -> UInt32 {
            guard pos + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[pos..<(pos + 4)], as: UTF8.self), radix: 16) else {
                throw fail("bad \\u escape")
            }
            pos += 4
            return v
        }

        mutating func string() throws(EdgeBERTError) -> String {
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a string") }
            pos += 1
            var out: [UInt8] = []
            while true {
                guard pos < bytes.count else { throw fail("unterminated string") }
                let b = bytes[pos]
                pos += 1
                if b == UInt8(ascii: "\"") { break }
                if b != UInt8(ascii: "\\") { out.append(b); continue }
                guard pos < bytes.count else { throw fail("unterminated escape") }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var c = try hex4()
                    if (0xD800...0xDBFF).contains(c), pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"),
                       bytes[pos + 1] == UInt8(ascii: "u") {
                        pos += 2
                        let low = try hex4()
                        if (0xDC00...0xDFFF).contains(low) { c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00) } else { c = 0xFFFD }
                    }
                    let scalar = Unicode.Scalar(c) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw fail("bad escape")
                }
            }
            guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
            return s
        }
    }
}
