#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CKernels

/// `edgebert serve`: a local embedding server speaking OpenAI's `/v1/embeddings` and Hugging Face
/// text-embeddings-inference's `/embed` and `/tokenize`, plus `/health`, `/v1/models`, `/metrics`.
///
/// One I/O thread runs every connection with poll(2): reads are parsed incrementally
/// (`HTTPParser`, bounded), embedding requests go to the `EmbeddingEngine`'s bounded queue, and
/// responses are written without blocking. A slow or silent client holds no thread: past
/// `readTimeout` from its first byte a request gets 408, past `idleTimeout` an idle connection
/// is closed, past `maxConnections` a new one gets 503. `requestStop()` (SIGINT/SIGTERM through
/// `ek_shutdown_install`) stops accepting, finishes what is in flight, and `run` returns.
public final class EmbeddingServer {
    /// How the server listens and what it accepts.
    public struct Options: Sendable {
        /// Address to bind (loopback by default: nothing outside the board reaches it).
        public var host = "127.0.0.1"
        /// TCP port; 0 picks a free one (see `address`).
        public var port = 8080
        /// Threads of the engine's Embedder (default: the cores online).
        public var threads: Int?
        /// Bearer token every API request must carry; nil: none.
        public var apiKey: String?
        /// Tokens per forward pass at most (the Embedder's token budget).
        public var maxBatchTokens = 1024
        /// Inputs one request may carry.
        public var maxInputs = 512
        /// Open connections at most; one more gets 503 and is closed.
        public var maxConnections = 256
        /// Requests waiting for the engine at most; one more gets 503 with Retry-After.
        public var queueDepth = 256
        /// Request line, header and body limits.
        public var limits = HTTPLimits()
        /// Seconds from a request's first byte to its last.
        public var readTimeout = 10.0
        /// Seconds an idle keep-alive connection stays open.
        public var idleTimeout = 60.0
        /// The model name `/v1/models` lists and responses echo by default (default: the file's name).
        public var modelName: String?
        /// Longest input in tokens (default: the model's).
        public var maxLength: Int?
        /// Force a kernel path (as `Embedder.Options.kernel`).
        public var kernel: String?
        /// An index (from `edgebert index` with this model) that POST /search searches; nil: no /search.
        public var indexPath: String?

        /// The defaults above.
        public init() {}
    }

    /// `host:port` the server listens on (the port the system chose when `port` was 0).
    public private(set) var address = ""
    private let options: Options
    private let engine: EmbeddingEngine
    private let tokenizer: WordPieceTokenizer   // the I/O thread's own, for /tokenize
    private let maxLength: Int
    private let dimension: Int
    private let vocabSize: Int
    private let indexCount: Int?      // vectors of the index /search searches, nil without one
    private let modelName: String
    private let normalizeDefault: Bool
    private let listenFD: Int32
    private let wakeRead: Int32
    /// Written to wake the I/O loop: a byte 1 asks it to stop, 2 says results are ready.
    public let wakeFD: Int32
    private var connections: [Int: Connection] = [:]
    private var nextID = 1
    private var metrics = ServeMetrics()
    private var stopping = false
    private var stopAt = 0.0
    private var engineStopped = false
    /// accept(2) failed for want of descriptors: the listening socket rests until then.
    private var acceptPausedUntil = 0.0
    /// After a stop is asked, the longest the server waits for responses to be read.
    static let drainSeconds = 10.0

    /// Loads the model (one Embedder for the engine), binds and listens. Errors name the option.
    public init(modelPath: String, options: Options) throws(EdgeBERTError) {
        self.options = options
        let model = try ModelFile(path: modelPath)
        var eo = Embedder.Options()
        eo.threads = options.threads
        eo.maxLength = options.maxLength
        eo.kernel = options.kernel
        eo.normalize = false               // each request chooses; the engine normalises
        eo.batch = max(1, min(4096, options.maxInputs))
        eo.batchTokens = options.maxBatchTokens
        let embedder = try Embedder(model: model, options: eo)
        var index: SearchIndex?
        if let path = options.indexPath {
            let opened = try SearchIndex(path: path, kernel: options.kernel)
            let id = opened.identity
            guard id.modelChecksum == model.header.checksum, id.modelMetaChecksum == model.header.metaChecksum, id.dims <= embedder.dimension else {
                throw .data(path, "the index was made by another model (\(id.modelPath)); serve it with that model")
            }
            index = opened
        }
        indexCount = index?.count
        maxLength = embedder.maxLength
        dimension = embedder.dimension
        vocabSize = model.config.vocabSize
        normalizeDefault = model.config.normalize
        tokenizer = WordPieceTokenizer(vocab: model.vocab, options: model.config.tokenizer, special: model.config.special)
        let base = modelPath.split(separator: "/").last.map(String.init) ?? modelPath
        modelName = options.modelName ?? (base.hasSuffix(".ebm") ? String(base.dropLast(4)) : base)

        listenFD = try Self.listen(host: options.host, port: options.port)   // before any thread or pipe
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { let e = systemError("serve", "cannot create a pipe"); close(listenFD); throw e }
        for fd in fds { setNonBlocking(fd) }
        wakeRead = fds[0]
        wakeFD = fds[1]
        let notifyFD = fds[1]
        engine = EmbeddingEngine(embedder: embedder, index: index, capacity: options.queueDepth, maxTexts: max(1, min(256, options.maxInputs)),
                                 notify: { var b: UInt8 = 2; _ = write(notifyFD, &b, 1) })
        var sa = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &len) } }
        address = "\(options.host):\(UInt16(bigEndian: sa.sin_port))"
    }

    deinit {
        ek_shutdown_uninstall(wakeFD)
        if !engineStopped { engine.stop() }
        close(listenFD)
        close(wakeRead)
        close(wakeFD)
    }

    private static func listen(host: String, port: Int) throws(EdgeBERTError) -> Int32 {
        guard (0...65535).contains(port) else { throw .usage("port", "\(port) is outside 0...65535") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { throw .usage("host", "\"\(host)\" is not an IPv4 address") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw systemError("serve", "cannot create a socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { let e = systemError("\(host):\(port)", "cannot listen"); close(fd); throw e }
        guard Glibc.listen(fd, 512) == 0 else { let e = systemError("\(host):\(port)", "cannot listen"); close(fd); throw e }
        return fd
    }

    /// SIGINT and SIGTERM then stop the server gracefully (finish in flight, `run` returns)
    /// instead of ending the process.
    public func stopOnSignals() { ek_shutdown_install(wakeFD) }

    /// Asks `run` to stop (from any thread; SIGINT/SIGTERM do the same through `wakeFD`).
    public func requestStop() {
        var b: UInt8 = 1
        _ = write(wakeFD, &b, 1)
    }

    /// Serves until stopped; then finishes the requests in flight, closes every connection and
    /// returns.
    public func run() {
        var pollfds: [pollfd] = []
        var order: [Int] = []
        var acceptOpen = true
        while true {
            let listening = acceptOpen && Self.now() >= acceptPausedUntil
            pollfds.removeAll(keepingCapacity: true)
            order.removeAll(keepingCapacity: true)
            pollfds.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
            if listening { pollfds.append(pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)) }
            for (id, c) in connections {
                var ev: Int32 = 0
                if c.wantsRead { ev |= Int32(POLLIN) }
                if c.pendingOutput { ev |= Int32(POLLOUT) }
                pollfds.append(pollfd(fd: c.fd, events: Int16(ev), revents: 0))
                order.append(id)
            }
            let n = poll(&pollfds, nfds_t(pollfds.count), 200)
            let now = Self.now()
            if n < 0 && errno != EINTR { break }
            if pollfds[0].revents != 0 { drainWake() }
            if stopping && acceptOpen { acceptOpen = false; stopAt = now }
            deliver(now: now)
            let base = listening ? 2 : 1
            if listening && acceptOpen && pollfds[1].revents != 0 { acceptAll(now: now) }
            for (k, id) in order.enumerated() {
                let re = Int32(pollfds[base + k].revents)
                guard re != 0, let c = connections[id] else { continue }
                if re & Int32(POLLIN) != 0 || re & Int32(POLLHUP) != 0 || re & Int32(POLLERR) != 0 { readFrom(c, now: now) }
                if connections[id] != nil, re & Int32(POLLOUT) != 0, flush(c, now: now) { process(c, now: now) }
            }
            sweep(now: now)
            if stopping && connections.values.allSatisfy({ !$0.waiting && !$0.pendingOutput }) && engine.depth == 0 {
                break
            }
            // A client that never reads its response cannot hold the stop past the drain time.
            if stopping && now - stopAt > Self.drainSeconds && engine.depth == 0 { break }
        }
        for c in connections.values { c.close() }
        connections.removeAll()
        engine.stop()
        engineStopped = true
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    private func drainWake() {
        var buf = [UInt8](repeating: 0, count: 64)
        while true {
            let n = read(wakeRead, &buf, buf.count)
            if n <= 0 { break }
            if buf[0..<n].contains(1) { stopping = true }
        }
    }

    private func acceptAll(now: Double) {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                // Out of descriptors: the socket stays readable; rest it instead of spinning.
                if errno == EMFILE || errno == ENFILE { acceptPausedUntil = now + 0.1 }
                return
            }
            setNonBlocking(fd)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let c = Connection(fd: fd, id: nextID, limits: options.limits, now: now)
            nextID += 1
            if connections.count >= options.maxConnections {
                c.respond(status: 503, body: ServeAPI.errorBody(APIError(status: 503, message: "too many connections", api: nil)),
                          keepAlive: false, extra: "Retry-After: 1\r\n")
                c.flushOnce()
                c.close()
                metrics.request(status: 503, seconds: 0)
                continue
            }
            connections[c.id] = c
        }
    }

    /// Engine results to their connections (dropped when the connection went away).
    private func deliver(now: Double) {
        for d in engine.takeDone() {
            metrics.batch(inputs: d.passInputs)
            metrics.tokens += d.tokens
            guard let c = connections[d.connection], c.waiting, c.serial == d.serial else { continue }
            c.waiting = false
            metrics.request(status: d.status, seconds: now - c.requestDone)
            c.respond(status: d.status, body: d.body, keepAlive: c.keepAlive && !stopping)
            if flush(c, now: now) { process(c, now: now) }
        }
    }

    private func readFrom(_ c: Connection, now: Double) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { read(c.fd, $0.baseAddress, $0.count) }
        if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) {
            drop(c)  // the client went away (mid-request or mid-response)
            return
        }
        guard n > 0 else { return }
        if !c.parser.inProgress { c.requestStart = now }
        c.lastActivity = now
        chunk.withUnsafeBytes { c.parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        process(c, now: now)
    }

    /// Answers the buffered requests of `c` one at a time (a pipelined request waits its turn).
    private func process(_ c: Connection, now: Double) {
        while connections[c.id] != nil && !c.waiting && !c.pendingOutput && !c.closing {
            let request: HTTPRequest?
            do throws(HTTPError) {
                request = try c.parser.next()
            } catch {
                metrics.request(status: error.status, seconds: 0)
                c.respond(status: error.status, body: ServeAPI.errorBody(APIError(status: error.status, message: error.message, api: nil)),
                          keepAlive: false)
                flush(c, now: now)
                return
            }
            guard let request else {
                if c.parser.awaitingBody && c.parser.expectsContinue && !c.sentContinue {
                    c.sentContinue = true
                    c.queue(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                    flush(c, now: now)
                }
                return
            }
            c.sentContinue = false
            c.keepAlive = request.keepAlive
            c.requestDone = now
            route(request, on: c, now: now)
            if !c.parser.inProgress { c.requestStart = nil } else { c.requestStart = now }
        }
    }

    /// Every endpoint and the method it takes.
    private static let routes = ["/v1/embeddings": "POST", "/embed": "POST", "/tokenize": "POST", "/health": "GET",
                                 "/v1/models": "GET", "/metrics": "GET", "/search": "POST"]

    private func route(_ r: HTTPRequest, on c: Connection, now: Double) {
        let api: ServeAPIKind? = r.path.hasPrefix("/v1/") ? .openAI : (r.path == "/embed" || r.path == "/tokenize") ? .tei
            : r.path == "/search" ? .search : nil
        func answer(_ status: Int, _ body: [UInt8], contentType: String = "application/json", extra: String = "") {
            metrics.request(status: status, seconds: Self.now() - now)
            c.respond(status: status, body: body, keepAlive: c.keepAlive && !stopping, contentType: contentType, extra: extra,
                      headOnly: r.method == "HEAD")
            flush(c, now: now)
        }
        func fail(_ e: APIError, extra: String = "") { answer(e.status, ServeAPI.errorBody(e), extra: extra) }
        guard let method = Self.routes[r.path] else { return fail(APIError(status: 404, message: "no such endpoint: \(r.path.prefix(64))", api: api)) }
        guard r.method == method || (method == "GET" && r.method == "HEAD") else {
            return fail(APIError(status: 405, message: "\(r.path) takes \(method)", api: api), extra: "Allow: \(method)\r\n")
        }
        if let key = options.apiKey, api != nil {
            let given = r.header("authorization") ?? ""
            guard constantTimeEqual(Array(given.utf8), Array(("Bearer " + key).utf8)) else {
                return fail(APIError(status: 401, message: "missing or wrong API key (Authorization: Bearer KEY)", api: api))
            }
        }
        switch r.path {
        case "/health":
            answer(200, Array("{\"status\":\"ok\"}".utf8))
        case "/v1/models":
            answer(200, Array("{\"object\":\"list\",\"data\":[{\"id\":\(JSONText.string(modelName)),\"object\":\"model\",\"created\":0,\"owned_by\":\"edgebert\"}]}".utf8))
        case "/metrics":
            answer(200, Array(metrics.text(queueDepth: engine.depth, connections: connections.count).utf8), contentType: "text/plain; version=0.0.4")
        case "/tokenize":
            do throws(APIError) {
                let o = try ServeAPI.parseBody(r.body, api: .tei)
                let texts = try ServeAPI.teiInputs(o, maxInputs: options.maxInputs)
                var s = "["
                for (i, t) in texts.enumerated() {
                    let ids = tokenizer.encode(t, maxTokens: maxLength)
                    s += (i > 0 ? "," : "") + "[" + ids.enumerated().map { k, id in
                        "{\"id\":\(id),\"text\":\(JSONText.string(tokenizer.vocab[Int(id)])),\"special\":\(k == 0 || k == ids.count - 1)}"
                    }.joined(separator: ",") + "]"
                }
                answer(200, Array((s + "]").utf8))
            } catch {
                fail(error)
            }
        default:
            do throws(APIError) {
                if r.path == "/search" && indexCount == nil {
                    throw APIError(status: 404, message: "no index to search: start the server with --index INDEX", api: .search)
                }
                let req = r.path == "/search" ? try ServeAPI.search(r.body, maxInputs: options.maxInputs, count: indexCount ?? 0)
                    : r.path == "/embed"
                    ? try ServeAPI.tei(r.body, maxInputs: options.maxInputs)
                    : try ServeAPI.openAI(r.body, dimension: dimension, vocabSize: vocabSize, maxInputs: options.maxInputs,
                                          modelName: modelName, normalize: normalizeDefault)
                c.serial += 1
                guard engine.submit(EmbeddingEngine.Job(connection: c.id, serial: c.serial, request: req)) else {
                    return fail(APIError(status: 503, message: "the queue is full; retry shortly", api: api), extra: "Retry-After: 1\r\n")
                }
                c.waiting = true
            } catch {
                fail(error)
            }
        }
    }

    /// Writes what `c` has pending; true when all is written and the connection stays open (the
    /// caller may then answer its next buffered request). Never answers requests itself, so a
    /// burst of pipelined requests is a loop in `process`, not a recursion.
    @discardableResult
    private func flush(_ c: Connection, now: Double) -> Bool {
        switch c.flushOnce() {
        case .failed:
            drop(c)
            return false
        case .done:
            c.lastActivity = now
            if c.closing { drop(c); return false }
            return true
        case .partial:
            c.lastActivity = now
            return false
        }
    }

    private func drop(_ c: Connection) {
        c.close()
        connections[c.id] = nil
    }

    /// Timeouts: a request that takes too long to arrive gets 408; an idle connection is closed;
    /// while stopping, idle connections are closed at once.
    private func sweep(now: Double) {
        for c in Array(connections.values) {
            if c.waiting { continue }
            if c.pendingOutput {
                // A client that stopped reading its response is let go after the idle timeout.
                if now - c.lastActivity > options.idleTimeout { drop(c) }
                continue
            }
            if let start = c.requestStart, c.parser.inProgress, now - start > options.readTimeout {
                metrics.request(status: 408, seconds: now - start)
                c.respond(status: 408, body: ServeAPI.errorBody(APIError(status: 408, message: "the request took too long to arrive", api: nil)),
                          keepAlive: false)
                flush(c, now: now)
            } else if !c.parser.inProgress && (stopping || now - c.lastActivity > options.idleTimeout) {
                drop(c)
            }
        }
    }
}

/// O_NONBLOCK and FD_CLOEXEC on a descriptor.
private func setNonBlocking(_ fd: Int32) {
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
}

/// Byte-wise comparison whose time does not depend on where the inputs differ.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for i in 0..<max(a.count, b.count) {
        diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
    }
    return diff == 0
}

/// One client connection: its parser, its pending output, and where its current request stands.
final class Connection {
    let fd: Int32
    let id: Int
    var parser: HTTPParser
    private var out: [UInt8] = []
    private var outOffset = 0
    /// A request of this connection is in the engine.
    var waiting = false
    /// Requests sent to the engine so far (a stale result is recognised by it).
    var serial = 0
    var keepAlive = true
    /// Close once the pending output is written.
    var closing = false
    var sentContinue = false
    var lastActivity: Double
    /// When the request being read started arriving.
    var requestStart: Double?
    /// When the last complete request was parsed.
    var requestDone = 0.0

    init(fd: Int32, id: Int, limits: HTTPLimits, now: Double) {
        self.fd = fd
        self.id = id
        parser = HTTPParser(limits: limits)
        lastActivity = now
    }

    var pendingOutput: Bool { outOffset < out.count }
    /// Read while no request is being answered (pipelined requests wait in the socket).
    var wantsRead: Bool { !waiting && !pendingOutput && !closing }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }

    func queue(_ bytes: [UInt8]) {
        if outOffset == out.count { out.removeAll(keepingCapacity: true); outOffset = 0 }
        out.append(contentsOf: bytes)
    }

    /// Queues a response; `headOnly` (HEAD): the headers, Content-Length included, without the body.
    func respond(status: Int, body: [UInt8], keepAlive: Bool, contentType: String = "application/json", extra: String = "",
                 headOnly: Bool = false) {
        if !keepAlive { closing = true }
        let head = "HTTP/1.1 \(status) \(Self.reason(status))\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
            + (keepAlive ? "" : "Connection: close\r\n") + extra + "\r\n"
        queue(Array(head.utf8))
        if !headOnly { out.append(contentsOf: body) }
    }

    enum FlushResult { case done, partial, failed }

    /// Writes what the socket takes now.
    @discardableResult
    func flushOnce() -> FlushResult {
        while outOffset < out.count {
            let n = out.withUnsafeBytes { send(fd, $0.baseAddress! + outOffset, $0.count - outOffset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN ? .partial : .failed
            }
            outOffset += n
        }
        out.removeAll(keepingCapacity: out.capacity <= 1 << 20)
        outOffset = 0
        return .done
    }

    func close() { Glibc.close(fd) }
}
