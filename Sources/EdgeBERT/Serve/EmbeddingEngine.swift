#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One thread that owns the server's Embedder and runs every embedding request: requests from all
/// connections wait in one bounded queue, and each pass takes as many queued requests as fit
/// `maxTexts` inputs (the Embedder then packs them into forward passes of at most its token
/// budget). Packed batches give the same vectors as one text at a time, bit for bit, so every
/// response is what `edgebert embed` prints for those texts. The output buffer is allocated once.
final class EmbeddingEngine: @unchecked Sendable {
    // @unchecked: the Embedder and the output buffer are touched only by the engine thread after
    // init; the queues only under the mutex.

    /// A request waiting for the engine, from connection `connection` (its `serial`-th request).
    struct Job {
        let connection: Int
        let serial: Int
        let request: EmbedRequest
    }

    /// A finished request: its response, ready to write.
    struct Done {
        let connection: Int
        let serial: Int
        let status: Int
        let body: [UInt8]
        /// Tokens the request's inputs had.
        let tokens: Int
        /// Inputs in the engine pass that ran it (for the batch-size histogram).
        let passInputs: Int
    }

    private let embedder: Embedder
    private let index: SearchIndex?
    private let maxTexts: Int
    private let capacity: Int
    private let notify: @Sendable () -> Void
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    private var queue: [Job] = []     // under mutex
    private var done: [Done] = []     // under mutex
    private var running = 0           // jobs taken by the engine and not yet done, under mutex
    private var stopping = false      // under mutex
    private var thread = pthread_t()
    private var vectors: [Float]      // [maxTexts][H]
    private var counts: [Int]         // [maxTexts]

    /// `embedder` must not normalise (requests choose). `capacity` jobs may wait; a pass runs at most
    /// `maxTexts` inputs (one larger request runs alone). `notify` is called from the engine thread
    /// when results are ready.
    /// `index`: what /search requests search (its vectors the first `dims` of the embedder's).
    init(embedder: Embedder, index: SearchIndex?, capacity: Int, maxTexts: Int, notify: @escaping @Sendable () -> Void) {
        precondition(!embedder.normalize)
        self.embedder = embedder
        self.index = index
        self.capacity = capacity
        self.maxTexts = maxTexts
        self.notify = notify
        vectors = [Float](repeating: 0, count: maxTexts * embedder.dimension)
        counts = [Int](repeating: 0, count: maxTexts)
        mutex = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        let box = Unmanaged.passRetained(self)
        let rc = pthread_create(&thread, nil, { arg in
            let engine = Unmanaged<EmbeddingEngine>.fromOpaque(arg!).takeRetainedValue()
            engine.loop()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "cannot start the engine thread")  // out of threads at start-up: nothing to serve with
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(wake)
        mutex.deallocate()
        wake.deallocate()
    }

    /// Queues a job; false when the queue is full (the caller answers 503 with Retry-After).
    func submit(_ job: Job) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard queue.count < capacity, !stopping else { return false }
        queue.append(job)
        pthread_cond_signal(wake)
        return true
    }

    /// The results finished since the last call.
    func takeDone() -> [Done] {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let d = done
        done.removeAll(keepingCapacity: true)
        return d
    }

    /// Jobs queued or running.
    var depth: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return queue.count + running
    }

    /// Finishes what is queued, then stops the thread and joins it.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
        pthread_join(thread, nil)
    }

    private func loop() {
        while true {
            pthread_mutex_lock(mutex)
            while queue.isEmpty && !stopping { pthread_cond_wait(wake, mutex) }
            if queue.isEmpty && stopping {
                pthread_mutex_unlock(mutex)
                return
            }
            // As many queued requests as fit maxTexts inputs; one larger request runs alone.
            var take = 0, inputs = 0
            while take < queue.count && (take == 0 || inputs + queue[take].request.inputs.count <= maxTexts) {
                inputs += queue[take].request.inputs.count
                take += 1
            }
            let jobs = Array(queue.prefix(take))
            queue.removeFirst(take)
            running = take
            pthread_mutex_unlock(mutex)

            let results = run(jobs, inputs: inputs)
            pthread_mutex_lock(mutex)
            done.append(contentsOf: results)
            running = 0
            pthread_mutex_unlock(mutex)
            notify()
        }
    }

    /// Runs the jobs' inputs as one list and cuts the results back per job.
    private func run(_ jobs: [Job], inputs total: Int) -> [Done] {
        let H = embedder.dimension
        var results: [Done] = []
        // Requests that refuse over-long texts (TEI's truncate = false) are checked first.
        var ok: [Job] = []
        for job in jobs {
            if job.request.strict, let (i, n) = overLong(job.request) {
                let e = APIError(status: 413, message: "input \(i) has \(n) tokens, past the max length of \(embedder.maxLength); send truncate: true to cut it", api: job.request.api)
                results.append(Done(connection: job.connection, serial: job.serial, status: 413, body: ServeAPI.errorBody(e), tokens: 0, passInputs: total))
            } else {
                ok.append(job)
            }
        }
        guard !ok.isEmpty else { return results }
        let inputs = ok.flatMap { $0.request.inputs }
        if inputs.count > vectors.count / H {  // a request larger than a pass: its own buffer
            vectors = [Float](repeating: 0, count: inputs.count * H)
            counts = [Int](repeating: 0, count: inputs.count)
        }
        let failure: EdgeBERTError? = vectors.withUnsafeMutableBufferPointer { v in
            counts.withUnsafeMutableBufferPointer { c in
                do throws(EdgeBERTError) {
                    try embedder.embed(inputs, into: v, tokens: c)
                    return nil
                } catch {
                    return error
                }
            }
        }
        var first = 0
        for job in ok {
            let n = job.request.inputs.count
            defer { first += n }
            if let failure {
                let e = APIError(status: 500, message: failure.description, api: job.request.api)
                results.append(Done(connection: job.connection, serial: job.serial, status: 500, body: ServeAPI.errorBody(e), tokens: 0, passInputs: inputs.count))
                continue
            }
            let tokens = counts[first..<(first + n)].reduce(0, +)
            if let k = job.request.k, let index {
                results.append(search(job, k: k, index: index, first: first, tokens: tokens, passInputs: inputs.count))
                continue
            }
            let body: [UInt8] = vectors.withUnsafeMutableBufferPointer { v in
                let mine = UnsafeMutableBufferPointer(rebasing: v[(first * H)..<((first + n) * H)])
                if job.request.normalize {
                    for i in 0..<n { PoolingOps.normalize(mine.baseAddress! + i * H, count: H) }
                }
                return ServeAPI.response(job.request, vectors: UnsafeBufferPointer(mine), dimension: H, tokens: tokens)
            }
            results.append(Done(connection: job.connection, serial: job.serial, status: 200, body: body,
                                tokens: tokens, passInputs: inputs.count))
        }
        // Back to the fixed size when a large request grew the buffers.
        if vectors.count > maxTexts * H {
            vectors = [Float](repeating: 0, count: maxTexts * H)
            counts = [Int](repeating: 0, count: maxTexts)
        }
        return results
    }

    /// A /search job: its queries' vectors (rows first..<first + n, cut to the index's width; the
    /// search normalises them) through the index.
    private func search(_ job: Job, k: Int, index: SearchIndex, first: Int, tokens: Int, passInputs: Int) -> Done {
        let H = embedder.dimension, D = index.identity.dims, n = job.request.inputs.count
        var q = [Float](repeating: 0, count: n * D)
        for i in 0..<n { for d in 0..<D { q[i * D + d] = vectors[(first + i) * H + d] } }
        do throws(EdgeBERTError) {
            let hits = try q.withUnsafeBufferPointer { (b: UnsafeBufferPointer<Float>) throws(EdgeBERTError) in try index.search(b, count: n, k: k) }
            return Done(connection: job.connection, serial: job.serial, status: 200, body: ServeAPI.searchResponse(job.request, hits: hits),
                        tokens: tokens, passInputs: passInputs)
        } catch {
            let e = APIError(status: 500, message: error.description, api: .search)
            return Done(connection: job.connection, serial: job.serial, status: 500, body: ServeAPI.errorBody(e), tokens: 0, passInputs: passInputs)
        }
    }

    /// The first text of the request past the max length, with its token count.
    private func overLong(_ r: EmbedRequest) -> (Int, Int)? {
        for (i, input) in r.inputs.enumerated() {
            if case .text(let t) = input, let n = embedder.tokenCountPastMax(t) { return (i, n) }
        }
        return nil
    }
}
