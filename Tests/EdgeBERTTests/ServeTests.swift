import Foundation
import XCTest
@testable import EdgeBERT

/// `edgebert serve` over real sockets: both APIs against the library's vectors, keep-alive and
/// pipelining, and hostile clients (malformed, oversize, slow, vanishing, idle by the thousand)
/// while other clients keep being answered.
final class ServeTests: XCTestCase {
    /// A server on a free loopback port, running on its own thread until `stop`.
    final class Running: @unchecked Sendable {
        let server: EmbeddingServer
        let port: UInt16
        private let done = NSCondition()
        private var finished = false

        init(_ options: EmbeddingServer.Options) throws {
            var o = options
            o.port = 0
            server = try EmbeddingServer(modelPath: Fixtures.tinyModels.int8, options: o)
            port = UInt16(server.address.split(separator: ":").last!)!
            let t = Thread { [self] in
                server.run()
                done.lock(); finished = true; done.broadcast(); done.unlock()
            }
            t.start()
        }

        /// Stops the server and waits (at most 10 s) for `run` to return.
        func stop() -> Bool {
            server.requestStop()
            done.lock()
            defer { done.unlock() }
            let deadline = Date().addingTimeInterval(10)
            while !finished { if !done.wait(until: deadline) { return false } }
            return true
        }
    }

    /// A raw TCP client.
    final class Client {
        let fd: Int32
        init(port: UInt16, timeout: Double = 5) {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        deinit { close(fd) }
        func send(_ s: String) { send(Array(s.utf8)) }
        func send(_ b: [UInt8]) { _ = b.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }

        /// Reads until `count` complete responses have arrived (Content-Length framing), or the
        /// peer closes, or the timeout passes. Returns (status, headers, body) for each.
        func responses(_ count: Int = 1) -> [(status: Int, head: String, body: [UInt8])] {
            var buf: [UInt8] = []
            var out: [(Int, String, [UInt8])] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while out.count < count {
                // Parse what is there.
                if let end = find(buf, Array("\r\n\r\n".utf8)) {
                    let head = String(decoding: buf[0..<end], as: UTF8.self)
                    let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                    if buf.count >= end + 4 + length {
                        let status = Int(head.split(separator: " ")[1]) ?? 0
                        if status != 100 { out.append((status, head, Array(buf[(end + 4)..<(end + 4 + length)]))) }
                        buf.removeFirst(end + 4 + length)
                        continue
                    }
                }
                let n = recv(fd, &chunk, chunk.count, 0)
                if n <= 0 { break }
                buf.append(contentsOf: chunk[0..<n])
            }
            return out
        }

        /// True when the server closed the connection (a read returns 0).
        func closedByPeer() -> Bool {
            var b = [UInt8](repeating: 0, count: 16)
            return recv(fd, &b, 16, 0) == 0
        }

        private func find(_ h: [UInt8], _ n: [UInt8]) -> Int? {
            guard h.count >= n.count else { return nil }
            for i in 0...(h.count - n.count) where h[i] == n[0] && Array(h[i..<(i + n.count)]) == n { return i }
            return nil
        }
    }

    static func post(_ path: String, _ body: String, extra: String = "") -> String {
        "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(extra)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    func json(_ b: [UInt8]) -> Any { try! JSONSerialization.jsonObject(with: Data(b)) }

    /// The vector a lone Embedder gives (the model's defaults, as `edgebert embed`).
    func expected(_ text: String) throws -> [Float] { try Embedder(modelPath: Fixtures.tinyModels.int8).embed(text) }

    func floats(_ any: Any) -> [Float] { (any as! [NSNumber]).map { $0.floatValue } }

    func testOpenAIAndTEIGiveTheLibrarysVectors() throws {
        let s = try Running(EmbeddingServer.Options())
        defer { XCTAssertTrue(s.stop()) }
        let c = Client(port: s.port)
        c.send(Self.post("/v1/embeddings", #"{"input":["the man was here","he was"],"model":"tiny","user":"u","unknown":{"x":1}}"#))
        let r = c.responses()[0]
        XCTAssertEqual(r.status, 200, String(decoding: r.body, as: UTF8.self))
        let o = json(r.body) as! [String: Any]
        let data = o["data"] as! [[String: Any]]
        XCTAssertEqual(data.count, 2)
        XCTAssertEqual(floats(data[0]["embedding"]!), try expected("the man was here"))
        XCTAssertEqual(floats(data[1]["embedding"]!), try expected("he was"))
        XCTAssertEqual(o["model"] as? String, "tiny")
        XCTAssertEqual((o["usage"] as! [String: Int])["prompt_tokens"], 6 + 4)
        // base64: little-endian float32, bit for bit.
        c.send(Self.post("/v1/embeddings", #"{"input":"he was","encoding_format":"base64"}"#))
        let b = json(c.responses()[0].body) as! [String: Any]
        let b64 = Data(base64Encoded: ((b["data"] as! [[String: Any]])[0]["embedding"] as! String))!
        XCTAssertEqual(b64.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }, try expected("he was"))
        // Token ids: the same vector as the text they spell.
        let ids = try Embedder(modelPath: Fixtures.tinyModels.int8).tokenize("he was")
        c.send(Self.post("/v1/embeddings", "{\"input\":[\(ids.dropFirst().dropLast().map(String.init).joined(separator: ","))]}"))
        let t = json(c.responses()[0].body) as! [String: Any]
        XCTAssertEqual(floats((t["data"] as! [[String: Any]])[0]["embedding"]!), try expected("he was"))
        // TEI: normalize false gives the raw pooled vector, truncate false refuses long texts.
        c.send(Self.post("/embed", #"{"inputs":"he was","normalize":false}"#))
        var o2 = Embedder.Options()
        o2.normalize = false
        XCTAssertEqual(floats((json(c.responses()[0].body) as! [Any])[0]), try Embedder(modelPath: Fixtures.tinyModels.int8, options: o2).embed("he was"))
        c.send(Self.post("/embed", "{\"inputs\":\"\(String(repeating: "he was ", count: 200))\"}"))
        let long = c.responses()[0]
        XCTAssertEqual(long.status, 413)
        XCTAssertEqual((json(long.body) as! [String: String])["error_type"], "Validation")
        c.send(Self.post("/v1/embeddings", #"{"input":"x","dimensions":8}"#))
        XCTAssertEqual(c.responses()[0].status, 400)
    }

    func testHostileRequestsGetTheirStatusAndOthersAreServed() throws {
        var o = EmbeddingServer.Options()
        o.limits.body = 4096
        o.maxInputs = 4
        let s = try Running(o)
        defer { XCTAssertTrue(s.stop()) }
        let cases: [(String, [UInt8], Int)] = [
            ("malformed request line", Array("GARBAGE\r\n\r\n".utf8), 400),
            ("bad version", Array("GET /health HTTP/9.9\r\n\r\n".utf8), 505),
            ("long request line", Array(("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\n\r\n").utf8), 414),
            ("oversize headers", Array(("GET /health HTTP/1.1\r\nX: " + String(repeating: "b", count: 20000) + "\r\n\r\n").utf8), 431),
            ("too many headers", Array(("GET /health HTTP/1.1\r\n" + String(repeating: "X: y\r\n", count: 100) + "\r\n").utf8), 431),
            ("body too large", Array("POST /embed HTTP/1.1\r\nContent-Length: 100000\r\n\r\n".utf8), 413),
            ("chunked body", Array("POST /embed HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".utf8), 411),
            ("no length", Array("POST /embed HTTP/1.1\r\n\r\n".utf8), 411),
            ("bad length", Array("POST /embed HTTP/1.1\r\nContent-Length: -3\r\n\r\n".utf8), 400),
            ("invalid JSON", Array(Self.post("/v1/embeddings", "{\"input\": [1, 2").utf8), 400),
            ("wrong type", Array(Self.post("/v1/embeddings", #"{"input": {"a": 1}}"#).utf8), 400),
            ("mixed list", Array(Self.post("/v1/embeddings", #"{"input": ["a", 1]}"#).utf8), 400),
            ("token out of range", Array(Self.post("/v1/embeddings", #"{"input": [1, 99999999]}"#).utf8), 400),
            ("bad encoding", Array(Self.post("/v1/embeddings", #"{"input": "a", "encoding_format": "hex"}"#).utf8), 400),
            ("too many inputs", Array(Self.post("/embed", #"{"inputs": ["a","b","c","d","e"]}"#).utf8), 413),
            ("TEI wrong type", Array(Self.post("/embed", #"{"inputs": "a", "normalize": "yes"}"#).utf8), 422),
            ("invalid UTF-8", Array("POST /embed HTTP/1.1\r\nContent-Length: 15\r\n\r\n{\"inputs\":\"".utf8) + [0xFF, 0xFE] + Array("\"}".utf8), 400),
            ("unknown path", Array("GET /admin HTTP/1.1\r\n\r\n".utf8), 404),
            ("wrong method", Array("GET /v1/embeddings HTTP/1.1\r\n\r\n".utf8), 405),
        ]
        for (name, bytes, status) in cases {
            let c = Client(port: s.port)
            c.send(bytes)
            let r = c.responses()
            XCTAssertEqual(r.first?.status, status, name)
            XCTAssertTrue(r.first.map { (try? JSONSerialization.jsonObject(with: Data($0.body))) != nil } ?? false, "\(name): a JSON error body")
            // Between hostile ones, a good client is answered.
            let good = Client(port: s.port)
            good.send("GET /health HTTP/1.1\r\n\r\n")
            XCTAssertEqual(good.responses().first?.status, 200, "after \(name)")
        }
        let c = Client(port: s.port)
        c.send("GET /v1/embeddings HTTP/1.1\r\n\r\n")
        XCTAssertTrue(c.responses()[0].head.contains("Allow: POST"))
        let err = Client(port: s.port)
        err.send(Self.post("/v1/embeddings", #"{"input": 5}"#))
        let e = json(err.responses()[0].body) as! [String: [String: Any]]
        XCTAssertEqual(e["error"]?["type"] as? String, "invalid_request_error")
        XCTAssertNotNil(e["error"]?["message"] as? String)
    }

    func testKeepAlivePipeliningAndExpectContinue() throws {
        let s = try Running(EmbeddingServer.Options())
        defer { XCTAssertTrue(s.stop()) }
        let c = Client(port: s.port)
        c.send(Self.post("/embed", #"{"inputs":"he was"}"#) + "GET /health HTTP/1.1\r\n\r\n" + Self.post("/embed", #"{"inputs":"the man"}"#))
        let r = c.responses(3)
        XCTAssertEqual(r.map(\.status), [200, 200, 200])
        XCTAssertEqual(floats((json(r[2].body) as! [Any])[0]), try expected("the man"))
        let x = Client(port: s.port)
        let body = #"{"inputs":"he was"}"#
        x.send("POST /embed HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        var b = [UInt8](repeating: 0, count: 64)
        let n = recv(x.fd, &b, 64, 0)
        XCTAssertEqual(String(decoding: b[0..<max(n, 0)], as: UTF8.self), "HTTP/1.1 100 Continue\r\n\r\n")
        x.send(body)
        XCTAssertEqual(x.responses().first?.status, 200)
        // HEAD: headers only, and the connection stays in step.
        let head = Client(port: s.port)
        head.send("HEAD /health HTTP/1.1\r\n\r\n")
        var hb = [UInt8](repeating: 0, count: 4096)
        let hn = recv(head.fd, &hb, hb.count, 0)
        let headText = String(decoding: hb[0..<max(hn, 0)], as: UTF8.self)
        XCTAssertTrue(headText.hasPrefix("HTTP/1.1 200 OK\r\n") && headText.hasSuffix("\r\n\r\n"), headText)
        XCTAssertTrue(headText.contains("Content-Length: 15"), headText)
        head.send("GET /health HTTP/1.1\r\n\r\n")
        XCTAssertEqual(head.responses().first.map { String(decoding: $0.body, as: UTF8.self) }, "{\"status\":\"ok\"}")
        let close = Client(port: s.port)
        close.send("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(close.responses().first?.status, 200)
        XCTAssertTrue(close.closedByPeer())
    }

    func testAPIKeyIsRequired() throws {
        var o = EmbeddingServer.Options()
        o.apiKey = "s3cret"
        let s = try Running(o)
        defer { XCTAssertTrue(s.stop()) }
        let c = Client(port: s.port)
        c.send(Self.post("/v1/embeddings", #"{"input":"x"}"#))
        XCTAssertEqual(c.responses().first?.status, 401)
        c.send(Self.post("/v1/embeddings", #"{"input":"x"}"#, extra: "Authorization: Bearer s3cre\r\n"))
        XCTAssertEqual(c.responses().first?.status, 401)
        c.send(Self.post("/v1/embeddings", #"{"input":"x"}"#, extra: "Authorization: Bearer s3cret\r\n"))
        XCTAssertEqual(c.responses().first?.status, 200)
        c.send("GET /health HTTP/1.1\r\n\r\n")
        XCTAssertEqual(c.responses().first?.status, 200, "health needs no key")
    }

    /// A client sending a byte every 0.2 s is cut off with 408 after the read timeout; clients
    /// that vanish mid-request or before reading their response cost nothing; others are served.
    func testSlowAndVanishingClients() throws {
        var o = EmbeddingServer.Options()
        o.readTimeout = 0.6
        let s = try Running(o)
        defer { XCTAssertTrue(s.stop()) }
        let slow = Client(port: s.port, timeout: 5)
        let start = Date()
        let request = Array(Self.post("/embed", #"{"inputs":"he was"}"#).utf8)
        var got: [(status: Int, head: String, body: [UInt8])] = []
        for byte in request {
            slow.send([byte])
            usleep(200_000)
            // Meanwhile others are answered.
            let other = Client(port: s.port)
            other.send("GET /health HTTP/1.1\r\n\r\n")
            XCTAssertEqual(other.responses().first?.status, 200)
            if Date().timeIntervalSince(start) > 1.2 { break }
        }
        got = slow.responses()
        XCTAssertEqual(got.first?.status, 408)
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
        for _ in 0..<20 {
            let gone = Client(port: s.port)
            gone.send("POST /embed HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"inp")   // mid-request
            let early = Client(port: s.port)
            early.send(Self.post("/embed", "{\"inputs\":[\(Array(repeating: "\"he was the man\"", count: 64).joined(separator: ","))]}"))  // mid-response
        }
        let after = Client(port: s.port)
        after.send(Self.post("/embed", #"{"inputs":"the man"}"#))
        XCTAssertEqual(floats((json(after.responses()[0].body) as! [Any])[0]), try expected("the man"))
    }

    /// Concurrent clients, each with its own texts: every answer is its own (no mixing in shared batches).
    func testConcurrentClientsGetTheirOwnVectors() throws {
        let s = try Running(EmbeddingServer.Options())
        defer { XCTAssertTrue(s.stop()) }
        let texts = (0..<48).map { "the man was here \($0) " + String(repeating: "he was ", count: $0 % 5) }
        let lone = try Embedder(modelPath: Fixtures.tinyModels.int8)
        let expected = try texts.map { try lone.embed($0) }
        let results = Results<[Float]>(count: texts.count)
        let port = s.port
        DispatchQueue.concurrentPerform(iterations: 8) { w in
            let c = Client(port: port)
            for i in stride(from: w, to: texts.count, by: 8) {
                c.send(Self.post("/embed", "{\"inputs\":\"\(texts[i])\"}"))
                if let r = c.responses().first, let a = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [[NSNumber]] {
                    results.set(i, a[0].map { $0.floatValue })
                }
            }
        }
        XCTAssertEqual(results.all(), expected.map { Optional($0) })
    }

    /// 1,000 idle connections: the server keeps answering, and stops cleanly with them open.
    func testThousandIdleConnections() throws {
        var lim = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
        lim.rlim_cur = min(lim.rlim_max, 8192)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
        guard lim.rlim_cur >= 2200 else { return XCTFail("needs 2,200 file descriptors, the limit is \(lim.rlim_cur)") }
        var o = EmbeddingServer.Options()
        o.maxConnections = 2000
        let s = try Running(o)
        var idle: [Client] = []
        for _ in 0..<1000 { idle.append(Client(port: s.port)) }
        let c = Client(port: s.port)
        c.send(Self.post("/v1/embeddings", #"{"input":"he was"}"#))
        XCTAssertEqual(c.responses().first?.status, 200)
        c.send("GET /metrics HTTP/1.1\r\n\r\n")
        let m = String(decoding: c.responses()[0].body, as: UTF8.self)
        XCTAssertTrue(m.contains("edgebert_connections 1001"), m)
        XCTAssertTrue(s.stop())
        withExtendedLifetime(idle) {}
    }

    /// Past --max-connections a new connection gets 503 with Retry-After, not a drop.
    func testConnectionCap() throws {
        var o = EmbeddingServer.Options()
        o.maxConnections = 2
        let s = try Running(o)
        defer { XCTAssertTrue(s.stop()) }
        let a = Client(port: s.port), b = Client(port: s.port)
        a.send("GET /health HTTP/1.1\r\n\r\n")
        b.send("GET /health HTTP/1.1\r\n\r\n")
        XCTAssertEqual(a.responses().first?.status, 200)
        XCTAssertEqual(b.responses().first?.status, 200)
        let third = Client(port: s.port)
        let r = third.responses()
        XCTAssertEqual(r.first?.status, 503)
        XCTAssertTrue(r.first?.head.contains("Retry-After: 1") ?? false)
    }

    /// The CLI: prints its address when ready, SIGTERM finishes and exits 0.
    func testServeCommandStopsOnSigterm() throws {
        try CLI.requireBinary()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["serve", "-m", Fixtures.tinyModels.int8, "--port", "0"]
        let o = Pipe()
        p.standardOutput = o
        try p.run()
        var line = Data()
        while !line.contains(0x0A) { let d = o.fileHandleForReading.availableData; if d.isEmpty { break }; line.append(d) }
        let text = String(decoding: line, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("edgebert: serving on http://127.0.0.1:"), text)
        let port = UInt16(text.split(separator: ":").last!.trimmingCharacters(in: .whitespacesAndNewlines))!
        let c = Client(port: port)
        c.send(Self.post("/embed", #"{"inputs":"he was"}"#))
        XCTAssertEqual(c.responses().first?.status, 200)
        p.terminate()  // SIGTERM
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit)
        XCTAssertEqual(p.terminationStatus, 0)
    }
}

extension ServeTests {
    /// POST /search answers from the index given at start: the same hits as `SearchIndex` for the
    /// library's vector; a bad k is 422, no index is 404, an index of another model is refused.
    func testSearchEndpoint() throws {
        let texts = ["the man was here", "he was", "a cat sat on the mat", "the weather is fine", "he was here"]
        let e = try Embedder(modelPath: Fixtures.tinyModels.int8)
        let path = TempDir.make("serve-search") + "/t.idx"
        let w = try IndexWriter(path: path, identity: IndexIdentity(embedder: e, keepsFloat: true), append: false)
        for (i, t) in texts.enumerated() { try e.embed(t).withUnsafeBufferPointer { try w.add($0, text: t, line: i + 1) } }
        try w.finish(linesRead: texts.count)
        var o = EmbeddingServer.Options()
        o.indexPath = path
        let s = try Running(o)
        defer { XCTAssertTrue(s.stop()) }
        let c = Client(port: s.port)
        c.send(Self.post("/search", #"{"query":"he was","k":2}"#))
        let r = c.responses()[0]
        XCTAssertEqual(r.status, 200, String(decoding: r.body, as: UTF8.self))
        let got = json(r.body) as! [String: Any]
        XCTAssertEqual(got["query"] as? String, "he was")
        let results = got["results"] as! [[String: Any]]
        let want = try e.embed("he was").withUnsafeBufferPointer { try SearchIndex(path: path).search($0, count: 1, k: 2)[0] }
        XCTAssertEqual(results.map { $0["line"] as! Int }, want.map(\.line))
        XCTAssertEqual(results.map { $0["text"] as! String }, want.map(\.text))
        XCTAssertEqual(results[0]["text"] as? String, "he was")
        // The server's embedder does not normalise (each request chooses), so its query is the
        // pooled vector normalised once, by the search; `want` normalises `e.embed`'s already
        // normalised vector again: the scores may differ in the last bit.
        XCTAssertEqual((results[0]["score"] as! NSNumber).floatValue, want[0].score, accuracy: 1e-6)
        c.send(Self.post("/search", #"{"query":["he was","a cat"]}"#))
        let two = json(c.responses()[0].body) as! [[String: Any]]
        XCTAssertEqual(two.count, 2)
        XCTAssertEqual((two[1]["results"] as! [Any]).count, 5)   // k defaults to min(10, count)
        c.send(Self.post("/search", #"{"query":"x","k":6}"#))
        let bad = c.responses()[0]
        XCTAssertEqual(bad.status, 422)
        XCTAssertEqual((json(bad.body) as! [String: String])["error"], "'k' is 6, outside 1...5, the texts in the index")
        c.send(Self.post("/search", #"{"k":2}"#))
        XCTAssertEqual(c.responses()[0].status, 422)

        let plain = try Running(EmbeddingServer.Options())
        defer { XCTAssertTrue(plain.stop()) }
        let p = Client(port: plain.port)
        p.send(Self.post("/search", #"{"query":"x"}"#))
        XCTAssertEqual(p.responses()[0].status, 404)

        var other = EmbeddingServer.Options()
        other.indexPath = path
        XCTAssertThrowsError(try EmbeddingServer(modelPath: Fixtures.tinyModels.f32, options: other)) {
            XCTAssertTrue("\($0)".contains("made by another model"), "\($0)")
        }
    }
}
