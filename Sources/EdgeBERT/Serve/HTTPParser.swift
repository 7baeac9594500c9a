/// Limits on what one HTTP request may hold; past one, the parser answers with the status a
/// client can act on (414, 431, 413, 411) and the connection closes.
public struct HTTPLimits: Sendable {
    /// Longest request line, bytes ("POST /v1/embeddings HTTP/1.1").
    public var requestLine = 8 * 1024
    /// All header lines together, bytes.
    public var headerBytes = 16 * 1024
    /// Header fields.
    public var headerCount = 64
    /// Longest body, bytes (Content-Length).
    public var body = 2 * 1024 * 1024

    /// The defaults: 8 KiB request line, 16 KiB of headers, 64 fields, 2 MiB body.
    public init() {}
}

/// One parsed request.
struct HTTPRequest {
    var method: String
    /// The path without the query string.
    var path: String
    /// HTTP/1.1 (true) or HTTP/1.0.
    var http11: Bool
    /// Header fields, names lowercased, in order.
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// The first value of a header (name in lowercase).
    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// Whether the connection stays open after the response (HTTP/1.1 unless "close"; 1.0 only
    /// with "keep-alive").
    var keepAlive: Bool {
        let c = header("connection")?.lowercased() ?? ""
        return http11 ? !c.contains("close") : c.contains("keep-alive")
    }
}

/// Why a request could not be read: the status to answer with, and a message for the client.
struct HTTPError: Error, Equatable {
    var status: Int
    var message: String
}

/// An incremental HTTP/1.1 request parser: bytes go in as they arrive (`append`), a complete
/// request comes out (`next`). Content-Length bodies only: a chunked body gets 411 (send
/// Content-Length). Lines may end in CRLF or a bare LF. Everything is bounded by `HTTPLimits`
/// before it is buffered, so a client cannot make it hold more than the limits.
struct HTTPParser {
    let limits: HTTPLimits
    private var buffer: [UInt8] = []
    /// Set once the head of the current request is parsed, until its body is complete.
    private var head: HTTPRequest?
    private var bodyLength = 0
    /// Bytes of the buffer already searched for the end of the head (a head arriving a byte at a
    /// time is searched once, not once per byte).
    private var scanned = 0

    init(limits: HTTPLimits) {
        self.limits = limits
        buffer.reserveCapacity(4096)
    }

    /// Bytes held for requests not yet complete.
    var buffered: Int { buffer.count }

    /// True when the head of a request has been read and its body is still arriving.
    var awaitingBody: Bool { head != nil }

    /// True when the request being read asked for "Expect: 100-continue" (answer it once).
    var expectsContinue: Bool { head?.header("expect")?.lowercased() == "100-continue" }

    /// True when a request has started arriving (part of its head or body is buffered).
    var inProgress: Bool { head != nil || !buffer.isEmpty }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete request, nil when more bytes are needed, or an error (the connection
    /// then answers it and closes).
    mutating func next() throws(HTTPError) -> HTTPRequest? {
        if head == nil {
            guard let end = headEnd() else {
                scanned = max(0, buffer.count - 2)
                try checkPartialHead()
                return nil
            }
            var request = try parseHead(buffer[0..<end.headEnd])
            buffer.removeFirst(end.bodyStart)
            scanned = 0
            bodyLength = try bodyLengthOf(request)
            request.body = []
            head = request
        }
        guard buffer.count >= bodyLength, var request = head else { return nil }
        request.body = Array(buffer[0..<bodyLength])
        buffer.removeFirst(bodyLength)
        head = nil
        bodyLength = 0
        return request
    }

    /// Where the head ends (its last line's terminator excluded) and the body starts.
    private func headEnd() -> (headEnd: Int, bodyStart: Int)? {
        var i = scanned
        let n = buffer.count
        while i < n {
            if buffer[i] == 0x0A {
                // "\n\n" or "\n\r\n" ends the head.
                if i + 1 < n, buffer[i + 1] == 0x0A { return (i, i + 2) }
                if i + 2 < n, buffer[i + 1] == 0x0D, buffer[i + 2] == 0x0A { return (i, i + 3) }
            }
            i += 1
        }
        return nil
    }

    /// A head still arriving must stay within the limits.
    private func checkPartialHead() throws(HTTPError) {
        let firstLine = buffer.firstIndex(of: 0x0A) ?? buffer.count
        if firstLine > limits.requestLine { throw HTTPError(status: 414, message: "request line longer than \(limits.requestLine) bytes") }
        if buffer.count > limits.requestLine + limits.headerBytes {
            throw HTTPError(status: 431, message: "request headers longer than \(limits.headerBytes) bytes")
        }
    }

    private func parseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPError) -> HTTPRequest {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == 0x0D ? line.dropLast() : line
        }
        // Robustness (RFC 9112 2.2): empty lines before the request line are ignored.
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let requestLine = lines.first else { throw HTTPError(status: 400, message: "empty request") }
        guard requestLine.count <= limits.requestLine else {
            throw HTTPError(status: 414, message: "request line longer than \(limits.requestLine) bytes")
        }
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, let method = ascii(parts[0]), let target = ascii(parts[1]), let version = ascii(parts[2]),
              !method.isEmpty, method.utf8.allSatisfy(isTokenByte), target.hasPrefix("/") || target == "*" else {
            throw HTTPError(status: 400, message: "malformed request line")
        }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw HTTPError(status: version.hasPrefix("HTTP/") ? 505 : 400, message: "unsupported protocol \(version.prefix(16))")
        }
        let headerLines = lines.dropFirst()
        guard headerLines.count <= limits.headerCount else {
            throw HTTPError(status: 431, message: "more than \(limits.headerCount) header fields")
        }
        guard headerLines.reduce(0, { $0 + $1.count + 2 }) <= limits.headerBytes else {
            throw HTTPError(status: 431, message: "request headers longer than \(limits.headerBytes) bytes")
        }
        var headers: [(name: String, value: String)] = []
        for line in headerLines {
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex else {
                throw HTTPError(status: 400, message: "malformed header line")
            }
            let nameBytes = line[line.startIndex..<colon]
            guard nameBytes.allSatisfy(isTokenByte), let name = ascii(nameBytes) else {
                throw HTTPError(status: 400, message: "malformed header name")
            }
            var value = line[(colon + 1)...]
            while let f = value.first, f == 0x20 || f == 0x09 { value = value.dropFirst() }
            while let l = value.last, l == 0x20 || l == 0x09 { value = value.dropLast() }
            guard value.allSatisfy({ $0 >= 0x20 || $0 == 0x09 }), value.allSatisfy({ $0 != 0x7F }) else {
                throw HTTPError(status: 400, message: "control character in header \(name)")
            }
            headers.append((name.lowercased(), String(decoding: value, as: UTF8.self)))
        }
        let path = String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        return HTTPRequest(method: method, path: path, http11: version == "HTTP/1.1", headers: headers, body: [])
    }

    private func bodyLengthOf(_ r: HTTPRequest) throws(HTTPError) -> Int {
        if let te = r.header("transfer-encoding") {
            throw HTTPError(status: te.lowercased().contains("chunked") ? 411 : 501,
                            message: "Transfer-Encoding \(te.prefix(32)) is not supported: send the body with Content-Length")
        }
        let lengths = r.headers.filter { $0.name == "content-length" }.map(\.value)
        guard let first = lengths.first else {
            if r.method == "POST" || r.method == "PUT" {
                throw HTTPError(status: 411, message: "a request body needs Content-Length")
            }
            return 0
        }
        guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 12,
              first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(first) else {
            throw HTTPError(status: 400, message: "invalid Content-Length")
        }
        guard n <= limits.body else { throw HTTPError(status: 413, message: "body of \(n) bytes is over the limit of \(limits.body)") }
        return n
    }
}

/// RFC 9110 token characters (method and header names).
private func isTokenByte(_ b: UInt8) -> Bool {
    switch b {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
         UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
         UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): return true
    default: return false
    }
}

/// Printable ASCII as a String, else nil.
private func ascii(_ bytes: ArraySlice<UInt8>) -> String? {
    guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}
