// libFuzzer harness `http`: the server's HTTP/1.1 request parser (Sources/EdgeBERT/Serve/HTTPParser.swift).
// The input arrives in pieces (sizes taken from its first byte) as from a socket; every request
// that comes out is checked: a body exactly as long as its Content-Length, a path starting with
// "/" (or "*"), and the parser never holding more than its limits allow beyond one piece.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    var limits = HTTPLimits()
    limits.requestLine = 256
    limits.headerBytes = 512
    limits.headerCount = 8
    limits.body = 1024
    var parser = HTTPParser(limits: limits)
    let step = 1 + Int(data[0] % 37)
    var offset = 1
    outer: while offset < size {
        let n = min(step, size - offset)
        parser.append(UnsafeRawBufferPointer(start: data + offset, count: n))
        offset += n
        while true {
            let request: HTTPRequest?
            do throws(HTTPError) {
                request = try parser.next()
            } catch {
                precondition([400, 411, 413, 414, 431, 501, 505].contains(error.status), "status \(error.status)")
                break outer  // the server answers and closes
            }
            guard let r = request else { break }
            precondition(r.path.hasPrefix("/") || r.path == "*", "path \(r.path)")
            let declared = r.header("content-length").flatMap { Int($0) } ?? 0
            precondition(r.body.count == declared, "body \(r.body.count) for Content-Length \(declared)")
            _ = r.keepAlive
        }
        precondition(parser.buffered <= limits.requestLine + limits.headerBytes + limits.body + 2 * step + 8,
                     "parser holds \(parser.buffered) bytes")
    }
    return 0
}
